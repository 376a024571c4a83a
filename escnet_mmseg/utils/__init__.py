from .checkpoint import (extract_prefix, load_into, load_sam_checkpoint,
                         load_state_dict_file)
from .distributed import setup_cpu_distributed

__all__ = [
    'extract_prefix', 'load_into', 'load_sam_checkpoint',
    'load_state_dict_file', 'setup_cpu_distributed'
]
