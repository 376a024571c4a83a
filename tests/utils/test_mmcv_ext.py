"""The stand-in for mmcv's compiled ops (escnet_mmseg/utils/mmcv_ext.py)."""
import importlib
import importlib.util
import subprocess
import sys
import types

import pytest

from escnet_mmseg.utils import mmcv_ext


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    # A new interpreter of this environment: only the .pth start-up hook
    # can have installed anything (escnet_mmseg is not imported).
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_mmseg_models_import_without_escnet_mmseg():
    res = _fresh_python('import sys\n'
                        'import mmseg.models, mmcv.ops\n'
                        'assert "escnet_mmseg" not in sys.modules\n'
                        'from mmcv.utils import ext_loader\n'
                        'import mmcv._ext as ext\n'
                        'print("stand-in" if ext.__dict__.get('
                        '"__escnet_mmcv_ext_stand_in__") else "real")\n')
    assert res.returncode == 0, res.stderr[-3000:]
    real = importlib.util.find_spec('mmcv._ext')
    # Under mmcv-lite the finder of the stand-in answers; with full mmcv
    # the compiled extension is found first.
    expected = 'stand-in' if mmcv_ext.is_stand_in() else 'real'
    assert res.stdout.strip().splitlines()[-1] == expected
    assert real is not None


def test_calling_an_op_names_it_and_how_to_install_mmcv():
    if not mmcv_ext.is_stand_in():
        pytest.skip('full mmcv installed: its compiled ops are used')
    import torch
    from mmcv.ops import point_sample
    with pytest.raises(mmcv_ext.MissingMmcvOpError) as err:
        ext = importlib.import_module('mmcv._ext')
        ext.roi_align_forward(torch.zeros(1))
    assert '`roi_align_forward`' in str(err.value)
    assert 'mmcv==2.1.0' in str(err.value)
    assert 'README.md' in str(err.value)
    # Ops written in Python on top of torch still work (MMSeg's mask
    # classification helper uses this one).
    out = point_sample(torch.rand(1, 2, 4, 4), torch.rand(1, 3, 2))
    assert out.shape == (1, 2, 3)


def test_dunder_lookups_fail_normally():
    module = types.ModuleType('mmcv._ext')
    mmcv_ext._Loader().exec_module(module)
    assert mmcv_ext.is_stand_in(module)
    assert not hasattr(module, '__path__')  # not a package
    assert callable(module.anything)
    assert module.anything.__name__ == 'anything'


def test_no_op_when_the_real_extension_is_found(monkeypatch, tmp_path):
    """With full mmcv a regular finder finds ``mmcv._ext`` first; simulated
    by a package ``fakemmcv`` whose ``_ext`` exists, under the stand-in's
    name check for it."""
    pkg = tmp_path / 'fakemmcv'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('')
    (pkg / '_ext.py').write_text('COMPILED = True\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(mmcv_ext, 'EXT_NAME', 'fakemmcv._ext')
    assert mmcv_ext.installed()  # (escnet_mmseg installed it)
    assert not mmcv_ext.install()  # idempotent
    ext = importlib.import_module('fakemmcv._ext')
    assert ext.COMPILED and not mmcv_ext.is_stand_in(ext)
    # ... while a missing one is answered by the stand-in, last in line.
    (pkg / '_ext.py').unlink()
    for name in ('fakemmcv._ext', 'fakemmcv'):
        monkeypatch.delitem(sys.modules, name, raising=False)
    importlib.invalidate_caches()
    ext = importlib.import_module('fakemmcv._ext')
    assert mmcv_ext.is_stand_in(ext)
    monkeypatch.delitem(sys.modules, 'fakemmcv._ext')
    monkeypatch.delitem(sys.modules, 'fakemmcv')
    # one finder, however often install() ran
    assert sum(getattr(f, mmcv_ext.MARKER, False) for f in sys.meta_path) == 1


def test_mmseg_tool_reading_the_config_late_imports(tmp_path):
    """MMSeg's get_flops.py imports mmseg.apis (so mmcv.ops) before the
    config's custom_imports could import escnet_mmseg: the start-up hook
    has to be active."""
    from tests.tools.checkpoints import mmseg_tools_dir
    script = mmseg_tools_dir() / 'analysis_tools' / 'get_flops.py'
    res = subprocess.run([sys.executable, str(script), '-h'],
                         capture_output=True,
                         text=True,
                         cwd=tmp_path,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'usage' in res.stdout
