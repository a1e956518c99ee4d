"""Checks of chapter 4's exercises: GAN theory."""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ganlib import data, losses
from ganlib import theory as _theory
from ganlib.checks.harness import CheckFailed, check_function, forbid


def _logit_cases(hidden: bool = False) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(404)
        return [
            ("logits of +-100 (float32 sigmoid rounds to exactly 0 or 1)",
             (torch.tensor([100.0, -100.0, 3.0]),
              torch.tensor([-100.0, 100.0]))),
            ("a confidently wrong D: real logits -30, fake logits +30",
             (torch.full((3,), -30.0), torch.full((4,), 30.0))),
            ("random logits times 5, batch of 64",
             (5 * torch.randn(64, generator=g),
              5 * torch.randn(64, generator=g))),
            ("1 real and 7 fake logits",
             (torch.tensor([0.3]), torch.randn(7, generator=g))),
            ("all logits equal to 2", (torch.full((6,), 2.0),
                                       torch.full((6,), 2.0))),
        ]
    g = torch.Generator().manual_seed(4)
    return [
        ("real_out = fake_out = zeros(4) (D = 1/2 everywhere)",
         (torch.zeros(4), torch.zeros(4))),
        ("random logits, batch of 8",
         (torch.randn(8, generator=g), torch.randn(8, generator=g))),
        ("confident logits +-30 (D close to 0 or 1)",
         (torch.tensor([30.0, -30.0]), torch.tensor([-30.0, 30.0]))),
        ("a batch of one", (torch.tensor([1.5]), torch.tensor([-0.5]))),
        ("3 real and 5 fake logits (batches of different sizes)",
         (torch.randn(3, generator=g), torch.randn(5, generator=g))),
    ]


_D_LOSS_HINT = ("L_D = -mean(log D(x_real)) - mean(log(1 - D(x_fake))) "
                "with D = sigmoid(logit); use F.softplus so that logits of "
                "+-30 do not give log(0), and average each term over its "
                "own batch")


def _forbidden_in_d_loss() -> list[tuple[Any, str, str]]:
    """What exercise 1 asks not to call: the library loss and BCE."""
    return [
        (losses, "d_loss", "losses.d_loss"),
        (F, "binary_cross_entropy_with_logits",
         "F.binary_cross_entropy_with_logits (a BCE function)"),
        (F, "binary_cross_entropy", "F.binary_cross_entropy (a BCE "
                                    "function)"),
        (torch, "binary_cross_entropy_with_logits",
         "torch.binary_cross_entropy_with_logits (a BCE function)"),
    ]


