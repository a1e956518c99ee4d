"""Checks of chapter 8's exercises: training tricks."""

from __future__ import annotations

from typing import Callable

import torch

from ganlib import data, losses
from ganlib.checks.harness import (CheckFailed, check_function, close,
                                   fail)


def _ch8_coverage_reference(samples, means, std, threshold=3.0):
    from ganlib import modes
    idx, dist = modes.nearest_mode(samples, means)
    good = dist <= threshold * std
    return len(torch.unique(idx[good])), good.float().mean().item()


def check_mode_coverage(student: Callable) -> None:
    """Exercise: modes captured and share of high-quality samples (ch. 8)."""
    ring = data.ring8()
    m, std = ring.means, 0.02
    g = torch.Generator().manual_seed(8)
    near = m[torch.randint(8, (200,), generator=g)] \
        + 0.03 * torch.randn(200, 2, generator=g)
    cases = [
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
    for description, args in cases:
        expected = _ch8_coverage_reference(*args)
        try:
            got = student(*args)
        except NotImplementedError:
            raise CheckFailed("\nmode coverage: the exercise is not done "
                              "yet (it still raises NotImplementedError)."
                              ) from None
        except Exception as err:
            raise CheckFailed(f"\nmode coverage: your function raised "
                              f"{type(err).__name__}: {err}\n  on input:  "
                              f"{description}") from None
        ok = isinstance(got, (tuple, list)) and len(got) == 2 and \
            close(got[0], expected[0], atol=0) and \
            close(got[1], expected[1], atol=1e-6)
        if not ok:
            fail("mode coverage", description, expected, got,
                 hint="return (number of distinct modes that are nearest "
                      "to at least one HIGH-QUALITY sample, share of "
                      "samples whose distance (not squared) to their "
                      "nearest mode is <= 3 std) as (int, float in [0, 1])")
    print(f"mode coverage: all {len(cases)} checks passed.")


def _ch8_gp_reference(D, x_hat):
    x_hat = x_hat.detach().requires_grad_(True)
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def check_gradient_penalty(student: Callable) -> None:
    """Exercise: the WGAN-GP penalty at given points (chapter 8)."""
    from ganlib import models
    torch.manual_seed(8)
    D = models.MLPDiscriminator(2, (16, 16))
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 4.0]]))  # |grad| = 5
    D_lin = lambda x: linear(x).squeeze(1)  # noqa: E731
    cases = [("an MLP critic at 32 random points", (D, torch.randn(32, 2))),
             ("a linear critic with weights (3, 4): penalty (5 - 1)^2 = 16",
              (D_lin, torch.randn(8, 2))),
             ("an MLP critic at a single point", (D, torch.randn(1, 2)))]
    check_function(
        "gradient penalty", student, _ch8_gp_reference, cases,
        hint="take the gradient of D(x_hat).sum() with respect to x_hat "
             "(torch.autograd.grad), its L2 norm PER SAMPLE (dim=1, not "
             "squared), then the mean of (norm - 1)^2")
    x_hat = torch.randn(16, 2)
    penalty = student(D, x_hat)
    if not penalty.requires_grad:
        raise CheckFailed(
            "\ngradient penalty: the value is right but it cannot be "
            "trained on: it carries no gradient to D's weights.\n  hint: "
            "pass create_graph=True to torch.autograd.grad")
    grads = torch.autograd.grad(penalty, list(D.parameters()),
                                allow_unused=True)
    ref = torch.autograd.grad(_ch8_gp_reference(D, x_hat),
                              list(D.parameters()), allow_unused=True)
    for g, r in zip(grads, ref):
        if (g is None) != (r is None) or (g is not None and
                                          not close(g, r, 1e-5, 1e-4)):
            raise CheckFailed(
                "\ngradient penalty: its gradient with respect to D's "
                "weights differs from the reference.\n  hint: compute the "
                "penalty from a fresh leaf x_hat.requires_grad_(True) with "
                "create_graph=True, and do not detach the gradient")
    print("gradient penalty: differentiable with respect to D: passed.")


def check_unroll(student: Callable) -> None:
    """Exercise: k differentiable SGD steps of D (chapter 8)."""
    from ganlib import models, tricks
    torch.manual_seed(8)
    D = models.MLPDiscriminator(2, (8,))
    x_real = torch.randn(16, 2)
    for k, lr in ((0, 0.1), (1, 0.1), (3, 0.05)):
        x_fake = torch.randn(16, 2, requires_grad=True)
        case = f"k={k} unrolled steps with lr={lr}, an MLP D, 16 points"
        ref = tricks.unrolled_params(D, losses.d_loss, x_real, x_fake, k,
                                     lr)
        try:
            got = student(D, losses.d_loss, x_real, x_fake, k, lr)
        except NotImplementedError:
            raise CheckFailed("\nunrolled step: the exercise is not done "
                              "yet (it still raises NotImplementedError)."
                              ) from None
        except Exception as err:  # show the student's error in context
            raise CheckFailed(f"\nunrolled step: your function raised "
                              f"{type(err).__name__}: {err}\n"
                              f"  on input:  {case}\n"
                              "  hint:      take k steps p - lr * grad of "
                              "loss_D at the CURRENT unrolled parameters "
                              "(torch.func.functional_call), with "
                              "create_graph=True") from None
        if not isinstance(got, dict) or set(got) != set(ref):
            fail("unrolled step", case, f"a dict with keys {sorted(ref)}",
                 got if not isinstance(got, dict) else sorted(got),
                 hint="return {name: tensor} like dict(D.named_parameters())")
        for name in ref:
            if not close(got[name], ref[name]):
                fail("unrolled step", f"{case}, parameter {name}",
                     ref[name], got[name],
                     hint="each step: loss_D on D(x_real) and D(x_fake) "
                          "with the CURRENT unrolled parameters "
                          "(functional_call), then p - lr * grad")
        if k > 0:
            out = sum(functional_out.sum() for functional_out in
                      [torch.func.functional_call(D, got, (x_fake,))])
            if not out.requires_grad:
                raise CheckFailed("\nunrolled step: the unrolled parameters"
                                  " carry no gradient.\n  hint: "
                                  "create_graph=True in torch.autograd.grad")
            g, = torch.autograd.grad(out, x_fake, allow_unused=True)
            ref_out = torch.func.functional_call(D, ref, (x_fake,)).sum()
            g_ref, = torch.autograd.grad(ref_out, x_fake)
            if g is None or not close(g, g_ref):
                raise CheckFailed(
                    "\nunrolled step: the values are right but the gradient "
                    "through the unrolled steps is not: a loss at the "
                    "unrolled parameters must see how x_fake changed D.\n"
                    "  hint: do not detach x_fake or the gradients; use "
                    "create_graph=True")
    print("unrolled step: all 3 checks passed.")
