"""Checks of chapter 1's exercises: generative modelling."""

from __future__ import annotations

import functools
import math
from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _reference_posterior(joint: torch.Tensor) -> torch.Tensor:
    return joint / joint.sum(dim=1, keepdim=True)


def _posterior_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(101)
        wide = torch.rand(3, 7, generator=g)
        return [
            ("a 7x2 table of integer counts (a LongTensor)",
             (torch.randint(1, 50, (7, 2), generator=g),)),
            ("a 3x7 joint table, seven labels", (wide / wide.sum(),)),
            ("a label no sample has: the middle column is all zeros",
             (torch.tensor([[4.0, 0.0, 1.0], [2.0, 0.0, 2.0]]),)),
            ("a 1x1 table (one feature value, one label)",
             (torch.tensor([[0.25]]),)),
            ("a 6x3 table in float64 with very unequal rows",
             (torch.rand(6, 3, generator=g, dtype=torch.float64)
              * torch.logspace(-3, 3, 6, dtype=torch.float64)[:, None],)),
        ]
    g = torch.Generator().manual_seed(1)
    table = torch.rand(4, 3, generator=g)
    return [
        ("a 4x3 joint table that sums to 1", (table / table.sum(),)),
        ("raw counts [[30, 10], [5, 55]] (not normalised)",
         (torch.tensor([[30.0, 10.0], [5.0, 55.0]]),)),
        ("a row with a single non-zero entry [[0, 2, 0], [1, 1, 2]]",
         (torch.tensor([[0.0, 2.0, 0.0], [1.0, 1.0, 2.0]]),)),
        ("one feature value, five labels (a 1x5 table)",
         (torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.0]]),)),
    ]


def check_posterior(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: P(y | x) from a joint table or counts by Bayes' rule
    (chapter 1)."""
    check_function(
        "posterior P(y | x)", student, _reference_posterior,
        _posterior_cases(hidden), hidden=hidden,
        hint="P(y | x) = P(x, y) / P(x), and P(x) is the sum of the joint "
             "over the labels, i.e. over each row (dim=1, keepdim=True); "
             "dividing by the column sums gives P(x | y) instead")


def _affine_theta(angle: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The chapter 1 transform: (1/s) [[cos, sin, 0], [-sin, cos, 0]]."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    zero = torch.zeros_like(angle)
    return torch.stack([torch.stack([cos, sin, zero], dim=-1),
                        torch.stack([-sin, cos, zero], dim=-1)], dim=-2)


def _transform_cases(hidden: bool) -> list[tuple[str, tuple]]:
    deg = torch.deg2rad
    if hidden:
        g = torch.Generator().manual_seed(102)
        angle = (torch.rand(20, generator=g) * 2 - 1) * math.pi * 0.99
        scale = 0.3 + 2.7 * torch.rand(20, generator=g)
        return [
            ("twenty random angles in (-178, 178) degrees, scales in "
             "[0.3, 3]", (_affine_theta(angle, scale),)),
            ("exactly 90 and -90 degrees (cos = 0), scale 1.5",
             (_affine_theta(deg(torch.tensor([90.0, -90.0])),
                            torch.full((2,), 1.5)),)),
            ("a small digit, scale 0.1 (theta is large), at 45 degrees",
             (_affine_theta(deg(torch.tensor([45.0])),
                            torch.tensor([0.1])),)),
            ("a single turn of -179 degrees at scale 0.6",
             (_affine_theta(deg(torch.tensor([-179.0])),
                            torch.tensor([0.6])),)),
        ]
    g = torch.Generator().manual_seed(2)
    angle = (torch.rand(6, generator=g) * 2 - 1) * math.pi * 0.95
    scale = 0.5 + 1.5 * torch.rand(6, generator=g)
    return [
        ("the identity (angle 0, scale 1)",
         (_affine_theta(torch.zeros(1), torch.ones(1)),)),
        ("angles 30 and -30 degrees at scales 0.8 and 1.25",
         (_affine_theta(deg(torch.tensor([30.0, -30.0])),
                        torch.tensor([0.8, 1.25])),)),
        ("turns past 90 degrees: 120, -150, 179 degrees at scale 2",
         (_affine_theta(deg(torch.tensor([120.0, -150.0, 179.0])),
                        torch.full((3,), 2.0)),)),
        ("six random angles in (-171, 171) degrees, scales in [0.5, 2]",
         (_affine_theta(angle, scale),)),
    ]


def check_transform_params(student: Callable, *,
                           hidden: bool = False) -> None:
    """Exercise: recover (angle, scale) from affine_theta's matrix (ch. 1)."""
    def stacked(fn):
        @functools.wraps(fn)
        def run(theta):
            out = fn(theta)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("return a pair (angle, scale), got "
                                f"{type(out).__name__}")
            return torch.stack([torch.as_tensor(v) for v in out])
        return run

    def reference(theta):
        a, b = theta[:, 0, 0], theta[:, 0, 1]
        return torch.atan2(b, a), 1 / torch.sqrt(a**2 + b**2)

    check_function(
        "transform parameters", stacked(student), stacked(reference),
        _transform_cases(hidden), hidden=hidden,
        hint="theta[:, 0, 0] = cos(a)/s and theta[:, 0, 1] = sin(a)/s; the "
             "scale is 1 / sqrt(theta00^2 + theta01^2) (theta shrinks when "
             "the digit grows) and the angle is atan2(theta01, theta00), "
             "which, unlike atan, keeps turns beyond 90 degrees")
