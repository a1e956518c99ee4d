"""Checks of chapter 8's exercises: training tricks."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib import data, losses
from ganlib.checks.harness import (CheckFailed, call_student, check_function,
                                   close, fail, grad_close, passed,
                                   require_graph)


def _ch8_coverage_reference(samples, means, std, threshold=3.0):
    from ganlib import modes
    idx, dist = modes.nearest_mode(samples, means)
    good = dist <= threshold * std
    return len(torch.unique(idx[good])), good.float().mean().item()


def _coverage_cases(hidden: bool) -> list[tuple[str, tuple]]:
    ring = data.ring8()
    m, std = ring.means, 0.02
    if hidden:
        g = torch.Generator().manual_seed(808)
        grid = data.grid25().means
        some = grid[torch.randint(25, (300,), generator=g) % 10] \
            + 0.05 * torch.randn(300, 2, generator=g)
        three = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
        return [
            ("300 samples on 10 of the 25 grid modes, std 0.05",
             (some, grid, 0.05)),
            ("a threshold of 2 std instead of 3: points 1.9 and 2.1 std "
             "from a mode", (torch.stack([m[2] + torch.tensor([0.038, 0.0]),
                                          m[5] - torch.tensor([0.042, 0.0])]),
                             m, std, 2.0)),
            ("a single sample exactly on mode 6", (m[6:7].clone(), m, std)),
            ("three modes in the plane, std 1, samples spread over and "
             "between them", (torch.randn(100, 2, generator=g) * 3, three,
                              1.0)),
        ]
    g = torch.Generator().manual_seed(8)
    near = m[torch.randint(8, (200,), generator=g)] \
        + 0.03 * torch.randn(200, 2, generator=g)
    return [
        ("one sample on every ring mode", (m.clone(), m, std)),
        ("200 samples all on mode 3 (a collapse)", (m[3].repeat(200, 1),
                                                    m, std)),
        ("points 2.9 std and 3.1 std from modes 0 and 1 (only the first "
         "counts)", (torch.stack([m[0] + torch.tensor([0.058, 0.0]),
                                  m[1] + torch.tensor([0.0, 0.062])]),
                     m, std)),
        ("200 noisy ring samples, std 0.03 around the modes",
         (near, m, std)),
        ("samples far from every mode (none counts)",
         (torch.full((5, 2), 9.0), m, std)),
    ]


def check_mode_coverage(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: modes captured and share of high-quality samples (ch. 8)."""
    name = "mode coverage"
    hint = ("return (number of distinct modes that are nearest to at least "
            "one HIGH-QUALITY sample, share of samples whose distance (not "
            "squared) to their nearest mode is <= 3 std) as (int, float in "
            "[0, 1])")
    cases = _coverage_cases(hidden)
    for description, args in cases:
        expected = _ch8_coverage_reference(*args)
        got = call_student(name, student, args, description, hint)
        ok = isinstance(got, (tuple, list)) and len(got) == 2 and \
            close(got[0], expected[0], atol=0) and \
            close(got[1], expected[1], atol=1e-6)
        if not ok:
            fail(name, description, expected, got, hint=hint)
    passed(name, len(cases), hidden)


