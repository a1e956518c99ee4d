"""Checks of chapter 5's exercises: GANs in one dimension."""

from __future__ import annotations

import functools
from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _mixture_samples(means, stds, weights, n, seed):
    """Samples of a 1-D mixture drawn with a private generator, shape (n,)."""
    g = torch.Generator().manual_seed(seed)
    comp = torch.multinomial(torch.tensor(weights), n, replacement=True,
                             generator=g)
    noise = torch.randn(n, generator=g)
    return torch.tensor(means)[comp] + torch.tensor(stds)[comp] * noise


def _mass_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        four = _mixture_samples([2.0, -6.0, 9.0, 0.0], [0.8, 0.8, 0.8, 0.8],
                                [0.1, 0.4, 0.3, 0.2], 1500, 55)
        return [
            ("1,500 samples of four modes given as [2, -6, 9, 0]",
             (four, [2.0, -6.0, 9.0, 0.0])),
            ("the same samples of shape (n, 1)",
             (four[:, None], [2.0, -6.0, 9.0, 0.0])),
            ("a G collapsed on the MIDDLE of three modes [-4, 0, 4]: the "
             "first and the last get 0",
             (torch.randn(300, generator=torch.Generator().manual_seed(56))
              * 0.2, [-4.0, 0.0, 4.0])),
            ("five modes [0, 1, 2, 3, 4], every sample below 1.4: the last "
             "three modes are empty",
             (torch.tensor([-0.3, 0.2, 0.9, 1.3, 0.6]),
              [0.0, 1.0, 2.0, 3.0, 4.0])),
            ("a single sample and one mode", (torch.tensor([7.0]), [1.0])),
        ]
    balanced = _mixture_samples([-1.0, 4.0], [0.5, 0.5], [0.5, 0.5], 2000, 5)
    skewed = _mixture_samples([-1.0, 4.0], [1.0, 1.0], [0.8, 0.2], 2000, 6)
    three = _mixture_samples([5.0, -3.0, 0.0], [0.7, 0.7, 0.7],
                             [0.2, 0.5, 0.3], 3000, 7)
    return [
        ("2,000 samples, 50/50 mixture, modes at -1 and 4",
         (balanced, [-1.0, 4.0])),
        ("2,000 samples, 80/20 mixture, wide modes at -1 and 4 (their "
         "midpoint is 1.5, not 0)", (skewed, [-1.0, 4.0])),
        ("three modes given in unsorted order [5, -3, 0]",
         (three, [5.0, -3.0, 0.0])),
        ("every sample near 3.9 (a collapsed G: the mode at -1 gets 0)",
         (torch.full((50,), 3.9), [-1.0, 4.0])),
        ("samples of shape (n, 1), as a generator returns them",
         (balanced[:, None], [-1.0, 4.0])),
        ("every sample near -1 with modes [-1, 4, 9] (the LAST two modes "
         "get no sample, and still need their 0)",
         (torch.full((40,), -1.2), [-1.0, 4.0, 9.0])),
    ]


def _one_entry_per_mode(got, samples, means) -> str | None:
    """Why got does not have one entry per mode, or None."""
    k = len(means)
    if torch.is_tensor(got) and tuple(got.shape) != (k,):
        return (f"there are {k} modes, so the answer needs {k} entries "
                f"(shape ({k},)), one per mode even where no sample is "
                f"nearest, but it has shape {tuple(got.shape)}; "
                "torch.bincount only counts up to the largest index it "
                f"sees unless you pass minlength={k}")
    return None


def check_mass_per_mode(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the fraction of samples nearest to each mode (chapter 5)."""
    from ganlib import oned

    check_function(
        "mass per mode", student, oned.mass_per_mode, _mass_cases(hidden),
        hidden=hidden, precheck=_one_entry_per_mode,
        hint="give each sample to the mode centre it is closest to "
             "(argmin of |x - mean|), count per mode with torch.bincount("
             "..., minlength=K) and divide by the number of samples; return "
             "a float tensor of shape (K,) in the order of `means`")


def _linear_g(weights, bias):
    from ganlib import models

    G = models.MLPGenerator(len(weights), 1, hidden=())
    with torch.no_grad():
        G.net[0].weight.copy_(torch.tensor([weights]))
        G.net[0].bias.fill_(bias)
    return G


def _linear_g_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        w = torch.randn(6, generator=torch.Generator().manual_seed(57))
        return [
            ("x = 3 z1 + 4 z2 - 50 (sigma = 5, a large negative mean)",
             (_linear_g([3.0, 4.0], -50.0),)),
            (f"six random weights {[round(v, 3) for v in w.tolist()]}, "
             "bias 0.25", (_linear_g(w.tolist(), 0.25),)),
            ("tiny weights 1e-4 z1 - 1e-4 z2 + 1 (latent_dim 2)",
             (_linear_g([1e-4, -1e-4], 1.0),)),
            ("all weights negative: -1 z1 - 2 z2 - 2 z3 + 0",
             (_linear_g([-1.0, -2.0, -2.0], 0.0),)),
        ]
    return [
        ("x = 0.5 z + 4 (latent_dim 1)", (_linear_g([0.5], 4.0),)),
        ("x = -0.7 z + 2 (a negative weight)", (_linear_g([-0.7], 2.0),)),
        ("x = 0.3 z1 - 0.4 z2 + 1.2 z3 - 1 (latent_dim 3)",
         (_linear_g([0.3, -0.4, 1.2], -1.0),)),
        ("x = 0 z + 3 (all weights zero: a point mass)",
         (_linear_g([0.0], 3.0),)),
    ]


def check_linear_g_params(student: Callable, *,
                          hidden: bool = False) -> None:
    """Exercise: mu and sigma of a linear generator's output (chapter 5)."""
    def reference(G):
        layer = G.net[0]
        return torch.tensor([layer.bias.item(), layer.weight.norm().item()])

    @functools.wraps(student)
    def as_tensor(G):
        mu, sigma = student(G)
        return torch.tensor([float(mu), float(sigma)])

    check_function(
        "linear generator mu and sigma", as_tensor, reference,
        _linear_g_cases(hidden), hidden=hidden,
        hint="x = w . z + b with z ~ N(0, I): the mean is b and the variance "
             "is sum_i w_i^2 (independent z_i), so sigma = the Euclidean "
             "norm of w, never negative; read w and b from G.net[0]")
