"""Full mode (what readers see) and quick mode (``GANLIB_QUICK=1``, for CI).

Quick mode runs the same code with tiny budgets: fewer steps, smaller
samples, never a skipped code path.
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """True when the environment variable ``GANLIB_QUICK`` asks for quick mode."""
    value = os.environ.get("GANLIB_QUICK", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"GANLIB_QUICK={value!r} is not understood; use 1 for quick mode "
        "or 0 (or unset it) for full mode"
    )


def pick(full: T, quick: T, mode: str | None = None) -> T:
    """Return ``full`` in full mode and ``quick`` in quick mode.

    ``mode`` ("full" or "quick") picks that mode's value whatever the
    environment says, e.g. to compare a saved result with the full budget.
    """
    if mode not in (None, "full", "quick"):
        raise ValueError(f"mode must be 'full', 'quick' or None, got "
                         f"{mode!r}")
    quick_mode = is_quick() if mode is None else mode == "quick"
    return quick if quick_mode else full


def mode() -> str:
    """The name of the current mode, for printing."""
    return "quick" if is_quick() else "full"


def show_progress(progress: bool = True) -> bool:
    """Whether to draw a progress bar: asked for, and not ``TQDM_DISABLE``.

    tqdm reads ``TQDM_DISABLE`` only when ``disable`` is not passed, so
    ganlib's loops ask here before passing it (the book's build sets it).
    """
    flag = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return progress and flag not in _TRUE
