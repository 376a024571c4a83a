"""Install script of escnet_mmseg (ESC-Net for MMSegmentation 1.x)."""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


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
    # The benchmarks' prompt lists (escnet_mmseg/datasets/prompts.py).
    package_data={'escnet_mmseg.datasets': ['class_lists/*.json']},
    install_requires=(read_requirements('torch') + read_requirements('mmcv') +
                      read_requirements('runtime')),
    extras_require=dict(
        tests=read_requirements('tests'), webui=read_requirements('webui')),
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
