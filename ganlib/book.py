"""Helpers for the book's pages: numbers glued into the prose.

A chapter computes a number, prints it, and glues it under a name; the
markdown then shows it with myst-nb's role, for example
``{glue:text}`ch06_confident:.1%``` for a share. On the website the role
renders the value that run computed. Jupyter and Colab do not render
glue roles, and a notebook on Colab may lack myst-nb; there the code
cell's own printout carries the number, and :func:`glue` prints it too
when myst-nb is absent rather than fail.
"""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any, display: bool = False) -> Any:
    """Store ``value`` under ``name`` for ``{glue:text}`` roles; returns it.

    Without myst-nb (a bare Jupyter or Colab install) it prints
    ``name = value`` instead, so a page never fails for lack of the book's
    build tools.
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"a glue name must be a non-empty string, got "
                         f"{name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        print(f"{name} = {value}")
        return value
    myst_glue(name, value, display=display)
    return value
