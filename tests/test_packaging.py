"""The book's configuration: dependencies agree, the toc is complete."""

import re
import tomllib
from pathlib import Path

import yaml

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
    import json
    for nb in (ROOT / "chapters").glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                assert not cell["outputs"], f"{nb.name} has outputs"
                assert cell["execution_count"] is None, nb.name
