"""The entry wrapper of every tool: the one way a tool fails.

``sys.exit(run_tool(run, args, verbose=args.verbose))`` runs a tool's body
and turns a :class:`~escnet_mmseg.utils.errors.UserError` into one line,
``error: <message>`` on stderr, and exit status 1 (argparse keeps its own
status 2 for a malformed command line).
"""
import contextlib
import logging
import sys
import warnings
from typing import Any, Callable, Iterator

from .errors import UserError


@contextlib.contextmanager
def quiet_libraries(enabled: bool = True) -> Iterator[None]:
    """Hide the libraries' warnings and log messages below errors, so that
    stderr holds only what concerns the user (restored on exit).

    Args:
        enabled (bool): Hide them; False changes nothing. Defaults to True.
    """
    if not enabled:
        yield
        return
    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance('mmengine')
    level = logger.level
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        # torch.distributed.optim warns with simplefilter('always') on import.
        warnings.showwarning = lambda *args, **kwargs: None
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def run_tool(body: Callable[..., Any], *args, verbose: bool = True) -> int:
    """Call ``body(*args)`` and return the tool's exit status.

    * a :class:`UserError` (a missing file, a bad name, an output that
      exists, a checkpoint that does not fit): ``error: <message>``, 1
      (one line, or the list of problems a dataset check found);
    * Ctrl-C: ``interrupted``, 130;
    * any other exception: with ``verbose`` its traceback (a bug to report),
      otherwise ``error: <Type>: <message>``, 1 -- never a traceback for
      the inference tools, whose users asked for quiet output.

    Without ``verbose`` the libraries' warnings and log messages are hidden
    too (:func:`quiet_libraries`).

    Args:
        body (Callable): The tool's work; it may return an exit status
            (anything else counts as 0).
        *args (Any): Passed to ``body``.
        verbose (bool): Keep the libraries' output and the tracebacks of
            unexpected errors. Defaults to True.

    Returns:
        int: The exit status.
    """
    try:
        with quiet_libraries(not verbose):
            status = body(*args)
    except UserError as e:  # its whole message (a list of problems)
        return _fail(str(e).strip())
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001  one line, never a traceback
        if verbose:
            raise
        return _fail(f'{type(e).__name__}: {_first_line(e)}')
    return status if isinstance(status, int) else 0


def _fail(message: str) -> int:
    print(f'error: {message}', file=sys.stderr)
    return 1
