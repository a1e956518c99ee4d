"""Checks of chapter 3's exercises: deep reconstructions."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib import inversion as _inversion
from ganlib.checks.harness import check_function


def _tv_cases(hidden: bool = False) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(303)
        stripes = torch.zeros(1, 1, 6, 6)
        stripes[..., ::2] = 1.0  # vertical stripes: only dx is non-zero
        return [
            ("the smallest images: a batch of 5 (5, 2, 2, 2), beta = 2",
             (torch.randn(5, 2, 2, 2, generator=g), 2.0)),
            ("vertical stripes (1, 1, 6, 6), beta = 2", (stripes, 2.0)),
            ("random (2, 1, 7, 4), beta = 1.5",
             (torch.randn(2, 1, 7, 4, generator=g), 1.5)),
            ("random (3, 2, 4, 4), beta = 4",
             (torch.randn(3, 2, 4, 4, generator=g), 4.0)),
            ("one wide strip (1, 3, 2, 9) scaled by 10, beta = 1",
             (10 * torch.randn(1, 3, 2, 9, generator=g), 1.0)),
        ]
    g = torch.Generator().manual_seed(3)
    tiny = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])  # (1, 1, 2, 2)
    small = torch.tensor([[[[0.0, 1.0, 3.0], [1.0, 1.0, 1.0],
                            [0.0, 0.0, 2.0]]]])  # (1, 1, 3, 3)
    return [
        ("the 2x2 image [[0, 1], [2, 4]], beta = 2", (tiny, 2.0)),
        ("the 3x3 image [[0, 1, 3], [1, 1, 1], [0, 0, 2]], beta = 2",
         (small, 2.0)),
        ("a constant image (no edges at all), beta = 2",
         (torch.full((2, 1, 5, 5), 0.3), 2.0)),
        ("random batch (4, 1, 8, 8), beta = 2",
         (torch.randn(4, 1, 8, 8, generator=g), 2.0)),
        ("random non-square, 3 channels (2, 3, 5, 7), beta = 2",
         (torch.randn(2, 3, 5, 7, generator=g), 2.0)),
        ("random batch (3, 1, 6, 6), beta = 1",
         (torch.randn(3, 1, 6, 6, generator=g), 1.0)),
    ]


def check_tv_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the total-variation regulariser (chapter 3)."""
    check_function(
        "total variation", student,
        lambda x, beta: _inversion.tv_loss(x, beta), _tv_cases(hidden),
        loss=True, hidden=hidden,
        hint="take dx = x[..., :-1, 1:] - x[..., :-1, :-1] and dy = "
             "x[..., 1:, :-1] - x[..., :-1, :-1] (the pixels that have both "
             "neighbours), raise dx^2 + dy^2 to the power beta/2, average "
             "over channels and pixels, then over the batch", atol=1e-5)


def _masked_cases(hidden: bool = False) -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(333 if hidden else 33)

    def pair(*shape):
        return (torch.randn(*shape, generator=g),
                torch.randn(*shape, generator=g))

    if hidden:
        f, f0 = pair(1, 2, 6, 6)
        return [
            ("an odd map with an even window: (2, 3, 9, 9), size 4 (rows "
             "and columns 2..5)", (*pair(2, 3, 9, 9), 4)),
            ("a non-square map (2, 2, 7, 10), size 3 (rows 2..4, columns "
             "3..5)", (*pair(2, 2, 7, 10), 3)),
            ("a batch of one (1, 5, 6, 6), size 2", (*pair(1, 5, 6, 6), 2)),
            ("a target equal to f outside the window (the differences are "
             "all inside it): (1, 2, 6, 6), size 4",
             (f, torch.where(_inversion.center_mask(f.shape, 4).bool(),
                             f0, f), 4)),
            ("images of very different energy: (3, 1, 8, 8) times "
             "(1, 10, 100), size 4",
             (torch.randn(3, 1, 8, 8, generator=g),
              torch.randn(3, 1, 8, 8, generator=g)
              * torch.tensor([1.0, 10.0, 100.0])[:, None, None, None], 4)),
        ]

    f, f0 = pair(2, 4, 9, 9)
    loud = f0.clone()
    loud[..., 0, 0] = 50.0  # a loud neuron outside the window
    return [
        ("random features (2, 4, 9, 9), a 5x5 window", (*pair(2, 4, 9, 9), 5)),
        ("an even map (2, 3, 8, 8), a 5x5 window (rows and columns 1..5)",
         (*pair(2, 3, 8, 8), 5)),
        ("a window as large as the map (1, 2, 5, 5), size 5",
         (*pair(1, 2, 5, 5), 5)),
        ("a single neuron: (3, 2, 7, 7), size 1", (*pair(3, 2, 7, 7), 1)),
        ("a target with a loud neuron outside the window: (2, 4, 9, 9), 5",
         (f, loud, 5)),
    ]


def check_masked_feature_loss(student: Callable, *,
                              hidden: bool = False) -> None:
    """Exercise: the feature loss on a central window of neurons (ch. 3)."""
    def reference(f, f0, size):
        mask = _inversion.center_mask(f.shape, size)
        return _inversion.feature_loss(f, f0, mask)

    check_function(
        "masked feature loss", student, reference, _masked_cases(hidden),
        loss=True, hidden=hidden,
        hint="the window covers rows top = (H - size) // 2 to top + size "
             "(columns alike) of every channel; sum (f - f0)^2 and f0^2 over "
             "the window only, divide per image, then average over the batch",
        atol=1e-5)
