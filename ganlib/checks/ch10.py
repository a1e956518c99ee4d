"""Checks of chapter 10's exercises: semi-supervised learning."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _semisup_cases() -> list[tuple[str, tuple]]:
    g = torch.Generator().manual_seed(10)
    cases = []
    for b, k in ((5, 10), (1, 3), (32, 10)):
        cases.append((f"random logits, batch {b}, K = {k}",
                      (torch.randn(b, k, generator=g) * 2,
                       torch.randint(k, (b,), generator=g),
                       torch.randn(b, k, generator=g) * 2,
                       torch.randn(b, k, generator=g) * 2)))
    big = torch.tensor([[100.0, 0.0, -100.0], [-100.0, 100.0, 0.0]])
    cases.append(("huge logits +-100 (exp overflows in float32)",
                  (big, torch.tensor([0, 1]), big, -big)))
    return cases


def check_d_prob_real(student: Callable) -> None:
    """Exercise: D(x) = Z / (Z + 1) from K class logits (chapter 10)."""
    from ganlib import semisup

    cases = [(d, (a[0],)) for d, a in _semisup_cases()]
    cases.append(("all logits -100 (Z tiny: D close to 0)",
                  (torch.full((2, 10), -100.0),)))
    check_function(
        "D(x) from K logits", student, semisup.d_prob_real, cases,
        hint="Z = sum_k exp(l_k) and D = Z / (Z + 1) = sigmoid(log Z); "
             "compute log Z with torch.logsumexp(logits, dim=1) so that "
             "large logits do not overflow")


def check_semisup_d_loss(student: Callable) -> None:
    """Exercise: the (K+1)-class discriminator loss (chapter 10)."""
    from ganlib import semisup

    check_function(
        "K+1-class discriminator loss", student, semisup.d_loss_semisup,
        _semisup_cases(),
        hint="supervised: cross-entropy of the labelled logits; "
             "unsupervised: 0.5 * (-mean(log D(x_unl)) - mean(log(1 - "
             "D(G(z))))) with log D = lse - softplus(lse), log(1 - D) = "
             "-softplus(lse), lse = logsumexp over the K logits; add the two")
