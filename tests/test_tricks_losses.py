"""Losses of the tricks: one-sided label smoothing and the gradient
penalty, against references."""

import pytest
import torch
import torch.nn.functional as F

from toy_nets import LinearCritic

from ganlib import losses, tricks


def test_one_sided_label_smoothing_is_bce_with_target_0_9():
    real, fake = torch.randn(10), torch.randn(10)
    ref = F.binary_cross_entropy_with_logits(real, torch.full((10,), 0.9)) \
        + F.binary_cross_entropy_with_logits(fake, torch.zeros(10))
    assert torch.allclose(tricks.d_loss_one_sided(real, fake, 0.1), ref)
    assert torch.allclose(tricks.d_loss_one_sided(real, fake, 0.0),
                          losses.d_loss(real, fake))
    with pytest.raises(ValueError):
        tricks.d_loss_one_sided(real, fake, 1.0)


def test_gradient_penalty_of_a_linear_critic():
    D = LinearCritic()  # its gradient is w everywhere
    gp = tricks.gradient_penalty(D, torch.randn(16, 2), torch.randn(16, 2))
    expected = (D.w.norm() - 1) ** 2
    assert torch.allclose(gp, expected)


def test_gradient_penalty_matches_per_sample_autograd():
    D = tricks.ToyDiscriminator(2, hidden=(8,))
    x_real, x_fake = torch.randn(2, 5, 2), torch.randn(2, 5, 2)
    torch.manual_seed(3)
    gp = tricks.gradient_penalty(D, x_real, x_fake)
    torch.manual_seed(3)
    eps = torch.rand(2, 5, 1)  # the same draw as inside the penalty
    x_hat = eps * x_real + (1 - eps) * x_fake
    norms = []
    for s in range(2):
        for i in range(5):
            xi = x_hat[:, i:i + 1].clone().requires_grad_(True)
            out = D(xi)[s]  # model s on sample i (models are independent)
            g, = torch.autograd.grad(out, xi)
            norms.append(g[s, 0].norm())
    expected = ((torch.stack(norms) - 1) ** 2).mean()
    assert torch.allclose(gp, expected, atol=1e-6)
    gp.backward()  # differentiable: the critic can descend it
    assert D.head.weight.grad is not None
