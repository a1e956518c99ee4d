"""Checks of chapter 2's exercises: autoencoders."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _reference_pca_reconstruct(x: torch.Tensor, mean: torch.Tensor,
                               components: torch.Tensor) -> torch.Tensor:
    return mean + (x - mean) @ components.T @ components


def _pca_data(n: int, d: int, seed: int, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=dtype) * 2 + 3
    mean = x.mean(0)
    _, _, vt = torch.linalg.svd(x - mean, full_matrices=False)
    return x, mean, vt


def _pca_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        x, mean, vt = _pca_data(50, 10, 103)
        x64, mean64, vt64 = _pca_data(12, 4, 104, torch.float64)
        new = torch.randn(7, 10, generator=torch.Generator().manual_seed(5))
        return [
            ("50 points in 10-D, k = 3 components", (x, mean, vt[:3])),
            ("points the components were not fitted on (7 new points), "
             "k = 5", (new, mean, vt[:5])),
            ("float64 points in 4-D, k = 2", (x64, mean64, vt64[:2])),
            ("a single point, k = 0 (it becomes the mean)",
             (x[:1], mean, vt[:0])),
            ("the last component only (k = 1, not the first)",
             (x, mean, vt[-1:])),
        ]
    x, mean, vt = _pca_data(20, 6, 3)
    return [
        ("20 points in 6-D, k = 2 components, non-zero mean",
         (x, mean, vt[:2])),
        ("the same points, k = 1", (x, mean, vt[:1])),
        ("all k = 6 components (the reconstruction is exact)",
         (x, mean, vt)),
        ("k = 0 components (shape (0, 6)): every point becomes the mean",
         (x, mean, vt[:0])),
        ("a single point", (x[:1], mean, vt[:3])),
    ]


def check_pca_reconstruct(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: project onto k principal components and back (ch. 2)."""
    check_function(
        "PCA reconstruction", student, _reference_pca_reconstruct,
        _pca_cases(hidden), hidden=hidden,
        hint="centre first (x - mean), take the codes z = (x - mean) @ "
             "components.T of shape (N, k), map back with z @ components "
             "and add the mean again", atol=1e-4)


def _kl_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(104)
        return [
            ("a batch of one, one latent dim: mu = 2, logvar = 0.5",
             (torch.tensor([[2.0]]), torch.tensor([[0.5]]))),
            ("random mu and logvar, batch 32, 16 latent dims",
             (torch.randn(32, 16, generator=g),
              torch.randn(32, 16, generator=g))),
            ("a wide posterior, logvar = +4, mu = -3",
             (torch.full((4, 2), -3.0), torch.full((4, 2), 4.0))),
            ("batch 3 with latent dims of very different sizes",
             (torch.randn(3, 5, generator=g) * 10,
              torch.linspace(-6, 6, 15).view(3, 5))),
        ]
    g = torch.Generator().manual_seed(4)
    return [
        ("mu = 0, logvar = 0 (the prior itself: KL = 0)",
         (torch.zeros(3, 2), torch.zeros(3, 2))),
        ("mu = [[1, 0]], logvar = [[0, 1]] (KL = (e - 1) / 2)",
         (torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))),
        ("random mu and logvar, batch 8, 4 latent dims",
         (torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g))),
        ("a very narrow posterior, logvar = -8",
         (torch.zeros(2, 3), torch.full((2, 3), -8.0))),
    ]


def check_kl_to_prior(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: KL(N(mu, sigma^2) || N(0, I)) of a VAE encoder (ch. 2)."""
    from ganlib import autoencoders  # imported here: only chapter 2 needs it

    check_function(
        "KL to the prior", student, autoencoders.kl_divergence,
        _kl_cases(hidden), loss=True, hidden=hidden,
        hint="KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1) with "
             "sigma^2 = exp(logvar): SUM over the latent dimensions, then "
             "MEAN over the batch")
