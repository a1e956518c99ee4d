"""Student versions of chapters, made with nbgrader's own preprocessors.

``python -m ganlib.student`` turns every chapter (or the ones named) into a
student notebook under ``student/``: each solution region becomes
``raise NotImplementedError()``, hidden tests are removed, and outputs are
cleared. The teacher's notebook is left as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

try:
    import nbformat
    from nbgrader.preprocessors import (ClearHiddenTests, ClearOutput,
                                        ClearSolutions)
except ImportError as err:  # a teaching tool, not needed to read the book
    raise ImportError(f"ganlib.student needs nbgrader and nbformat ({err}): "
                      "pip install 'ganlib[teach]'") from err

ROOT = Path(__file__).resolve().parents[1]


def make_student_notebook(notebook: nbformat.NotebookNode
                          ) -> nbformat.NotebookNode:
    """Return the student version of a teacher's notebook (a copy)."""
    nb = nbformat.from_dict(notebook)  # deep copy
    resources = {"language": "python"}
    for pre in (ClearSolutions(), ClearHiddenTests(), ClearOutput()):
        nb, resources = pre.preprocess(nb, resources)
    for cell in nb.cells:
        # the website collapses solutions; a student's cell must show
        tags = cell.get("metadata", {}).get("tags", [])
        if "hide-input" in tags and cell.metadata.get("nbgrader", {}).get(
                "solution"):
            tags.remove("hide-input")
    nbformat.validate(nb)
    return nb


def student_path(path: Path, out_dir: Path) -> Path:
    """Where convert writes the student version of ``path``: never onto it."""
    target = out_dir / path.name
    if target.resolve() == path.resolve():
        raise ValueError(f"{target} is the teacher's notebook itself: the "
                         "student version would overwrite it and delete its "
                         "solutions; pass another folder with -o")
    return target


def convert(path: Path, out_dir: Path) -> Path:
    """Write the student version of the notebook at ``path`` into out_dir."""
    if path.suffix != ".ipynb" or not path.is_file():
        raise FileNotFoundError(f"{path} is not a notebook; pass chapter "
                                "notebooks such as chapters/04_*.ipynb")
    target = student_path(path, out_dir)
    nb = nbformat.read(path, as_version=4)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_student_notebook(nb), target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ganlib.student",
        description="Make student versions of the book's chapters.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: every chapter)")
    parser.add_argument("-o", "--out", type=Path, default=Path("student"),
                        help="output folder (default: ./student)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:  # refuse before writing anything
        try:
            student_path(path, args.out)
        except ValueError as err:
            parser.error(str(err))
    for path in paths:
        print(f"{path} -> {convert(path, args.out)}")


if __name__ == "__main__":
    main()
