"""The glue helper, and the rule that measured numbers in prose are
glued: a percentage or decimal typed into a chapter's markdown fails
unless it is a setting that the code also holds, a published figure
(cited on the same line), or on a short allow-list."""

from __future__ import annotations

import builtins
import json
import re
from pathlib import Path

import pytest

from ganlib import book

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
# a percentage (integer or decimal) or a decimal number
NUMBER = re.compile(r"(?<![\w.$\\])(\d+(?:,\d{3})*(?:\.\d+)?)\s*(\\?%)"
                    r"|(?<![\w.\\])(\d+\.\d+)(?![\w.])")
LITERAL = re.compile(r"(?<![\w.])\d+(?:_\d{3})*(?:\.\d+)?(?:e-?\d+)?")
# numbers that are neither settings nor measurements: section numbers of
# exercises, and arithmetic the prose works out
ALLOWED = {
    "01_generative_modelling.ipynb": {"1.05"},  # an exercise's bound
    # sqrt(1 + 0.25), and a Gaussian's mass within one std
    "05_gans_1d.ipynb": {"1.12", "68"},
    # 3 std of 0.02, and 1 - exp(-9/2), a 2-D Gaussian within 3 std
    "08_training_tricks.ipynb": {"0.06", "98.9"},
}
EXERCISE = re.compile(r"Exercises? \d+\.\d+(?: and \d+\.\d+)?")


def _values(text: str) -> set[float]:
    # the numeric value of every literal, so 2e-3 in code matches 0.002
    return {round(float(x.replace("_", "")), 9) for x in LITERAL.findall(text)}


def _library_literals() -> set[float]:
    found: set[float] = set()
    for path in (ROOT / "ganlib").rglob("*.py"):
        found |= _values(path.read_text())
    return found


LIBRARY = _library_literals()


def typed_numbers(nb: dict, allowed: set[str] = frozenset()):
    """(cell, number, line) for every unglued measured-looking number."""
    code = "\n".join("".join(c["source"]) for c in nb["cells"]
                     if c["cell_type"] == "code")
    settings = _values(code) | LIBRARY | {float(a) for a in allowed}
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if "{cite" in line:  # a published figure, cited where it is
                continue
            text = re.sub(r"\{glue(?::\w+)?\}`[^`]*`", "", line)
            text = re.sub(r"`[^`]*`", "", EXERCISE.sub("", text))
            for m in NUMBER.finditer(text):
                number = (m.group(1) or m.group(3)).replace(",", "")
                forms = {round(float(number), 9)}
                if m.group(2):  # 90% is the setting 0.9
                    forms.add(round(float(number) / 100, 9))
                if not forms & settings:
                    yield index, m.group(0), line.strip()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_number_is_typed_into_the_prose(path):
    found = list(typed_numbers(json.loads(path.read_text()),
                               ALLOWED.get(path.name, set())))
    assert not found, (
        f"{path.name}: numbers typed into markdown; glue them from the "
        f"code that computes them (ganlib.book.glue and the {{glue:text}} "
        f"role), cite their source on the same line, or delete them:\n"
        + "\n".join(f"  cell {i}: {n!r} in: {line}" for i, n, line in found))


def test_the_rule_catches_a_typed_figure_and_passes_a_glued_one():
    cell = {"cell_type": "markdown", "source": [
        "The generator reaches 83.7% confident samples."]}
    nb = {"cells": [cell]}
    assert [n for _, n, _ in typed_numbers(nb)] == ["83.7%"]
    cell["source"] = ["It reaches {glue:text}`conf:.1%` confident samples."]
    assert not list(typed_numbers(nb))
    cell["source"] = ["The paper reports 0.93% {cite}`salimans2016`."]
    assert not list(typed_numbers(nb))
    nb["cells"].append({"cell_type": "code", "source": ["lr = 0.0123\n"]})
    cell["source"] = ["a learning rate of 0.0123"]
    assert not list(typed_numbers(nb))  # a setting the code holds


def test_glue_prints_without_myst_nb(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_myst(name, *args, **kwargs):
        if name.startswith("myst_nb"):
            raise ImportError("no myst_nb here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_myst)
    assert book.glue("share", 0.5) == 0.5
    assert "share = 0.5" in capsys.readouterr().out
    with pytest.raises(ValueError, match="non-empty string"):
        book.glue("", 1)


def test_glue_uses_myst_nb_when_present(monkeypatch):
    myst_glue = pytest.importorskip("myst_nb").glue
    calls = []
    monkeypatch.setattr("myst_nb.glue",
                        lambda *a, **k: calls.append((a, k)))
    assert book.glue("x", 3) == 3
    assert calls == [(("x", 3), {"display": False})]
    assert callable(myst_glue)
