"""One docstring style across the package, checked rather than remembered.

MMSegmentation's Google style: every ``Args:`` entry is
``name (type): text``, names one parameter of the signature, and a parameter
with a default says ``Defaults to ...``; a ``Returns:`` section starts with
its type (``Tensor: (B, T, H, W) logits.``). Shapes go in the text.
"""
import ast
import os.path as osp
import re
from glob import glob
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = osp.join(ROOT, 'escnet_mmseg')

ARG_ENTRY = re.compile(r'^(\*{0,2}\w+) \((.+?)\): \S')
TYPED_RETURN = re.compile(r'^[A-Za-z_][\w\[\], .|]*: \S')
SECTION = re.compile(r'^(\w[\w ]*):$')
Definition = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _section(doc: str, name: str) -> Optional[List[Tuple[int, str]]]:
    """Lines of one section as (indent relative to the section, text)."""
    lines = doc.expandtabs().splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f'{name}:':
            base = len(line) - len(line.lstrip())
            out = []
            for nxt in lines[i + 1:]:
                indent = len(nxt) - len(nxt.lstrip())
                if nxt.strip() and indent <= base:
                    break
                out.append((indent - base - 4, nxt.strip()))
            return out
    return None


def _signature(node) -> Tuple[set, Dict[str, ast.expr]]:
    """Parameter names (``*args``/``**kwargs`` with stars) and defaults."""
    if isinstance(node, ast.ClassDef):
        node = next(
            (n for n in node.body
             if isinstance(n, ast.FunctionDef) and n.name == '__init__'), None)
        if node is None:  # NamedTuple / dataclass: documented fields
            return None, {}
    args = node.args
    positional = args.posonlyargs + args.args
    names = {a.arg for a in positional + args.kwonlyargs}
    names |= {'*' + args.vararg.arg} if args.vararg else set()
    names |= {'**' + args.kwarg.arg} if args.kwarg else set()
    defaults = dict(
        zip([a.arg for a in positional][-len(args.defaults):],
            args.defaults)) if args.defaults else {}
    defaults.update({
        a.arg: d
        for a, d in zip(args.kwonlyargs, args.kw_defaults) if d
    })
    return names, defaults


def _arg_entries(lines: List[Tuple[int, str]]) -> Iterator[List[str]]:
    entry: List[str] = []
    for indent, text in lines:
        if indent == 0 and text:
            if entry:
                yield entry
            entry = [text]
        elif entry:
            entry.append(text)
    if entry:
        yield entry


def style_problems(source: str, filename: str = '<src>') -> List[str]:
    """Every departure from the style in one module's docstrings."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, Definition):
            continue
        doc = ast.get_docstring(node)
        if not doc:
            continue
        where = f'{filename}:{node.lineno} {node.name}'
        for other in ('Arguments', 'Parameters', 'Keyword Args', 'Kwargs'):
            if _section(doc, other) is not None:
                problems.append(f'{where}: "{other}:" section, use "Args:"')
        args = _section(doc, 'Args')
        if args is not None:
            names, defaults = _signature(node)
            for entry in _arg_entries(args):
                match = ARG_ENTRY.match(entry[0])
                if not match:
                    problems.append(f'{where}: "{entry[0]}" is not '
                                    f'"name (type): text"')
                    continue
                name, text = match.group(1), ' '.join(entry)
                if names is not None and name not in names:
                    problems.append(f'{where}: documents "{name}", which is '
                                    f'not a parameter')
                if name in defaults and 'Defaults to' not in text:
                    problems.append(f'{where}: "{name}" has a default but no '
                                    f'"Defaults to ..."')
        returns = _section(doc, 'Returns')
        if returns and not TYPED_RETURN.match(returns[0][1]):
            problems.append(f'{where}: Returns does not start with its type: '
                            f'"{returns[0][1]}"')
    return problems


def test_package_docstrings_follow_one_style():
    problems = []
    for path in sorted(glob(osp.join(PACKAGE, '**', '*.py'), recursive=True)):
        with open(path) as f:
            problems += style_problems(f.read(), osp.relpath(path, ROOT))
    assert not problems, '\n'.join(problems)


GOOD = '''
def f(x, size: int = 3, *args, **kwargs):
    """Doc.

    Args:
        x (Tensor): Input (B, C, H, W),
            continued.
        size (int): Size. Defaults to 3.
        *args: see below.
        **kwargs (dict): Passed on.

    Returns:
        Tensor: (B, C, H, W).
    """
'''


@pytest.mark.parametrize('bad,message', [
    (('x (Tensor): Input', 'x: Input'), 'is not "name (type): text"'),
    (('Size. Defaults to 3.', 'Size.'), 'has a default but no'),
    (('size (int)', 'sizes (int)'), 'not a parameter'),
    (('Tensor: (B, C, H, W).', '(B, C, H, W) tensor.'), 'Returns does not'),
    (('Args:', 'Arguments:'), '"Arguments:" section'),
])
def test_checker_reports_each_departure(bad, message):
    # The untouched example is clean except for the untyped ``*args``.
    assert style_problems(GOOD) == [
        '<src>:2 f: "*args: see below." is not "name (type): text"'
    ]
    problems = style_problems(GOOD.replace(*bad))
    assert any(message in p for p in problems), problems
