"""Checks of chapter 11's exercises: applications (pix2pix)."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _patch_cases(hidden: bool = False) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(1111)
        return [
            ("random 30x30 logit maps (a 70x70 PatchGAN on 256x256 "
             "images), batch 2",
             (torch.randn(2, 1, 30, 30, generator=g),
              torch.randn(2, 1, 30, 30, generator=g))),
            ("a batch of 5 random 2x3 maps times 4",
             (4 * torch.randn(5, 1, 2, 3, generator=g),
              4 * torch.randn(5, 1, 2, 3, generator=g))),
            ("a confidently wrong D: real maps -100, fake maps +100",
             (torch.full((1, 1, 3, 3), -100.0),
              torch.full((1, 1, 3, 3), 100.0))),
            ("one real patch far off in a (2, 1, 4, 4) map",
             (torch.zeros(2, 1, 4, 4).index_put_(
                 (torch.tensor([1]), torch.tensor([0]), torch.tensor([2]),
                  torch.tensor([3])), torch.tensor(-20.0)),
              torch.zeros(2, 1, 4, 4))),
        ]
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


def check_patch_d_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the PatchGAN discriminator loss (chapter 11)."""
    from ganlib import pix2pix

    check_function(
        "PatchGAN discriminator loss", student, pix2pix.patch_d_loss,
        _patch_cases(hidden), loss=True, hidden=hidden,
        hint="every patch logit is its own real/fake decision: apply "
             "binary cross-entropy to each entry of the (B, 1, H, W) maps "
             "and average over all of them (batch and patches), e.g. "
             "softplus(-real_map).mean() + softplus(fake_map).mean()")


def _pix2pix_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(1112)
        cases = []
        for b, c, side, w in ((3, 3, 16, 50.0), (1, 1, 8, 0.5)):
            cases.append((f"batch {b} of {c}-channel {side}x{side} images, "
                          f"4x4 maps, l1_weight = {w}",
                          (torch.randn(b, 1, 4, 4, generator=g),
                           torch.rand(b, c, side, side, generator=g) * 2 - 1,
                           torch.rand(b, c, side, side, generator=g) * 2 - 1,
                           w)))
        cases.append(("D confidently rejects the fakes (fake_map = -30), "
                      "l1_weight = 100",
                      (torch.full((2, 1, 3, 3), -30.0),
                       torch.rand(2, 1, 6, 6, generator=g),
                       torch.rand(2, 1, 6, 6, generator=g), 100.0)))
        b_real = torch.zeros(2, 3, 4, 4)
        cases.append(("b_fake = b_real - 0.5 everywhere (L1 0.5, MSE 0.25), "
                      "l1_weight = 2",
                      (torch.zeros(2, 1, 2, 2), b_real - 0.5, b_real, 2.0)))
        return cases
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
    return cases


def check_pix2pix_g_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the pix2pix generator loss, adversarial + L1 (chapter 11)."""
    from ganlib import pix2pix

    check_function(
        "pix2pix generator loss", student, pix2pix.pix2pix_g_loss,
        _pix2pix_cases(hidden), loss=True, hidden=hidden,
        hint="non-saturating adversarial term softplus(-fake_map).mean() "
             "plus l1_weight times the MEAN ABSOLUTE error "
             "(b_fake - b_real).abs().mean(), not the squared error")
