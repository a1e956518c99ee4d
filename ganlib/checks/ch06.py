"""Checks of chapter 6's exercises: DCGAN and the latent space."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _slerp_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(606)
        z0, z1 = torch.randn(64, generator=g), torch.randn(64, generator=g)
        a, b = torch.randn(3, generator=g), torch.randn(3, generator=g)
        return [
            ("random codes in 64-d, t = linspace(0, 1, 11)",
             (z0, z1, torch.linspace(0, 1, 11))),
            ("codes in 3-d, t = [0.25, 0.75]",
             (a, b, torch.tensor([0.25, 0.75]))),
            ("a short and a long code (norms differ by 10x), t = [0.5]",
             (0.5 * a, 5 * b, torch.tensor([0.5]))),
            ("z1 = z0 (the same code: the path stays put)",
             (a, a.clone(), torch.linspace(0, 1, 4))),
            ("z0 = (3, 0), z1 = (0, -2) (a quarter turn, two norms), "
             "t = linspace(0, 1, 3)",
             (torch.tensor([3.0, 0.0]), torch.tensor([0.0, -2.0]),
              torch.linspace(0, 1, 3))),
        ]
    g = torch.Generator().manual_seed(6)
    z0, z1 = torch.randn(16, generator=g), torch.randn(16, generator=g)
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    return [
        ("z0 = (1, 0), z1 = (0, 1), t = linspace(0, 1, 5)",
         (e1, e2, torch.linspace(0, 1, 5))),
        ("random codes in 16-d, t = linspace(0, 1, 7)",
         (z0, z1, torch.linspace(0, 1, 7))),
        ("codes of different norms (z1 three times longer), t = [0.3]",
         (z0, 3 * z1, torch.tensor([0.3]))),
        ("t = [0, 1] (the path must start at z0 and end at z1)",
         (z0, z1, torch.tensor([0.0, 1.0]))),
        ("z1 = 2 * z0 (parallel codes: the angle is 0)",
         (z0, 2 * z0, torch.tensor([0.0, 0.5, 1.0]))),
    ]


def check_slerp(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: spherical interpolation between two codes (chapter 6)."""
    from ganlib import latent

    check_function(
        "slerp", student, lambda a, b, t: latent.slerp(a, b, t),
        _slerp_cases(hidden), hidden=hidden,
        hint="Omega = arccos(z0.z1 / (|z0| |z1|)) (clamp the cosine to "
             "[-1, 1]); weights sin((1-t) Omega) / sin Omega and "
             "sin(t Omega) / sin Omega; return shape (T, d) with "
             "t[:, None]; where sin Omega is ~0 fall back to lerp",
        atol=1e-4)


def _direction_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(666)
        z = torch.randn(50, 4, generator=g)
        return [
            ("10 codes in 3-d, frac = 0.25 (n = int(2.5) = 2)",
             (z[:10, :3], torch.randperm(10, generator=g).float(), 0.25)),
            ("50 codes in 4-d, frac = 0.01 (n = max(1, int(0.5)) = 1)",
             (z, torch.randn(50, generator=g), 0.01)),
            ("50 codes, scores = -z[:, 1] (the direction points down "
             "axis 1), frac = 0.2", (z, -z[:, 1], 0.2)),
            ("6 codes in 1-d, frac = 0.5 (n = 3: top half minus bottom "
             "half)", (z[:6, :1], torch.randn(6, generator=g), 0.5)),
        ]
    g = torch.Generator().manual_seed(66)
    z = torch.tensor([[0.0, 1.0], [2.0, 0.0], [4.0, 1.0], [6.0, 3.0]])
    s = torch.tensor([3.0, 1.0, 0.0, 2.0])
    z_big = torch.randn(100, 8, generator=g)
    return [
        ("4 codes in 2-d, scores [3, 1, 0, 2], frac = 0.5", (z, s, 0.5)),
        ("the same, frac = 0.1 (n = max(1, int(0.4)) = 1)", (z, s, 0.1)),
        ("100 random codes in 8-d, scores = z[:, 0] + noise, frac = 0.1",
         (z_big, z_big[:, 0] + 0.1 * torch.randn(100, generator=g), 0.1)),
        ("7 random codes, frac = 0.5 (n = int(3.5) = 3)",
         (z_big[:7], torch.randn(7, generator=g), 0.5)),
    ]


def check_attribute_direction(student: Callable, *,
                              hidden: bool = False) -> None:
    """Exercise: an attribute direction from scored codes (chapter 6)."""
    from ganlib import latent

    check_function(
        "attribute direction", student, latent.attribute_direction,
        _direction_cases(hidden), hidden=hidden,
        hint="sort the samples by score (argsort); take n = max(1, "
             "int(frac * N)); return mean(z of the n highest) minus "
             "mean(z of the n lowest), a vector of shape (d,)")
