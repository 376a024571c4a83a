"""Import a script of tools/ as a module (tools/ is not a package)."""
import importlib.util
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(relpath: str):
    """``load_tool('tools/dataset_converters/ade20k_847.py')``."""
    name = 'escnet_tool_' + relpath.replace('/', '_')[:-len('.py')]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    # Registered so that worker processes can unpickle its functions.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
