"""Checks of chapter 10's exercises: semi-supervised learning."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib.checks.harness import check_function


def _semisup_cases(hidden: bool = False) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(1010)
        cases = []
        for b_lab, b_unl, b_fake, k in ((3, 7, 5, 10), (1, 1, 1, 2),
                                        (16, 40, 24, 4)):
            cases.append((f"random logits, K = {k}, batches of {b_lab} "
                          f"labelled, {b_unl} unlabelled and {b_fake} fake",
                          (torch.randn(b_lab, k, generator=g) * 3,
                           torch.randint(k, (b_lab,), generator=g),
                           torch.randn(b_unl, k, generator=g) * 3,
                           torch.randn(b_fake, k, generator=g) * 3)))
        low = torch.full((2, 5), -100.0)
        cases.append(("every logit -100 (Z tiny: D close to 0 everywhere)",
                      (low, torch.tensor([3, 0]), low, low)))
        return cases
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


def _d_prob_cases(hidden: bool) -> list[tuple[str, tuple]]:
    if hidden:
        g = torch.Generator().manual_seed(1011)
        return [
            ("random logits, batch 7, K = 1 (D is then sigmoid(logit))",
             (torch.randn(7, 1, generator=g) * 3,)),
            ("random logits, batch 1, K = 100",
             (torch.randn(1, 100, generator=g),)),
            ("all logits +100 (Z overflows: D close to 1)",
             (torch.full((3, 4), 100.0),)),
            ("logits of -50, 0 and +50 in one row, batch 2",
             (torch.tensor([[-50.0, 0.0, 50.0], [0.0, 0.0, 0.0]]),)),
        ]
    cases = [(d, (a[0],)) for d, a in _semisup_cases()]
    cases.append(("all logits -100 (Z tiny: D close to 0)",
                  (torch.full((2, 10), -100.0),)))
    return cases


def check_d_prob_real(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: D(x) = Z / (Z + 1) from K class logits (chapter 10)."""
    from ganlib import semisup

    check_function(
        "D(x) from K logits", student, semisup.d_prob_real,
        _d_prob_cases(hidden), hidden=hidden,
        hint="Z = sum_k exp(l_k) and D = Z / (Z + 1) = sigmoid(log Z); "
             "compute log Z with torch.logsumexp(logits, dim=1) so that "
             "large logits do not overflow")


def check_semisup_d_loss(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: the (K+1)-class discriminator loss (chapter 10)."""
    from ganlib import semisup

    check_function(
        "K+1-class discriminator loss", student, semisup.d_loss_semisup,
        _semisup_cases(hidden), loss=True, hidden=hidden,
        hint="supervised: cross-entropy of the labelled logits; "
             "unsupervised: 0.5 * (-mean(log D(x_unl)) - mean(log(1 - "
             "D(G(z))))) with log D = lse - softplus(lse), log(1 - D) = "
             "-softplus(lse), lse = logsumexp over the K logits; add the two")
