"""The code a chapter teaches is written in its cells, and stays the same
code as its twin in ganlib.

A teaching cell marks each definition that ganlib also holds with a
comment on the line above it (above its decorators, if any)::

    # twin: ganlib.losses.d_loss
    def d_loss(real_logits, fake_logits):
        ...

The test parses the cell and the ganlib source and compares the two
definitions' syntax trees, docstrings left out (a cell may explain in
markdown what the library says in its docstring); comments and
formatting are not part of the tree. A twin may be a function, a class
or a method (``# twin: ganlib.tricks.BatchedLinear.forward`` above a
``def forward`` inside a class the cell defines).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import textwrap
from pathlib import Path

import pytest

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
MARKER = re.compile(r"^\s*#\s*twin:\s*(ganlib(?:\.\w+)+)\s*$")
# a chapter that teaches code writes it in its cells: every chapter from
# here on holds at least this many twins
FIRST_TEACHING_CHAPTER, MIN_TWINS = 2, 1


def _code_cells(path: Path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            yield index, "".join(cell["source"])


def _python(source: str) -> str:
    # IPython magics and shell escapes are not Python; blank them, keeping
    # line numbers
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def twins(path: Path) -> list[tuple[int, int, str, ast.AST]]:
    """(cell, line, ganlib path, the cell's definition) for every marker."""
    found = []
    for index, source in _code_cells(path):
        lines = source.splitlines()
        marked = {i + 2: m.group(1) for i, line in enumerate(lines)
                  if (m := MARKER.match(line))}  # 1-based line below
        if not marked:
            continue
        tree = ast.parse(_python(source))
        defs = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.ClassDef)):
                first = min([node.lineno]
                            + [d.lineno for d in node.decorator_list])
                defs[first] = node
        for line, target in marked.items():
            if line not in defs:
                raise AssertionError(
                    f"{path.name} cell {index} line {line - 1}: the marker "
                    f"'# twin: {target}' must sit on the line just above a "
                    f"def or class (or its decorators)")
            found.append((index, line - 1, target, defs[line]))
    return found


def _resolve(target: str):
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(target)


def _strip_docstrings(node: ast.AST) -> ast.AST:
    for sub in ast.walk(node):
        body = getattr(sub, "body", None)
        if (isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef, ast.Module)) and body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            sub.body = body[1:] or [ast.Pass()]
    return node


def _dump(node: ast.AST) -> str:
    return ast.dump(_strip_docstrings(node), include_attributes=False)


def library_definition(target: str) -> ast.AST:
    obj = _resolve(target)
    obj = inspect.unwrap(obj) if callable(obj) else obj
    source = textwrap.dedent(inspect.getsource(obj))
    return ast.parse(source).body[0]


ALL_TWINS = [(path.name, *twin) for path in NOTEBOOKS
             for twin in twins(path)]


@pytest.mark.parametrize(
    "notebook, cell, line, target, node", ALL_TWINS,
    ids=[f"{nb}:{target}" for nb, _, _, target, _ in ALL_TWINS])
def test_teaching_cell_is_its_ganlib_twin(notebook, cell, line, target,
                                          node):
    theirs = library_definition(target)
    mine, lib = _dump(node), _dump(theirs)
    if mine != lib:
        cell_src = ast.unparse(_strip_docstrings(node)).splitlines()
        lib_src = ast.unparse(_strip_docstrings(theirs)).splitlines()
        first = next((i for i, (a, b) in enumerate(zip(cell_src, lib_src))
                      if a != b), min(len(cell_src), len(lib_src)))
        pytest.fail(
            f"{notebook} cell {cell} (marker on line {line}) differs from "
            f"{target}; first difference at line {first + 1} of the "
            f"definition:\n  cell:   "
            f"{cell_src[first] if first < len(cell_src) else '<end>'}\n"
            f"  ganlib: "
            f"{lib_src[first] if first < len(lib_src) else '<end>'}\n"
            f"Edit one to match the other.")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_printed_or_included_library_source(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        assert "getsource" not in source, (
            f"{path.name} cell {index} prints library source; write the "
            f"code in the cell and mark it '# twin: ganlib.<path>'")
        assert "literalinclude" not in source, (
            f"{path.name} cell {index} includes a source file; Jupyter and "
            f"Colab show the bare directive. Write the code in a cell")


@pytest.mark.parametrize(
    "path", [p for p in NOTEBOOKS
             if int(p.name[:2]) >= FIRST_TEACHING_CHAPTER],
    ids=lambda p: p.name)
def test_chapter_writes_its_code(path):
    assert len(twins(path)) >= MIN_TWINS, (
        f"{path.name} has no teaching cell with a '# twin: ganlib...' "
        f"marker: the code it teaches is not written in the page")


def test_a_changed_twin_is_caught(tmp_path):
    # the comparison must see a one-token change and ignore docstrings
    nb = {"cells": [{"cell_type": "code", "source": [
        "# twin: ganlib.losses.d_loss\n",
        "def d_loss(real_logits, fake_logits):\n",
        "    return real_logits.mean()\n"]}]}
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps(nb))
    (_, _, target, node), = twins(path)
    assert _dump(node) != _dump(library_definition(target))
    doc_changed = library_definition(target)
    assert ast.get_docstring(doc_changed), "the oracle needs a docstring"
    doc_changed.body[0].value.value = "another docstring"
    assert _dump(doc_changed) == _dump(library_definition(target))
    misplaced = {"cells": [{"cell_type": "code", "source": [
        "# twin: ganlib.losses.d_loss\n", "\n", "x = 1\n"]}]}
    path.write_text(json.dumps(misplaced))
    with pytest.raises(AssertionError, match="just above a def"):
        twins(path)
