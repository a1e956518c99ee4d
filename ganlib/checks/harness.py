"""The harness every exercise check runs on: compare, explain, fail."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch


class CheckFailed(AssertionError):
    """An exercise check failed; the message says why and how to fix it."""


def _describe(value: Any, entries: bool = False) -> str:
    """value in words; with entries, a large tensor shows its first few."""
    if torch.is_tensor(value):
        if value.numel() <= 6:
            return f"tensor {value.detach().cpu().tolist()} " \
                   f"(shape {tuple(value.shape)})"
        text = f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
        if entries:
            first = value.detach().flatten()[:4].cpu().tolist()
            text += ": [" + ", ".join(f"{v:.4g}" for v in first) + ", ...]"
        return text
    return repr(value)


def _where_they_differ(expected: Any, got: Any) -> str | None:
    """Where two large tensors of one shape differ most, or None."""
    if not (torch.is_tensor(expected) and torch.is_tensor(got)
            and expected.shape == got.shape and expected.numel() > 6):
        return None
    e = expected.detach().double().cpu().flatten()
    g = got.detach().double().cpu().flatten()
    # nan against a number is as far apart as entries get
    same = (e == g) | (e.isnan() & g.isnan())
    gap = torch.where(same, 0.0, (g - e).abs().nan_to_num(nan=math.inf))
    i = int(gap.argmax())
    worst = float(gap[i])
    if worst == 0:
        return None
    index = [int(k) for k in torch.unravel_index(torch.tensor(i),
                                                 expected.shape)]
    text = f"furthest off at index {index}: expected {float(e[i]):.6g}, " \
           f"got {float(g[i]):.6g}"
    if math.isfinite(worst):
        text += f" (off by {worst:.3g})"
    return text


def fail(name: str, case: str, expected: Any, got: Any, hint: str) -> None:
    """Raise :class:`CheckFailed` with the book's standard explanation."""
    # large tensors of one shape would read alike by shape and dtype alone:
    # show their first entries and the entry that is furthest off
    differs = _where_they_differ(expected, got)
    entries = differs is not None
    raise CheckFailed(
        f"\n{name}: not yet right.\n"
        f"  on input:  {case}\n"
        f"  expected:  {_describe(expected, entries)}\n"
        f"  got:       {_describe(got, entries)}\n"
        + (f"  differs:   {differs}\n" if entries else "")
        + f"  hint:      {hint}"
    )


def close(got: Any, expected: Any, atol: float = 1e-5,
          rtol: float = 1e-4) -> bool:
    """True when got matches expected in type, shape and value."""
    if torch.is_tensor(expected):
        if not torch.is_tensor(got) or got.shape != expected.shape:
            return False
        return bool(torch.allclose(got.detach().double().cpu(),
                                   expected.detach().double().cpu(),
                                   atol=atol, rtol=rtol, equal_nan=True))
    try:
        return math.isclose(float(got), float(expected), abs_tol=atol,
                            rel_tol=rtol)
    except (TypeError, ValueError):
        return got == expected


def check_function(name: str, student: Callable, reference: Callable,
                   cases: Sequence[tuple[str, tuple]], hint: str,
                   atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Compare ``student(*args)`` with ``reference(*args)`` on every case.

    ``cases`` are ``(description, args)`` pairs; the description is what
    a failure message shows as the input.
    """
    for description, args in cases:
        expected = reference(*args)
        try:
            got = student(*args)
        except NotImplementedError:
            raise CheckFailed(f"\n{name}: the exercise is not done yet "
                              "(it still raises NotImplementedError). "
                              f"Hint: {hint}") from None
        except Exception as err:  # show the student's error in context
            raise CheckFailed(f"\n{name}: your function raised "
                              f"{type(err).__name__}: {err}\n"
                              f"  on input:  {description}\n"
                              f"  hint:      {hint}") from None
        if not close(got, expected, atol, rtol):
            fail(name, description, expected, got, hint)
    print(f"{name}: all {len(cases)} checks passed.")
