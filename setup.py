"""Install script of escnet_mmseg (ESC-Net for MMSegmentation 1.x)."""
import os.path as osp
from setuptools import Distribution, find_packages, setup

# distutils' install_data, as setuptools provides it (no distutils on 3.12).
_install_data = Distribution().get_command_class('install_data')

HERE = osp.dirname(osp.abspath(__file__))
# Start-up hook: installs the stand-in for mmcv's compiled ops (mmcv-lite) in
# every Python process of the environment, see escnet_mmseg/utils/mmcv_ext.py.
STARTUP_HOOK = 'escnet_mmseg-mmcv-ext.pth'


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments;
    ``-r other.txt`` lines are expanded."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        reqs = []
        for line in filter(None, lines):
            if line.startswith('-r '):
                reqs += read_requirements(line[3:].strip()[:-len('.txt')])
            else:
                reqs.append(line)
        return reqs


class InstallDataIntoSitePackages(_install_data):
    """``install_data`` that puts the ``.pth`` start-up hook next to the
    installed packages (site-packages, where Python reads ``.pth`` files),
    not under the environment's prefix; pip's editable installs run it too.
    """

    def run(self):
        super().run()
        target = self.get_finalized_command('install').install_lib
        self.mkpath(target)
        out, _ = self.copy_file(osp.join(HERE, STARTUP_HOOK), target)
        self.outfiles.append(out)


class EditableDataDistribution(Distribution):
    """Runs ``install_data`` in editable installs too: setuptools'
    ``editable_wheel`` asks the distribution ``has_data()`` (not
    ``has_data_files()``) before running it."""

    def has_data(self) -> bool:
        return self.has_data_files()


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join(HERE, 'escnet_mmseg', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='escnet_mmseg',
    version=read_version(),
    description='ESC-Net (CVPR 2025): Effective SAM Combination for '
    'Open-Vocabulary Semantic Segmentation, as an MMSegmentation extension',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['escnet_mmseg', 'escnet_mmseg.*']),
    include_package_data=True,
    # The benchmarks' prompt lists (escnet_mmseg/datasets/prompts.py) and
    # PC-459's validation ids (pascal_context_val_ids).
    package_data={
        'escnet_mmseg.datasets': ['class_lists/*.json', 'splits/*.txt']
    },
    # torch and mmcv are left to requirements/ (two tested stacks: torch.txt
    # and latest.txt) or the extras: `[lite]` installs mmcv-lite (the
    # default), `[full]` the compiled mmcv; both at once would overwrite each
    # other's files.
    install_requires=['torch>=2.1', 'torchvision', 'numpy'] +
    read_requirements('runtime'),
    extras_require=dict(
        lite=read_requirements('mmcv'),
        full=['mmcv==2.1.0'],
        tests=read_requirements('tests'),
        webui=read_requirements('webui')),
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    # No data files; the entry makes setuptools (and pip's editable installs)
    # run install_data, which installs the start-up hook into site-packages.
    data_files=[('', [])],
    cmdclass=dict(install_data=InstallDataIntoSitePackages),
    distclass=EditableDataDistribution,
    zip_safe=False,
)
