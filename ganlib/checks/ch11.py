"""Checks of chapter 11's exercises: applications (pix2pix)."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _patch_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(11)
    return [
        ("random 7x7 logit maps, batch 3",
         (torch.randn(3, 1, 7, 7, generator=g),
          torch.randn(3, 1, 7, 7, generator=g))),
        ("a batch of one 1x1 map (an image-level D)",
         (torch.tensor([[[[2.0]]]]), torch.tensor([[[[-1.0]]]]))),
        ("confident maps +-30",
         (torch.full((2, 1, 4, 4), 30.0), torch.full((2, 1, 4, 4), -30.0))),
        ("non-square maps 3x5 with one wrong patch",
         (torch.cat([torch.full((1, 1, 3, 5), 4.0)]),
          torch.zeros(1, 1, 3, 5).index_fill_(3, torch.tensor([2]), 5.0))),
    ]


def check_patch_d_loss(student: Callable) -> None:
    """Exercise: the PatchGAN discriminator loss (chapter 11)."""
    from ganlib import pix2pix

    check_function(
        "PatchGAN discriminator loss", student, pix2pix.patch_d_loss,
        _patch_cases(),
        hint="every patch logit is its own real/fake decision: apply "
             "binary cross-entropy to each entry of the (B, 1, H, W) maps "
             "and average over all of them (batch and patches), e.g. "
             "softplus(-real_map).mean() + softplus(fake_map).mean()")


def check_pix2pix_g_loss(student: Callable) -> None:
    """Exercise: the pix2pix generator loss, adversarial + L1 (chapter 11)."""
    from ganlib import pix2pix

    g = torch.Generator().manual_seed(111)
    cases = []
    for b, w in ((2, 100.0), (1, 1.0), (4, 0.0)):
        cases.append((f"batch {b}, l1_weight = {w}",
                      (torch.randn(b, 1, 7, 7, generator=g),
                       torch.rand(b, 1, 28, 28, generator=g) * 2 - 1,
                       torch.rand(b, 1, 28, 28, generator=g) * 2 - 1, w)))
    b_real = torch.zeros(1, 1, 28, 28)
    b_fake = b_real.clone()
    b_fake[0, 0, 0, 0] = 2.0  # one pixel off by 2: L1 and MSE differ
    cases.append(("one pixel off by 2, l1_weight = 10",
                  (torch.zeros(1, 1, 7, 7), b_fake, b_real, 10.0)))
    check_function(
        "pix2pix generator loss", student, pix2pix.pix2pix_g_loss, cases,
        hint="non-saturating adversarial term softplus(-fake_map).mean() "
             "plus l1_weight times the MEAN ABSOLUTE error "
             "(b_fake - b_real).abs().mean(), not the squared error")
