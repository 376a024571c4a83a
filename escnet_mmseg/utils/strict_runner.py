"""MMEngine's runner, loading checkpoints strictly (and safely unless told).

``tools/train.py`` and ``tools/test.py`` build this runner. Compared with
MMEngine's ``Runner``, only :meth:`load_checkpoint` differs: a checkpoint
whose keys or shapes do not match the model is refused instead of being
loaded partly (which evaluated a half-random model as if it were real), and
an unreadable one is an error naming the file.

* ``load_from`` (testing, or fine-tuning from a checkpoint) is read without
  running code from the file (``weights_only``), unless
  :attr:`trust_checkpoint` is set;
* ``resume`` continues one's own training and keeps MMEngine's full loading
  (optimizer and scheduler states need it), still strictly.
"""
from typing import Callable, Sequence, Tuple, Union

from mmengine.runner import Runner

from .safe_checkpoint import (DEFAULT_REVISE_KEYS, load_checkpoint_strict,
                              read_checkpoint)


class StrictCheckpointRunner(Runner):
    """``mmengine.runner.Runner`` with strict (and safe) checkpoint loading.

    Attributes:
        trust_checkpoint: Read ``load_from`` with full pickle (runs code
            from the file). False by default; ``--trust-checkpoint``.
    """

    trust_checkpoint: bool = False
    _resuming: bool = False

    def resume(self, filename: str, *args, **kwargs) -> None:
        """MMEngine's resume; the file is one's own, so fully unpickled."""
        self._resuming = True
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(
        self,
        filename: str,
        map_location: Union[str, Callable] = 'cpu',
        strict: bool = True,
        revise_keys: Sequence[Tuple[str, str]] = (DEFAULT_REVISE_KEYS)
    ) -> dict:
        """Load ``filename`` into the model; refuse what does not fit.

        ``strict`` is ignored: loading is always strict.

        Raises:
            CheckpointError: Unreadable, unsafe (``load_from`` without
                trust) or not fitting the model.
        """
        trust = self._resuming or self.trust_checkpoint
        checkpoint = read_checkpoint(filename, trust, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_checkpoint_strict(
            self.model,
            filename,
            revise_keys=revise_keys,
            checkpoint=checkpoint)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
