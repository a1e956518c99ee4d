"""Homework: student versions, exercise checks, and the Colab setup cell."""

import ast
import sys
import types
from pathlib import Path

import nbformat
import pytest

from ganlib import checks, colab, student

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
IDS = [p.stem for p in CHAPTERS]


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def exercises(nb) -> list[tuple]:
    """(solution cells, check cell) pairs: solutions precede their check."""
    pairs, solutions = [], []
    for cell in nb.cells:
        if nbgrader(cell).get("solution"):
            solutions.append(cell)
        elif nbgrader(cell).get("grade"):
            pairs.append((solutions, cell))
            solutions = []
    return pairs


def import_lines(nb) -> str:
    """Every import statement of the notebook, as one block of code."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: no imports to take
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                lines.append(ast.unparse(node))
    return "\n".join(lines)


def run_exercise(nb, solutions, check) -> None:
    namespace: dict = {}
    exec(import_lines(nb), namespace)
    for cell in solutions:
        exec(cell.source, namespace)
    exec(check.source, namespace)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_has_checked_exercises(path):
    nb = nbformat.read(path, as_version=4)
    pairs = exercises(nb)
    assert len(pairs) >= 2, f"{path.name}: needs >= 2 checked exercises"
    lines = [line for c in nb.cells if c.cell_type == "markdown"
             for line in c.source.splitlines()]
    assert "## Exercises" in lines, f"{path.name}: no Exercises section"
    for solutions, check in pairs:
        assert solutions, f"{check.metadata.nbgrader['grade_id']}: a check " \
                          "cell with no solution cell before it"
        for cell in solutions:
            assert "### BEGIN SOLUTION" in cell.source


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_teacher_version_passes_its_checks(path, capsys):
    nb = nbformat.read(path, as_version=4)
    for solutions, check in exercises(nb):
        run_exercise(nb, solutions, check)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_student_version_keeps_cells_and_fails_every_check(path, tmp_path):
    teacher = nbformat.read(path, as_version=4)
    out = student.convert(path, tmp_path)
    pupil = nbformat.read(out, as_version=4)
    nbformat.validate(pupil)
    assert len(pupil.cells) == len(teacher.cells)
    for t, s in zip(teacher.cells, pupil.cells):
        if nbgrader(t).get("solution"):
            assert "raise NotImplementedError" in s.source
            assert "### BEGIN SOLUTION" not in s.source
        elif nbgrader(t).get("grade"):
            assert "BEGIN HIDDEN TESTS" not in s.source
        else:
            assert s.source == t.source  # every other cell is intact
        if s.cell_type == "code":
            assert not s.outputs
    for solutions, check in exercises(pupil):
        with pytest.raises((checks.CheckFailed, NotImplementedError)):
            run_exercise(pupil, solutions, check)


def test_student_command_rejects_a_missing_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a notebook"):
        student.convert(tmp_path / "nope.ipynb", tmp_path)


def test_student_command_refuses_to_overwrite_the_teacher_notebook(
        tmp_path, monkeypatch, capsys):
    small = min(CHAPTERS, key=lambda p: p.stat().st_size)
    teacher = tmp_path / small.name
    teacher.write_bytes(small.read_bytes())
    other = tmp_path / "elsewhere" / "other.ipynb"
    other.parent.mkdir()
    other.write_bytes(small.read_bytes())
    monkeypatch.chdir(tmp_path)
    # "." is the teacher's folder spelled another way; the notebook that
    # could be written safely must not be written either
    with pytest.raises(SystemExit):
        student.main(["-o", ".", str(other), small.name])
    assert "teacher's notebook itself" in capsys.readouterr().err
    assert teacher.read_bytes() == small.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        sorted([small.name, "elsewhere"])
    with pytest.raises(ValueError, match="overwrite"):
        student.convert(teacher, tmp_path)
    assert teacher.read_bytes() == small.read_bytes()


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_chapter_opens_with_the_current_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and colab.TAG in code[0].metadata.get("tags", [])
    assert code[0].source == colab.setup_cell_source()


def _run_setup_cell(monkeypatch, on_colab: bool) -> list:
    calls = []
    fake = types.SimpleNamespace(run=lambda cmd, check: calls.append(cmd))
    monkeypatch.setitem(sys.modules, "subprocess", fake)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab",
                            types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(colab.setup_cell_source(), {})
    return calls


def test_setup_cell_installs_from_the_configured_repository_on_colab(
        monkeypatch):
    calls = _run_setup_cell(monkeypatch, on_colab=True)
    url = colab.repository_url()
    assert url.startswith("https://")
    assert len(calls) == 1 and calls[0][-1] == f"git+{url}"
    assert calls[0][1:4] == ["-m", "pip", "install"]


def test_setup_cell_does_nothing_elsewhere(monkeypatch):
    assert _run_setup_cell(monkeypatch, on_colab=False) == []


def test_repository_url_is_written_once():
    url = colab.repository_url()
    hits = [p for p in ROOT.rglob("*") if p.is_file()
            and ".venv" not in p.parts and "_build" not in p.parts
            and ".git" not in p.parts and p.suffix in
            {".py", ".md", ".yml", ".toml", ".cfg"}
            and url in p.read_text(errors="ignore")]
    assert [p.name for p in hits] == ["_config.yml"]
