from .checkpoint import (extract_prefix, load_into, load_sam_checkpoint,
                         load_state_dict_file)

__all__ = [
    'extract_prefix', 'load_into', 'load_sam_checkpoint', 'load_state_dict_file'
]
