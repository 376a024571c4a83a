"""Run the shell commands of the documentation as written, offline.

``code_blocks`` reads the fenced blocks of a markdown file (also those
indented in a list). ``DocShell`` runs a block with ``bash -e`` in a scratch
folder laid out like a checkout (``tools/``, ``configs/`` linked to this
one), where ``python`` is this interpreter with this checkout's package and
``wget`` copies files from a folder of fakes instead of downloading (it
fails for any URL without a fake, and logs every URL it was given).
"""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

from tests.tools.checkpoints import tool_env

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / 'docs'
_FENCE = re.compile(r'^(\s*)```(\w*)\s*$')
_FAKE_WGET = '''#!/bin/sh
# wget [-P DIR] [-q] URL ...: a copy of "$FAKE_DOWNLOADS/<URL's file name>"
dir=.
while [ $# -gt 0 ]; do
  case "$1" in
    -P) dir="$2"; shift 2;;
    -*) shift;;
    *) echo "$1" >> "$FAKE_DOWNLOADS/urls.log"
       mkdir -p "$dir" && cp "$FAKE_DOWNLOADS/$(basename "$1")" "$dir/" \\
         || { echo "wget: no fake for $1" >&2; exit 8; }
       shift;;
  esac
done
'''


def code_blocks(markdown: Path, lang: str = 'bash') -> List[str]:
    """The fenced ``lang`` blocks of a markdown file, dedented, in order."""
    blocks, current, indent = [], None, ''
    for line in Path(markdown).read_text().splitlines():
        fence = _FENCE.match(line)
        if current is None and fence and fence.group(2) == lang:
            current, indent = [], fence.group(1)
        elif current is not None and fence and not fence.group(2):
            blocks.append(textwrap.dedent('\n'.join(current)) + '\n')
            current = None
        elif current is not None:
            current.append(
                line[len(indent):] if line.startswith(indent) else line)
    return blocks


def block_with(markdown: Path, text: str, lang: str = 'bash') -> str:
    """The one block of ``markdown`` that contains ``text``."""
    found = [b for b in code_blocks(markdown, lang) if text in b]
    assert len(found) == 1, f'{len(found)} blocks with {text!r} in {markdown}'
    return found[0]


def commands(block: str) -> List[str]:
    """The commands of a block: continuation lines joined, comments and
    blank lines dropped."""
    joined = block.replace('\\\n', ' ')
    return [
        line.strip() for line in joined.splitlines()
        if line.strip() and not line.strip().startswith('#')
    ]


class DocShell:
    """A scratch checkout in which documented commands run offline.

    Args:
        root (Path): Empty folder to become the checkout.
        fakes (Path): Folder of the files ``wget`` hands out.
    """

    def __init__(self, root: Path, fakes: Path) -> None:
        self.root, self.fakes = Path(root), Path(fakes)
        self.root.mkdir(parents=True)
        for name in ('tools', 'configs'):
            (self.root / name).symlink_to(REPO / name)
        bin_dir = self.root.parent / (self.root.name + '_bin')
        bin_dir.mkdir()
        (bin_dir / 'wget').write_text(_FAKE_WGET)
        (bin_dir /
         'python').write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
        for tool in bin_dir.iterdir():
            tool.chmod(0o755)
        self.env = tool_env()
        self.env.update(
            PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
            FAKE_DOWNLOADS=str(self.fakes),
            HF_HOME=str(self.root.parent / (self.root.name + '_hf')))

    def run(self,
            script: str,
            timeout: float = 600) -> subprocess.CompletedProcess:
        """Run ``script`` with ``bash -e`` in the checkout."""
        return subprocess.run(['bash', '-e', '-c', script],
                              cwd=self.root,
                              env=self.env,
                              capture_output=True,
                              text=True,
                              timeout=timeout)

    def urls(self) -> List[str]:
        """Every URL ``wget`` was given so far."""
        log = self.fakes / 'urls.log'
        return log.read_text().split() if log.exists() else []
