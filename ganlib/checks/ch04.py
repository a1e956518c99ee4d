"""Checks of chapter 4's exercises: GAN theory."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ganlib import data, losses
from ganlib import theory as _theory
from ganlib.checks.harness import check_function


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
        ("3 real and 5 fake logits (batches of different sizes)",
         (torch.randn(3, generator=g), torch.randn(5, generator=g))),
    ]


def check_d_loss(student: Callable) -> None:
    """Exercise: the discriminator loss on logits (chapter 4)."""
    check_function(
        "discriminator loss", student, losses.d_loss, _logit_cases(),
        hint="L_D = -mean(log D(x_real)) - mean(log(1 - D(x_fake))) with "
             "D = sigmoid(logit); use F.softplus so that logits of +-30 do "
             "not give log(0), and average each term over its own batch")


def _density_pairs() -> list[tuple[str, Any, Any]]:
    normal = data.gaussian_1d(0.0, 1.0)
    return [
        ("p_data = N(0, 1), p_g = N(2, 0.5^2)", normal,
         data.gaussian_1d(2.0, 0.5)),
        ("p_g = p_data = N(0, 1) (the equilibrium)", normal, normal),
        ("p_data = mixture of N(-2, 0.5^2) and N(2, 0.5^2), p_g = N(0, 1.5^2)",
         data.mixture_1d([-2.0, 2.0], [0.5, 0.5]),
         data.gaussian_1d(0.0, 1.5)),
    ]


def check_optimal_discriminator(student: Callable) -> None:
    """Exercise: D*(x) = p_data(x) / (p_data(x) + p_g(x)) (chapter 4)."""
    x = torch.linspace(-3, 4, 15)
    cases = [(f"{name}, x = linspace(-3, 4, 15)", (p, q, x))
             for name, p, q in _density_pairs()]
    reference = lambda p, q, x: p.pdf(x) / (p.pdf(x) + q.pdf(x))  # noqa
    check_function("optimal discriminator", student, reference, cases,
                   hint="use the densities p_data.pdf(x) and p_g.pdf(x); "
                        "D* weighs how much of the density at x is real",
                   atol=1e-5)


def check_jsd(student: Callable) -> None:
    """Exercise: the Jensen-Shannon divergence by quadrature (chapter 4)."""
    x = _theory.grid(-15.0, 15.0, 3001)
    pairs = _density_pairs() + [
        ("p = N(-8, 0.5^2), q = N(8, 0.5^2) (no overlap: JSD = log 2)",
         data.gaussian_1d(-8.0, 0.5), data.gaussian_1d(8.0, 0.5))]
    cases = [(f"{name}, x = grid(-15, 15, 3001)", (p, q, x))
             for name, p, q in pairs]
    check_function("Jensen-Shannon divergence", student, _theory.jsd, cases,
                   hint="with m = (p + q) / 2, integrate "
                        "(p log(p / m) + q log(q / m)) / 2 over x with "
                        "torch.trapezoid, in nats (natural log); a term "
                        "with p = 0 is 0, and where p = m = 0 the ratio "
                        "p / m is 0/0 = nan, so write p log(p / m) as "
                        "torch.xlogy(p, p) - torch.xlogy(p, m); work in "
                        "float64 (p.pdf(x).double()): in float32 m = "
                        "(p + q) / 2 can round to 0 where p is tiny",
                   atol=1e-4, rtol=1e-3)
