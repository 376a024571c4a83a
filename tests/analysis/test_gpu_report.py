"""gpu-report on the tiny config (tools/gpu_check.sh --small)."""
import pytest

from escnet_mmseg.analysis.gpu_report import ReportSettings, gpu_report
from escnet_mmseg.analysis.gpu_report_markdown import report_markdown


@pytest.mark.slow
def test_gpu_report_small_writes_the_tables():
    """Every measurement gives a row, the no-SAM model is the same config
    with sam_block=None, and the markdown has the three tables."""
    settings = ReportSettings(
        device='cpu',
        small=True,
        repeats=1,
        report_classes=[3],
        dtypes=['fp32', 'bf16'])
    res = gpu_report(settings)
    rows = res['inference']
    assert [(r['mode'], r['dtype'], r['views'])
            for r in rows] == [('whole', 'fp32', 1), ('whole', 'bf16', 1),
                               ('slide_global', 'fp32', 5),
                               ('slide_global', 'bf16', 5)]
    assert all(r['no_sam_s'] > 0 and r['escnet_s'] > 0 for r in rows)
    assert [(r['with_cp'], r['amp']) for r in res['train']] == [(False, False),
                                                                (False, True),
                                                                (True, False),
                                                                (True, True)]
    assert all('error' not in r for r in rows + res['train'])
    text = report_markdown(res)
    assert text.count('| tiny | 3 |') == 4
    assert '| ESC-Net / no SAM |' in text and '| with_cp | AMP |' in text
