"""The book's configuration: dependencies agree, the toc is complete,
every figure has a text alternative."""

import ast
import json
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import ganlib

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), 1)[0].lower()


def test_environment_yml_and_pyproject_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    py = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        py.update({_name(r): r.replace(" ", "") for r in extra})
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"]
                       if isinstance(d, dict))
    conda = {_name(r): r.replace(" ", "") for r in pip_section
             if not r.startswith("-e")}
    assert conda == py


def test_the_test_extra_installs_the_teach_extra():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    assert {"nbgrader", "nbformat", "pyyaml"} <= {_name(r) for r in
                                                  extras["teach"]}
    assert set(extras["teach"]) <= set(extras["test"])


# The teaching tools need the teach extra; every other module is the
# library a reader installs, and must import without it.
TEACHING_TOOLS = {"ganlib.student", "ganlib.colab"}
TEACH_IMPORTS = ["nbgrader", "nbformat", "yaml"]  # pyyaml imports as yaml

IMPORT_WITHOUT_TEACH = """
import importlib, json, sys
for name in {blocked!r}:
    sys.modules[name] = None  # now "import name" raises ImportError
errors = {{}}
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except Exception as err:
        errors[module] = f"{{type(err).__name__}}: {{err}}"
print(json.dumps(errors))
"""


@pytest.fixture(scope="module")
def errors_without_teach() -> dict[str, str]:
    """Each ganlib module that fails to import without the teach extra."""
    modules = ["ganlib"] + [m.name for m in pkgutil.walk_packages(
        ganlib.__path__, "ganlib.")]
    script = IMPORT_WITHOUT_TEACH.format(blocked=TEACH_IMPORTS)
    run = subprocess.run([sys.executable, "-c", script, *modules],
                         capture_output=True, text=True, cwd=ROOT,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_the_library_imports_without_the_teach_extra(errors_without_teach):
    runtime = {m: e for m, e in errors_without_teach.items()
               if m not in TEACHING_TOOLS}
    assert not runtime, runtime


def test_teaching_tools_say_how_to_install_the_teach_extra(
        errors_without_teach):
    for tool in TEACHING_TOOLS:
        assert "pip install 'ganlib[teach]'" in errors_without_teach[tool]


def test_jupyter_book_is_pinned_below_2():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"jupyter-book>=1.0.4.post1,<2"' in text


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"], *_toc_files(toc["parts"])]
    for f in files:
        matches = list(ROOT.glob(f + ".*"))
        assert matches, f"toc entry {f} has no file"
    notebooks = {p.relative_to(ROOT).with_suffix("").as_posix()
                 for p in (ROOT / "chapters").glob("*.ipynb")}
    assert notebooks <= set(files), "chapters missing from _toc.yml"


def test_notebooks_are_committed_without_outputs():
    for nb in (ROOT / "chapters").glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                assert not cell["outputs"], f"{nb.name} has outputs"
                assert cell["execution_count"] is None, nb.name


# What the chapters draw with: a cell that makes one of these calls when it
# runs shows a figure (or an animation) on its page.
PLOT_CALLS = {"plt.show", "plt.subplots", "plt.figure", "plt.imshow"}
PLOT_FUNCTIONS = {"show_images", "plot_history", "scatter_2d", "imshow",
                  "plot_density_map", "plot_frame", "animate",
                  "animate_images", "animate_training"}
ANIMATIONS = {"plot.animate", "plot.animate_images",
              "oned.animate_training"}


def _call_name(call: ast.Call) -> str:
    """'plt.show' for plt.show(), 'plot' for axes[0].plot()."""
    parts, f = [], call.func
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


def _calls(node: ast.AST, at_run_time: bool):
    """Calls under node; with at_run_time, not those inside a def/lambda."""
    for child in ast.iter_child_nodes(node):
        if at_run_time and isinstance(child, (ast.FunctionDef, ast.Lambda,
                                              ast.AsyncFunctionDef)):
            continue
        if isinstance(child, ast.Call):
            yield child
        yield from _calls(child, at_run_time)


def _figure_cells(cells: list[dict]):
    """(index, cell, tree) of the code cells that draw when they run."""
    trees = {i: ast.parse("".join(c["source"])) for i, c in enumerate(cells)
             if c["cell_type"] == "code"}
    local: set[str] = set()  # the notebook's own plotting helpers

    def draws(call):
        name = _call_name(call)
        return (name in PLOT_CALLS or name in local
                or name.rsplit(".", 1)[-1] in PLOT_FUNCTIONS)

    defs = [n for t in trees.values() for n in ast.walk(t)
            if isinstance(n, ast.FunctionDef)]
    while True:  # a helper that calls a plotting helper plots too
        new = {d.name for d in defs if d.name not in local
               and any(draws(c) for c in _calls(d, False))}
        if not new:
            break
        local |= new
    for i, tree in trees.items():
        if any(draws(c) for c in _calls(tree, True)):
            yield i, cells[i], tree


def test_every_figure_has_a_text_alternative():
    # screen readers and broken images need words: every cell that draws
    # carries myst-nb alt text (or a caption) in its metadata, and every
    # animation passes alt= to the player
    missing = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for i, cell, tree in _figure_cells(cells):
            where = f"{path.name} cell {i} (id {cell.get('id')})"
            mystnb = cell["metadata"].get("mystnb", {})
            alt = mystnb.get("image", {}).get("alt", "")
            caption = mystnb.get("figure", {}).get("caption", "")
            if not (alt.strip() or caption.strip()):
                missing.append(
                    f"{where} draws a figure but has no text alternative: "
                    f"set its metadata to {{\"mystnb\": {{\"image\": "
                    f"{{\"alt\": \"...\"}}}}}}, one or two sentences "
                    f"saying what the figure shows")
            for call in _calls(tree, True):
                if _call_name(call) not in ANIMATIONS:
                    continue
                alt = {k.arg: k.value for k in call.keywords}.get("alt")
                if alt is None or (isinstance(alt, ast.Constant)
                                   and not str(alt.value or "").strip()):
                    missing.append(
                        f"{where}: {_call_name(call)}(...) on line "
                        f"{call.lineno} needs alt=\"...\" describing the "
                        f"animation (its player's frame is an <img>)")
    assert not missing, "\n".join(missing)
