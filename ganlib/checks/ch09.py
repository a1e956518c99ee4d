"""Checks of chapter 9's exercises: ALI / BiGAN."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


class _PairProbe(torch.nn.Module):
    """A fixed toy D(x, z) whose output depends on how x and z are paired."""

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        d = z.shape[1]
        return (x.flatten(1)[:, :d] * z).sum(1) + 0.3 * z[:, 0] - \
            0.2 * x.flatten(1).mean(1)


class _MixProbe(torch.nn.Module):
    """Another fixed D(x, z): a random linear map of x and z together."""

    def __init__(self, x_dim: int, z_dim: int, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w_x = torch.randn(x_dim, generator=g) / x_dim ** 0.5
        self.w_xz = torch.randn(x_dim, z_dim, generator=g) / x_dim ** 0.5

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        return x @ self.w_x + ((x @ self.w_xz) * z).sum(1)


def _pair_cases(hidden: bool = False) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(909)
        cases = []
        for b, c, side, d in ((6, 3, 8, 5), (2, 1, 4, 16), (25, 1, 28, 2)):
            D = _MixProbe(c * side * side, d, seed=b)
            x_real = torch.randn(b, c, side, side, generator=g)
            x_fake = torch.randn(b, c, side, side, generator=g)
            z_enc = torch.randn(b, d, generator=g)
            z = torch.randn(b, d, generator=g)
            cases.append((f"batch of {b}, images ({c}, {side}, {side}), "
                          f"latent_dim {d}, another toy D(x, z)",
                          (D, x_real, z_enc, x_fake, z)))
        D = _PairProbe()
        big = torch.full((3, 1, 28, 28), 3.0)
        cases.append(("very confident D (logits near +-100)",
                      (D, big, torch.full((3, 4), 8.4), -big,
                       torch.full((3, 4), 8.4))))
        return cases
    g = torch.Generator().manual_seed(9)
    D = _PairProbe()
    cases = []
    for b, d in ((4, 3), (1, 2), (16, 8)):
        x_real = torch.randn(b, 1, 28, 28, generator=g)
        x_fake = torch.randn(b, 1, 28, 28, generator=g)
        z_enc = torch.randn(b, d, generator=g)
        z = torch.randn(b, d, generator=g)
        cases.append((f"batch of {b}, latent_dim {d}, a toy D(x, z)",
                      (D, x_real, z_enc, x_fake, z)))
    big = torch.full((2, 1, 28, 28), 3.0)
    cases.append(("confident D (logits near +-30)",
                  (D, big, torch.full((2, 4), 2.5), -big,
                   torch.full((2, 4), 2.5))))
    cases.append(("confidently wrong D (logits near -+50)",
                  (D, -big * 5 / 3, torch.full((2, 4), 2.5), big * 5 / 3,
                   torch.full((2, 4), 2.5))))
    return cases


def check_bigan_d_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the BiGAN discriminator loss on (x, z) pairs (chapter 9)."""
    from ganlib import bigan

    check_function(
        "BiGAN discriminator loss", student, bigan.d_loss_pairs,
        _pair_cases(hidden), loss=True, hidden=hidden,
        hint="real pairs are (x_real, z_enc) with label 1, fake pairs are "
             "(x_fake, z) with label 0: never pair data with the prior "
             "noise; L_D = mean(softplus(-D(x_real, z_enc))) + "
             "mean(softplus(D(x_fake, z)))")


def check_bigan_eg_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the non-saturating loss of E and G (chapter 9)."""
    from ganlib import bigan

    check_function(
        "BiGAN encoder-generator loss", student, bigan.eg_loss_pairs,
        _pair_cases(hidden), loss=True, hidden=hidden,
        hint="E and G want D to call (x_real, E(x_real)) fake and "
             "(G(z), z) real: swap the labels of the D loss, "
             "mean(softplus(D(x_real, z_enc))) + "
             "mean(softplus(-D(x_fake, z)))")
