"""The setup cell that opens every chapter: on Colab it installs ganlib.

The repository's address lives in ``_config.yml`` alone; ``python -m
ganlib.colab`` writes the setup cell from it into every chapter, and a
test checks that the chapters agree with ``_config.yml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

try:
    import nbformat
    import yaml
except ImportError as err:  # a teaching tool, not needed to read the book
    raise ImportError(f"ganlib.colab needs nbformat and pyyaml ({err}): "
                      "pip install 'ganlib[teach]'") from err

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-setup"

TEMPLATE = '''\
# Setup. On Colab this installs the book's library, ganlib, from the book's
# repository; anywhere else it does nothing (see "How to use this book").
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+{url}"], check=True)'''


def repository_url(config: Path = ROOT / "_config.yml") -> str:
    """The book's repository address, read from ``_config.yml``."""
    cfg = yaml.safe_load(config.read_text())
    try:
        return cfg["repository"]["url"]
    except (KeyError, TypeError):
        raise ValueError(f"{config} has no repository: url: entry; add the "
                         "book's repository address there") from None


def setup_cell_source(url: str | None = None) -> str:
    """The source of the setup cell for the repository at ``url``."""
    return TEMPLATE.format(url=url or repository_url())


def sync(path: Path, url: str | None = None) -> bool:
    """Put the current setup cell after the title cell; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    source = setup_cell_source(url)
    cells = [c for c in nb.cells if TAG in c.metadata.get("tags", [])]
    if cells and cells[0].source == source:
        return False
    if cells:
        cells[0].source = source
    else:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = [TAG, "hide-input"]
        nb.cells.insert(1, cell)
    nbformat.write(nb, path)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ganlib.colab",
        description="Write the Colab setup cell into the chapters.")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb")):
        print(f"{path}: {'updated' if sync(path) else 'up to date'}")


if __name__ == "__main__":
    main()
