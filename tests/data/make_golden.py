"""Regenerate tests/data/golden_tiny.json (see tests/data/README.md).

    python tests/data/make_golden.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.golden import GOLDEN_FILE, write_golden  # noqa: E402

if __name__ == '__main__':
    golden = write_golden()
    for name, g in golden.items():
        print(f'{name}: {len(g["values"])} logits of {g["shape"]}')
    print(f'wrote {GOLDEN_FILE}')
