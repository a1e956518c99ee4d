"""Automatic checks for the book's exercises.

Each check runs a student's function against the reference on random and
edge-case inputs and, on a mismatch, explains in plain words what was
expected, what came back, and gives a hint. A check prints one line when
it passes and raises :class:`CheckFailed` (an ``AssertionError``, so
nbgrader and pytest count it as a failed test) when it does not.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch

from ganlib import data, losses


class CheckFailed(AssertionError):
    """An exercise check failed; the message says why and how to fix it."""


def _describe(value: Any) -> str:
    if torch.is_tensor(value):
        if value.numel() <= 6:
            return f"tensor {value.detach().cpu().tolist()} " \
                   f"(shape {tuple(value.shape)})"
        return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    return repr(value)


def fail(name: str, case: str, expected: Any, got: Any, hint: str) -> None:
    """Raise :class:`CheckFailed` with the book's standard explanation."""
    raise CheckFailed(
        f"\n{name}: not yet right.\n"
        f"  on input:  {case}\n"
        f"  expected:  {_describe(expected)}\n"
        f"  got:       {_describe(got)}\n"
        f"  hint:      {hint}"
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


# ------------------------------------------------------- chapter 4: theory


def _logit_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(4)
    return [
        ("real_out = fake_out = zeros(4) (D = 1/2 everywhere)",
         (torch.zeros(4), torch.zeros(4))),
        ("random logits, batch of 8",
         (torch.randn(8, generator=g), torch.randn(8, generator=g))),
        ("confident logits +-30 (D close to 0 or 1)",
         (torch.tensor([30.0, -30.0]), torch.tensor([-30.0, 30.0]))),
        ("a batch of one", (torch.tensor([1.5]), torch.tensor([-0.5]))),
    ]


def check_d_loss(student: Callable) -> None:
    """Exercise: the discriminator loss on logits (chapter 4)."""
    check_function(
        "discriminator loss", student, losses.d_loss, _logit_cases(),
        hint="L_D = -mean(log D(x_real)) - mean(log(1 - D(x_fake))) with "
             "D = sigmoid(logit); use F.softplus so that logits of +-30 do "
             "not give log(0), and average over the batch")


def check_optimal_discriminator(student: Callable) -> None:
    """Exercise: D*(x) = p_data(x) / (p_data(x) + p_g(x)) (chapter 4)."""
    p_data = data.gaussian_1d(0.0, 1.0)
    p_g = data.gaussian_1d(2.0, 0.5)
    x = torch.linspace(-3, 4, 9)
    reference = lambda p, q, x: p.pdf(x) / (p.pdf(x) + q.pdf(x))  # noqa
    cases = [("p_data = N(0, 1), p_g = N(2, 0.5^2), x in [-3, 4]",
              (p_data, p_g, x)),
             ("p_g = p_data (the equilibrium: D* = 1/2 everywhere)",
              (p_data, p_data, x))]
    check_function("optimal discriminator", student, reference, cases,
                   hint="use the densities p_data.pdf(x) and p_g.pdf(x); "
                        "D* weighs how much of the density at x is real")
