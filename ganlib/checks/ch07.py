"""Checks of chapter 7's exercises: the conditional GAN."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _confusion_matrix_ref(requested: torch.Tensor, predicted: torch.Tensor,
                          n_classes: int = 10) -> torch.Tensor:
    counts = torch.bincount(requested * n_classes + predicted,
                            minlength=n_classes * n_classes).float()
    counts = counts.view(n_classes, n_classes)  # (requested, predicted)
    return counts / counts.sum(1, keepdim=True).clamp(min=1)


def _noisy_labels(seed: int, n: int, n_classes: int, p_right: float):
    """n requested labels, and predictions that keep each with probability
    p_right and are random otherwise."""
    g = torch.Generator().manual_seed(seed)
    req = torch.randint(0, n_classes, (n,), generator=g)
    pred = torch.where(torch.rand(n, generator=g) < p_right, req,
                       torch.randint(0, n_classes, (n,), generator=g))
    return req, pred


def _confusion_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        req, pred = _noisy_labels(707, 1000, 5, 0.5)
        return [
            ("1,000 samples, 5 classes, about half classified as requested",
             (req, pred, 5)),
            ("a single sample, requested 1 and classified 0, 2 classes",
             (torch.tensor([1]), torch.tensor([0]), 2)),
            ("one class only (n_classes = 1)",
             (torch.zeros(4, dtype=torch.long),
              torch.zeros(4, dtype=torch.long), 1)),
            ("class 3 of 4 never predicted and class 0 never requested",
             (torch.tensor([1, 2, 3, 3, 1]), torch.tensor([0, 2, 1, 2, 1]),
              4)),
        ]
    req, noisy = _noisy_labels(7, 200, 10, 0.8)
    return [
        ("3 classes, requested [0, 0, 1, 2], predicted [0, 1, 1, 1]",
         (torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 3)),
        ("200 samples, 10 classes, about 80% classified as requested",
         (req, noisy, 10)),
        ("class 2 never requested (its row must be zeros)",
         (torch.tensor([0, 1, 1]), torch.tensor([1, 1, 2]), 3)),
    ]


def check_confusion_matrix(student: Callable, *,
                           hidden: bool = False) -> None:
    """Exercise: the row-normalised confusion matrix of a cGAN (chapter 7)."""
    check_function(
        "confusion matrix", student, _confusion_matrix_ref,
        _confusion_cases(hidden), hidden=hidden,
        hint="entry [i, j] = (number of samples requested as class i and "
             "classified as j) / (number of samples requested as i); rows "
             "are requested classes, a row with no samples stays zero")


def _label_maps_ref(x: torch.Tensor, y: torch.Tensor,
                    n_classes: int) -> torch.Tensor:
    maps = torch.nn.functional.one_hot(y, n_classes).to(x.dtype)  # (B, K)
    maps = maps[:, :, None, None].expand(-1, -1, *x.shape[2:])
    return torch.cat([x, maps], dim=1)  # (B, C + K, H, W)


def _label_map_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(777)
        return [
            ("a batch of one (1, 3, 5, 7) (non-square, 3 channels), y = [4], "
             "6 classes",
             (torch.randn(1, 3, 5, 7, generator=g), torch.tensor([4]), 6)),
            ("float64 images (4, 1, 2, 2), y = [0, 1, 0, 1], 2 classes",
             (torch.randn(4, 1, 2, 2, generator=g, dtype=torch.float64),
              torch.tensor([0, 1, 0, 1]), 2)),
            ("a single class (n_classes = 1): one plane of ones",
             (torch.randn(2, 1, 3, 3, generator=g),
              torch.zeros(2, dtype=torch.long), 1)),
            ("8 images (8, 1, 6, 6), labels 9, 8, ..., 2, 10 classes",
             (torch.randn(8, 1, 6, 6, generator=g),
              torch.arange(9, 1, -1), 10)),
        ]
    g = torch.Generator().manual_seed(77)
    return [
        ("x of shape (2, 1, 3, 3), y = [0, 2], 3 classes",
         (torch.randn(2, 1, 3, 3, generator=g), torch.tensor([0, 2]), 3)),
        ("x of shape (5, 1, 28, 28), random labels, 10 classes",
         (torch.randn(5, 1, 28, 28, generator=g),
          torch.randint(0, 10, (5,), generator=g), 10)),
        ("two-channel x of shape (3, 2, 4, 4), y = [1, 1, 0], 2 classes",
         (torch.randn(3, 2, 4, 4, generator=g), torch.tensor([1, 1, 0]), 2)),
    ]


def check_label_maps(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: conditioning D on one-hot label planes (chapter 7)."""
    check_function(
        "label maps", student, _label_maps_ref, _label_map_cases(hidden),
        hidden=hidden,
        hint="make one plane per class, all ones for the sample's own class "
             "and zeros otherwise (F.one_hot, then expand to H x W), and "
             "concatenate them AFTER the image channels along dim=1")
