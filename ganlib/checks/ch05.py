"""Checks of chapter 5's exercises: GANs in one dimension."""

from __future__ import annotations

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


def check_mass_per_mode(student: Callable) -> None:
    """Exercise: the fraction of samples nearest to each mode (chapter 5)."""
    from ganlib import oned

    balanced = _mixture_samples([-1.0, 4.0], [0.5, 0.5], [0.5, 0.5], 2000, 5)
    skewed = _mixture_samples([-1.0, 4.0], [1.0, 1.0], [0.8, 0.2], 2000, 6)
    three = _mixture_samples([5.0, -3.0, 0.0], [0.7, 0.7, 0.7],
                             [0.2, 0.5, 0.3], 3000, 7)
    cases = [
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
    ]
    check_function(
        "mass per mode", student, oned.mass_per_mode, cases,
        hint="give each sample to the mode centre it is closest to "
             "(argmin of |x - mean|), count per mode with torch.bincount("
             "..., minlength=K) and divide by the number of samples; return "
             "a float tensor of shape (K,) in the order of `means`")


def check_linear_g_params(student: Callable) -> None:
    """Exercise: mu and sigma of a linear generator's output (chapter 5)."""
    from ganlib import models

    def make(weights, bias):
        G = models.MLPGenerator(len(weights), 1, hidden=())
        with torch.no_grad():
            G.net[0].weight.copy_(torch.tensor([weights]))
            G.net[0].bias.fill_(bias)
        return G

    def reference(G):
        layer = G.net[0]
        return torch.tensor([layer.bias.item(), layer.weight.norm().item()])

    def as_tensor(G):
        mu, sigma = student(G)
        return torch.tensor([float(mu), float(sigma)])

    cases = [
        ("x = 0.5 z + 4 (latent_dim 1)", (make([0.5], 4.0),)),
        ("x = -0.7 z + 2 (a negative weight)", (make([-0.7], 2.0),)),
        ("x = 0.3 z1 - 0.4 z2 + 1.2 z3 - 1 (latent_dim 3)",
         (make([0.3, -0.4, 1.2], -1.0),)),
        ("x = 0 z + 3 (all weights zero: a point mass)", (make([0.0], 3.0),)),
    ]
    check_function(
        "linear generator mu and sigma", as_tensor, reference, cases,
        hint="x = w . z + b with z ~ N(0, I): the mean is b and the variance "
             "is sum_i w_i^2 (independent z_i), so sigma = the Euclidean "
             "norm of w, never negative; read w and b from G.net[0]")
