"""The tools' one way to fail: ``error: ...`` on stderr and exit status 1."""
import logging
import warnings

import pytest

from escnet_mmseg.utils import CheckpointError, DatasetNotFoundError, UserError
from escnet_mmseg.utils.cli import run_tool
from escnet_mmseg.utils.conversion import ConversionError


def _raise(error):
    raise error


@pytest.mark.parametrize('error', [
    UserError('no such file or folder: x.jpg'),
    CheckpointError('no such file or folder: x.jpg'),
    DatasetNotFoundError('no such file or folder: x.jpg'),
    ConversionError('no such file or folder: x.jpg'),
])
def test_user_errors_are_one_line(error, capsys):
    assert run_tool(_raise, error) == 1
    assert capsys.readouterr().err == 'error: no such file or folder: x.jpg\n'
    assert isinstance(error, UserError)


def test_unexpected_errors(capsys):
    # quiet (the inference tools): one line naming the type
    assert run_tool(_raise, ValueError('bad\nlayout'), verbose=False) == 1
    assert capsys.readouterr().err == 'error: ValueError: bad\n'
    # verbose: the traceback of a bug
    with pytest.raises(ValueError):
        run_tool(_raise, ValueError('bad'))
    assert run_tool(_raise, KeyboardInterrupt()) == 130
    assert capsys.readouterr().err == 'interrupted\n'


def test_exit_status_and_quiet_libraries(capsys):
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('mmengine')
    level = logger.level

    def body(status):
        warnings.warn('noise')
        assert logger.level == logging.ERROR
        return status

    assert run_tool(body, 3, verbose=False) == 3
    assert run_tool(body, dict(mIoU=1.0), verbose=False) == 0
    assert logger.level == level
    assert capsys.readouterr().err == ''