def check_d_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the discriminator loss on logits, written without
    losses.d_loss or a BCE function (chapter 4)."""
    name = "discriminator loss"
    reference = losses.d_loss  # taken now: it is refused while D's runs
    if student in (reference, getattr(reference, "__wrapped__", None)):
        raise CheckFailed(f"\n{name}: this is losses.d_loss itself; the "
                          "exercise asks you to write the loss without "
                          f"it.\n  hint:      {_D_LOSS_HINT}")
    hint = (f"write it from F.softplus (or torch.log and torch.sigmoid) "
            f"yourself; {_D_LOSS_HINT}")

    @functools.wraps(student)
    def guarded(*args):
        with forbid(name, _forbidden_in_d_loss(), hint):
            return student(*args)

    check_function(name, guarded, reference, _logit_cases(hidden),
                   hint=_D_LOSS_HINT, loss=True, hidden=hidden)


def _density_pairs(hidden: bool = False) -> list[tuple[str, Any, Any]]:
    normal = data.gaussian_1d(0.0, 1.0)
    if hidden:
        return [
            ("p_data = N(1, 0.3^2), p_g = N(-1, 2^2)",
             data.gaussian_1d(1.0, 0.3), data.gaussian_1d(-1.0, 2.0)),
            ("p_data = N(0, 1), p_g = N(0.5, 1) (close: D* near 1/2)",
             normal, data.gaussian_1d(0.5, 1.0)),
            ("p_data = a 70/30 mixture of N(-3, 1) and N(3, 0.5^2), "
             "p_g = N(2, 1)",
             data.mixture_1d([-3.0, 3.0], [1.0, 0.5], [0.7, 0.3]),
             data.gaussian_1d(2.0, 1.0)),
        ]
    return [
        ("p_data = N(0, 1), p_g = N(2, 0.5^2)", normal,
         data.gaussian_1d(2.0, 0.5)),
        ("p_g = p_data = N(0, 1) (the equilibrium)", normal, normal),
        ("p_data = mixture of N(-2, 0.5^2) and N(2, 0.5^2), p_g = N(0, 1.5^2)",
         data.mixture_1d([-2.0, 2.0], [0.5, 0.5]),
         data.gaussian_1d(0.0, 1.5)),
    ]


def check_optimal_discriminator(student: Callable, *,
                                hidden: bool = False) -> None:
    """Exercise: D*(x) = p_data(x) / (p_data(x) + p_g(x)) (chapter 4)."""
    if hidden:
        x, grid = torch.linspace(-5, 6, 45), "x = linspace(-5, 6, 45)"
        cases = [(f"{name}, {grid}", (p, q, x))
                 for name, p, q in _density_pairs(hidden=True)]
        cases.append(("p_data = N(0, 1), p_g = N(2, 0.5^2), a single point "
                      "x = [1.0]", (data.gaussian_1d(0.0, 1.0),
                                    data.gaussian_1d(2.0, 0.5),
                                    torch.tensor([1.0]))))
    else:
        x = torch.linspace(-3, 4, 15)
        cases = [(f"{name}, x = linspace(-3, 4, 15)", (p, q, x))
                 for name, p, q in _density_pairs()]
    reference = lambda p, q, x: p.pdf(x) / (p.pdf(x) + q.pdf(x))  # noqa
    check_function("optimal discriminator", student, reference, cases,
                   hint="use the densities p_data.pdf(x) and p_g.pdf(x); "
                        "D* weighs how much of the density at x is real",
                   atol=1e-5, hidden=hidden)


def check_jsd(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the Jensen-Shannon divergence by quadrature (chapter 4)."""
    if hidden:
        x, grid = _theory.grid(-20.0, 20.0, 4001), "grid(-20, 20, 4001)"
        pairs = _density_pairs(hidden=True) + [
            ("p = N(-12, 0.3^2), q = N(12, 0.3^2) (no overlap: JSD = "
             "log 2)", data.gaussian_1d(-12.0, 0.3),
             data.gaussian_1d(12.0, 0.3)),
            ("p = q = a mixture of N(-2, 1) and N(5, 0.5^2) (JSD = 0)",
             data.mixture_1d([-2.0, 5.0], [1.0, 0.5]),
             data.mixture_1d([-2.0, 5.0], [1.0, 0.5]))]
    else:
        x, grid = _theory.grid(-15.0, 15.0, 3001), "grid(-15, 15, 3001)"
        pairs = _density_pairs() + [
            ("p = N(-8, 0.5^2), q = N(8, 0.5^2) (no overlap: JSD = log 2)",
             data.gaussian_1d(-8.0, 0.5), data.gaussian_1d(8.0, 0.5))]
    cases = [(f"{name}, x = {grid}", (p, q, x)) for name, p, q in pairs]
    check_function("Jensen-Shannon divergence", student, _theory.jsd, cases,
                   hint="with m = (p + q) / 2, integrate "
                        "(p log(p / m) + q log(q / m)) / 2 over x with "
                        "torch.trapezoid, in nats (natural log); a term "
                        "with p = 0 is 0, and where p = m = 0 the ratio "
                        "p / m is 0/0 = nan, so write p log(p / m) as "
                        "torch.xlogy(p, p) - torch.xlogy(p, m); work in "
                        "float64 (p.pdf(x).double()): in float32 m = "
                        "(p + q) / 2 can round to 0 where p is tiny",
                   atol=1e-4, rtol=1e-3, hidden=hidden)
