"""Checks of chapter 2's exercises: autoencoders."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _reference_pca_reconstruct(x: torch.Tensor, mean: torch.Tensor,
                               components: torch.Tensor) -> torch.Tensor:
    return mean + (x - mean) @ components.T @ components


def check_pca_reconstruct(student: Callable) -> None:
    """Exercise: project onto k principal components and back (ch. 2)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(20, 6, generator=g) * 2 + 3
    mean = x.mean(0)
    _, _, vt = torch.linalg.svd(x - mean, full_matrices=False)
    cases = [
        ("20 points in 6-D, k = 2 components, non-zero mean",
         (x, mean, vt[:2])),
        ("the same points, k = 1", (x, mean, vt[:1])),
        ("all k = 6 components (the reconstruction is exact)",
         (x, mean, vt)),
        ("k = 0 components (shape (0, 6)): every point becomes the mean",
         (x, mean, vt[:0])),
        ("a single point", (x[:1], mean, vt[:3])),
    ]
    check_function(
        "PCA reconstruction", student, _reference_pca_reconstruct, cases,
        hint="centre first (x - mean), take the codes z = (x - mean) @ "
             "components.T of shape (N, k), map back with z @ components "
             "and add the mean again", atol=1e-4)


def check_kl_to_prior(student: Callable) -> None:
    """Exercise: KL(N(mu, sigma^2) || N(0, I)) of a VAE encoder (ch. 2)."""
    from ganlib import autoencoders  # imported here: only chapter 2 needs it

    g = torch.Generator().manual_seed(4)
    cases = [
        ("mu = 0, logvar = 0 (the prior itself: KL = 0)",
         (torch.zeros(3, 2), torch.zeros(3, 2))),
        ("mu = [[1, 0]], logvar = [[0, 1]] (KL = (e - 1) / 2)",
         (torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))),
        ("random mu and logvar, batch 8, 4 latent dims",
         (torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g))),
        ("a very narrow posterior, logvar = -8",
         (torch.zeros(2, 3), torch.full((2, 3), -8.0))),
    ]
    check_function(
        "KL to the prior", student, autoencoders.kl_divergence, cases,
        hint="KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1) with "
             "sigma^2 = exp(logvar): SUM over the latent dimensions, then "
             "MEAN over the batch")
