"""Homework: student versions, exercise checks, the Colab setup cell, and
the student notebooks' links on the website."""

import ast
import importlib.util
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

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


# --- the student notebooks on the website: chapters/_ext/student_links.py

def _student_links_extension():
    path = ROOT / "chapters" / "_ext" / "student_links.py"
    spec = importlib.util.spec_from_file_location("student_links", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _book_config() -> types.SimpleNamespace:
    """The extension's settings as Jupyter Book passes them to Sphinx."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    return types.SimpleNamespace(
        html_theme_options={"repository_url": cfg["repository"]["url"]},
        student_colab_url=_student_links_extension().COLAB,
        **{k: v for k, v in cfg["sphinx"]["config"].items()
           if k.startswith("student_")})


def _fake_page(docname: str, suffix: str):
    """A fake Sphinx app and the doctree of a page with a title."""
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    doctree = new_document(docname, get_default_settings(Parser))
    section = nodes.section(ids=["title"], names=["title"])
    section += nodes.title("", "6. DCGAN")
    section += nodes.paragraph("", "The chapter.")
    doctree += section
    app = types.SimpleNamespace(
        config=_book_config(),
        env=types.SimpleNamespace(doc2path=lambda d: ROOT / f"{d}{suffix}"))
    return app, doctree


def test_chapter_page_links_to_its_student_notebook_and_colab():
    from docutils import nodes
    from docutils.core import publish_from_doctree

    ext = _student_links_extension()
    app, doctree = _fake_page("chapters/06_dcgan", ".ipynb")
    ext.add_student_links(app, doctree, "chapters/06_dcgan")
    section = next(iter(doctree.findall(nodes.section)))
    assert isinstance(section[1], nodes.admonition)  # right under the title
    links = [r["refuri"] for r in section[1].findall(nodes.reference)]
    cfg = app.config
    owner, repo = colab.repository_url().rstrip("/").split("/")[-2:]
    assert links == [
        f"../{cfg.student_site_dir}/06_dcgan.ipynb",
        f"{ext.COLAB}/github/{owner}/{repo}/blob/{cfg.student_branch}/"
        "06_dcgan.ipynb"]
    html = publish_from_doctree(doctree, writer_name="html5").decode()
    assert f'href="../{cfg.student_site_dir}/06_dcgan.ipynb"' in html
    assert "open it in Colab" in html


def test_pages_that_are_not_notebooks_get_no_student_links():
    from docutils import nodes

    ext = _student_links_extension()
    app, doctree = _fake_page("chapters/teachers_guide", ".md")
    before = doctree.pformat()
    ext.add_student_links(app, doctree, "chapters/teachers_guide")
    assert doctree.pformat() == before
    assert not list(doctree.findall(nodes.admonition))


def test_student_links_need_a_github_repository_for_colab():
    ext = _student_links_extension()
    cfg = _book_config()
    cfg.html_theme_options = {"repository_url": "https://example.org/a/b"}
    assert ext.student_links("intro", cfg) == {
        "download": f"{cfg.student_site_dir}/intro.ipynb"}
    assert ext.github_repo("https://github.com/a/b.git/") == ("a", "b")
    assert ext.github_repo("https://github.com/a") is None


def test_colab_launch_button_is_off_and_student_links_are_on():
    # the theme's button would open the teacher's notebook, solutions and all
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert not cfg.get("launch_buttons", {}).get("colab_url")
    assert "student_links" in cfg["sphinx"]["local_extensions"]


def test_student_links_extension_reads_the_settings_of_config_yml():
    added, connected = {}, []
    app = types.SimpleNamespace(
        add_config_value=lambda name, default, rebuild: added.update(
            {name: default}),
        connect=lambda event, fn: connected.append(event))
    meta = _student_links_extension().setup(app)
    assert connected == ["doctree-resolved"] and meta["parallel_read_safe"]
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    ours = {k for k in cfg["sphinx"]["config"] if k.startswith("student_")}
    assert ours and ours <= set(added), "a student_ setting in _config.yml " \
        "that chapters/_ext/student_links.py does not know"
