"""Oracle tests: every loss against values computed by hand."""

import math

import pytest
import torch

from ganlib import losses


def test_d_loss_matches_hand_computed_value():
    # D(x) = sigmoid(0) = 1/2 on real and fake: loss = -log(1/2) - log(1/2)
    zero = torch.zeros(4)
    assert losses.d_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    # logits 2 (real) and -1 (fake), one sample each
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    sig = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    expected = -math.log(sig(2.0)) - math.log(1 - sig(-1.0))
    assert losses.d_loss(real, fake).item() == pytest.approx(expected)


def test_d_loss_equals_binary_cross_entropy():
    real, fake = torch.randn(16), torch.randn(16)
    bce = torch.nn.functional.binary_cross_entropy(
        torch.sigmoid(torch.cat([real, fake])),
        torch.cat([torch.ones(16), torch.zeros(16)]))
    assert losses.d_loss(real, fake).item() == pytest.approx(
        2 * bce.item(), rel=1e-5)


def test_generator_losses_hand_computed():
    a = torch.tensor([0.5, -3.0])
    sig = [1 / (1 + math.exp(-v)) for v in (0.5, -3.0)]
    minimax = sum(math.log(1 - s) for s in sig) / 2
    nonsat = -sum(math.log(s) for s in sig) / 2
    assert losses.g_loss_minimax(a).item() == pytest.approx(minimax)
    assert losses.g_loss_nonsaturating(a).item() == pytest.approx(nonsat)


def test_losses_are_stable_at_extreme_logits():
    a = torch.tensor([-200.0, 200.0], requires_grad=True)
    for loss in (losses.d_loss(a, a), losses.g_loss_minimax(a),
                 losses.g_loss_nonsaturating(a)):
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(a.grad).all()
        a.grad = None


def test_saturating_gradient_vanishes_where_nonsaturating_does_not():
    # D confidently rejects the fake: logit -10, D = 4.5e-5
    a = torch.tensor([-10.0], requires_grad=True)
    (g_minimax,) = torch.autograd.grad(losses.g_loss_minimax(a), a)
    (g_nonsat,) = torch.autograd.grad(losses.g_loss_nonsaturating(a), a)
    assert abs(g_minimax.item()) < 1e-4
    assert abs(g_nonsat.item()) > 0.99


@pytest.mark.parametrize("bad", [torch.zeros(4, 1), torch.zeros(()), [0.0]])
def test_losses_reject_wrong_shapes(bad):
    with pytest.raises(ValueError, match="1-D tensor of logits"):
        losses.g_loss_nonsaturating(bad)
