"""Step functions of the tricks: the unrolled and feature-matching
generator steps, against hand-computed references."""

import torch
import torch.nn.functional as F
from torch import nn

from toy_nets import LinearCritic

from ganlib import losses, tricks


class LinearG(nn.Module):
    latent_dim = 1

    def __init__(self):
        super().__init__()
        self.A = nn.Parameter(torch.tensor([[0.7, -0.4]]))
        self.c = nn.Parameter(torch.tensor([0.2, 0.1]))

    def forward(self, z):
        return z @ self.A + self.c


def _unrolled_grad(k, lr=0.5):
    torch.manual_seed(0)
    G, D = LinearG(), LinearCritic()
    x_real, z = torch.randn(8, 2), torch.randn(8, 1)
    opt = torch.optim.SGD(G.parameters(), lr=1.0)
    before = [p.detach().clone() for p in G.parameters()]
    step = tricks.UnrolledStep(lambda n: x_real, k=k, lr=lr)
    step(G, D, opt, losses.g_loss_nonsaturating, z)
    return [b - p.detach() for b, p in zip(before, G.parameters())], \
        (G, D, x_real, z, before)


def test_unrolled_k0_is_the_plain_generator_gradient():
    grads, (G, D, x_real, z, before) = _unrolled_grad(k=0)
    with torch.no_grad():
        for p, b in zip(G.parameters(), before):
            p.copy_(b)
    loss = losses.g_loss_nonsaturating(D(G(z)))
    plain = torch.autograd.grad(loss, list(G.parameters()))
    for g, p in zip(grads, plain):
        assert torch.allclose(g, p, atol=1e-6)


def test_unrolled_k1_matches_a_hand_unrolled_step():
    lr = 0.5
    grads, (G, D, x_real, z, before) = _unrolled_grad(k=1, lr=lr)
    A = before[0].clone().requires_grad_(True)
    c = before[1].clone().requires_grad_(True)
    w, b = D.w.detach(), D.b.detach()
    x_fake = z @ A + c
    a_real, a_fake = x_real @ w + b, x_fake @ w + b
    # dL_D/dw and dL_D/db of softplus(-a_real) + softplus(a_fake), by hand
    s_real, s_fake = torch.sigmoid(-a_real), torch.sigmoid(a_fake)
    dw = (-s_real[:, None] * x_real).mean(0) + (s_fake[:, None] * x_fake
                                                 ).mean(0)
    db = -s_real.mean() + s_fake.mean()
    w1, b1 = w - lr * dw, b - lr * db
    loss = F.softplus(-(x_fake @ w1 + b1)).mean()
    hand = torch.autograd.grad(loss, [A, c])
    for g, h in zip(grads, hand):
        assert torch.allclose(g, h, atol=1e-6)
    # the plain gradient, against the current D, is a different vector
    A2 = before[0].clone().requires_grad_(True)
    x_fake2 = z @ A2 + before[1]
    plain, = torch.autograd.grad(F.softplus(-(x_fake2 @ w + b)).mean(), A2)
    assert not torch.allclose(grads[0], plain, atol=1e-4)


def test_feature_matching_step_oracle():
    G = tricks.ToyGenerator(1, 4, (8,))
    D = tricks.ToyDiscriminator(1, hidden=(8, 6))
    x_real = torch.randn(1, 10, 2)
    z = torch.randn(1, 10, 4)
    d_before = [p.detach().clone() for p in D.parameters()]
    with torch.no_grad():
        expected = (D.features(x_real).mean(1)
                    - D.features(G(z)).mean(1)).pow(2).sum()
    step = tricks.FeatureMatchingStep(lambda n: x_real)
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    loss = step(G, D, opt, None, z)
    assert torch.allclose(loss, expected, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