def _ch8_gp_reference(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def _linear_critic(weights: list[float]) -> Callable:
    linear = torch.nn.Linear(len(weights), 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([weights]))
    return lambda x: linear(x).squeeze(1)


def check_gradient_penalty(student: Callable, *,
                           hidden: bool = False) -> None:
    """Exercise: the WGAN-GP penalty at given points (chapter 8)."""
    from ganlib import models
    name = "gradient penalty"
    torch.manual_seed(88 if hidden else 8)
    if hidden:
        D = models.MLPDiscriminator(3, (32,))
        cases = [("an MLP critic in 3-d at 64 random points",
                  (D, 2 * torch.randn(64, 3))),
                 ("a linear critic with weights (0.6, 0.8): |grad| = 1, "
                  "penalty 0", (_linear_critic([0.6, 0.8]),
                                torch.randn(5, 2))),
                 ("a linear critic with weights (1, 2, 2, 4): |grad| = 5, "
                  "penalty 16", (_linear_critic([1.0, 2.0, 2.0, 4.0]),
                                 torch.randn(3, 4)))]
    else:
        D = models.MLPDiscriminator(2, (16, 16))
        D_lin = _linear_critic([3.0, 4.0])  # |grad| = 5
        cases = [("an MLP critic at 32 random points",
                  (D, torch.randn(32, 2))),
                 ("a linear critic with weights (3, 4): penalty (5 - 1)^2 "
                  "= 16", (D_lin, torch.randn(8, 2))),
                 ("an MLP critic at a single point", (D, torch.randn(1, 2)))]
    hint = ("take the gradient of D(x_hat).sum() with respect to x_hat "
            "(torch.autograd.grad), its L2 norm PER SAMPLE (dim=1, not "
            "squared), then the mean of (norm - 1)^2")
    check_function(name, student, _ch8_gp_reference, cases, hint=hint,
                   trainable=True, hidden=hidden)
    # the critic is trained on the penalty: it must carry D's gradient
    x_hat = torch.randn(16, D.in_dim)
    case = f"an MLP critic at {len(x_hat)} random points, the gradient " \
           "with respect to D's weights"
    penalty = call_student(name, student, (D, x_hat), case, hint)
    require_graph(name, case, penalty, wrt="D's weights")
    grads = torch.autograd.grad(penalty, list(D.parameters()),
                                allow_unused=True)
    ref = torch.autograd.grad(_ch8_gp_reference(D, x_hat),
                              list(D.parameters()), allow_unused=True)
    for g, r in zip(grads, ref):
        if (g is None) != (r is None) or (g is not None and
                                          not grad_close(g, r)):
            raise CheckFailed(
                "\ngradient penalty: its gradient with respect to D's "
                "weights differs from the reference.\n  hint: compute the "
                "penalty from a fresh leaf x_hat.requires_grad_(True) with "
                "create_graph=True, and do not detach the gradient")
    print("gradient penalty: differentiable with respect to D: passed.")


def _wasserstein_d_loss(real_out: torch.Tensor,
                        fake_out: torch.Tensor) -> torch.Tensor:
    """A critic's loss, a loss_D other than losses.d_loss."""
    return fake_out.mean() - real_out.mean()


def _unroll_cases(hidden: bool) -> list[tuple]:
    """(D, loss_D, name of loss_D, x_real, x_fake, k, lr) per case."""
    from ganlib import models
    if hidden:
        torch.manual_seed(88)
        D = models.MLPDiscriminator(3, (16, 16))
        x_real = torch.randn(8, 3)
        return [(D, losses.d_loss, "losses.d_loss", x_real,
                 torch.randn(12, 3), 2, 0.2),
                (D, _wasserstein_d_loss, "a Wasserstein critic loss",
                 x_real, torch.randn(12, 3), 3, 0.05),
                (D, losses.d_loss, "losses.d_loss", x_real,
                 torch.randn(5, 3), 5, 0.01)]
    torch.manual_seed(8)
    D = models.MLPDiscriminator(2, (8,))
    x_real = torch.randn(16, 2)
    return [(D, losses.d_loss, "losses.d_loss", x_real, torch.randn(16, 2),
             k, lr) for k, lr in ((0, 0.1), (1, 0.1), (3, 0.05))]


def check_unroll(student: Callable, *, hidden: bool = False) -> None:
    """Exercise: k differentiable SGD steps of D (chapter 8)."""
    from ganlib import tricks
    name = "unrolled step"
    hint = ("take k steps p - lr * grad of loss_D at the CURRENT unrolled "
            "parameters (torch.func.functional_call), with "
            "create_graph=True")
    cases = _unroll_cases(hidden)
    for D, loss_D, loss_name, x_real, x_fake, k, lr in cases:
        x_fake = x_fake.requires_grad_(True)
        case = (f"k={k} unrolled steps with lr={lr}, an MLP D on "
                f"{D.in_dim}-d "
                f"points, {len(x_real)} real and {len(x_fake)} fake, "
                f"loss_D = {loss_name}")
        ref = tricks.unrolled_params(D, loss_D, x_real, x_fake, k, lr)
        got = call_student(name, student, (D, loss_D, x_real, x_fake, k, lr),
                           case, hint)
        if not isinstance(got, dict) or set(got) != set(ref):
            fail(name, case, f"a dict with keys {sorted(ref)}",
                 got if not isinstance(got, dict) else sorted(got),
                 hint="return {name: tensor} like dict(D.named_parameters())")
        for key in ref:
            if not close(got[key], ref[key]):
                fail(name, f"{case}, parameter {key}", ref[key], got[key],
                     hint="each step: loss_D on D(x_real) and D(x_fake) "
                          "with the CURRENT unrolled parameters "
                          "(functional_call), then p - lr * grad")
        if k > 0:
            _check_unrolled_gradient(D, got, ref, x_fake, case)
    passed(name, len(cases), hidden)


def _check_unrolled_gradient(D, got, ref, x_fake, case) -> None:
    """A loss at the unrolled parameters has the reference's gradient with
    respect to x_fake."""
    out = torch.func.functional_call(D, got, (x_fake,)).sum()
    if not out.requires_grad:
        raise CheckFailed("\nunrolled step: the unrolled parameters"
                          " carry no gradient.\n"
                          f"  on input:  {case}\n"
                          "  hint:      create_graph=True in "
                          "torch.autograd.grad")
    g, = torch.autograd.grad(out, x_fake, allow_unused=True)
    ref_out = torch.func.functional_call(D, ref, (x_fake,)).sum()
    g_ref, = torch.autograd.grad(ref_out, x_fake)
    if g is None or not close(g, g_ref):
        raise CheckFailed(
            "\nunrolled step: the values are right but the gradient "
            "through the unrolled steps is not: a loss at the "
            "unrolled parameters must see how x_fake changed D.\n"
            f"  on input:  {case}\n"
            "  hint:      do not detach x_fake or the gradients; use "
            "create_graph=True")
