from .checkpoint import (extract_prefix, load_into, load_sam_checkpoint,
                         load_state_dict_file)
from .data_check import DatasetNotFoundError, check_dataset_folders
from .distributed import setup_cpu_distributed
from .errors import UserError, require_file
from .safe_checkpoint import (CheckpointError, check_model_keys,
                              load_checkpoint_strict, read_checkpoint)
from .safe_globals import register_safe_globals
from .vocabulary import (normalize_class_name, normalize_vocabulary,
                         primary_name, split_synonyms, validate_vocabulary)

# (also loaded early by the start-up hook, escnet_mmseg-mmcv-ext.pth)
from . import mmcv_ext, torch_hook  # noqa: E402,F401,I001  isort:skip

# `StrictCheckpointRunner` (MMEngine's runner) is imported from
# `escnet_mmseg.utils.strict_runner`, the entry wrapper `run_tool` from
# `escnet_mmseg.utils.cli`, by the tools.
__all__ = [
    'CheckpointError', 'DatasetNotFoundError', 'check_dataset_folders',
    'check_model_keys', 'extract_prefix', 'load_checkpoint_strict',
    'load_into', 'load_sam_checkpoint', 'load_state_dict_file',
    'normalize_class_name', 'normalize_vocabulary', 'primary_name',
    'read_checkpoint', 'register_safe_globals', 'setup_cpu_distributed',
    'require_file', 'split_synonyms', 'UserError', 'validate_vocabulary'
]
