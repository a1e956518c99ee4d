"""Oracle tests: every loss against values computed by hand."""

import math

import pytest
import torch
import torch.nn.functional as F

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


@pytest.mark.parametrize("bad", [torch.zeros(0), torch.zeros(4, dtype=torch.long),
                                 [0.0]])
def test_losses_reject_what_is_not_logits(bad):
    with pytest.raises(ValueError, match="non-empty float tensor"):
        losses.g_loss_nonsaturating(bad)


def test_d_loss_is_bce_over_logits_of_any_shape():
    # one per sample, one per patch, real and fake of different sizes
    for real, fake in ((torch.randn(8), torch.randn(8)),
                       (torch.randn(4, 1, 7, 7), torch.randn(4, 1, 7, 7)),
                       (torch.randn(6), torch.randn(12))):
        bce = F.binary_cross_entropy_with_logits
        expected = bce(real, torch.ones_like(real)) + \
            bce(fake, torch.zeros_like(fake))
        torch.testing.assert_close(losses.d_loss(real, fake), expected)


def test_feature_matching_is_the_squared_distance_of_the_means():
    f_real, f_fake = torch.randn(16, 5), torch.randn(16, 5)
    by_hand = sum((f_real[:, j].mean() - f_fake[:, j].mean()) ** 2
                  for j in range(5))
    torch.testing.assert_close(losses.feature_matching(f_real, f_fake),
                               by_hand)
    # S models at once: the mean of their S distances
    many_real, many_fake = torch.randn(3, 16, 5), torch.randn(3, 16, 5)
    each = [losses.feature_matching(r, f)
            for r, f in zip(many_real, many_fake)]
    torch.testing.assert_close(
        losses.feature_matching(many_real, many_fake), sum(each) / 3)
    with pytest.raises(ValueError, match="one d"):
        losses.feature_matching(torch.randn(4, 5), torch.randn(4, 6))


def test_losses_stay_float32_under_bfloat16_autocast():
    head = torch.nn.Linear(4, 1)
    x = torch.randn(8, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = head(x)[:, 0]
        assert logits.dtype == torch.bfloat16  # the network runs in bf16
        for value in (losses.d_loss(logits, logits),
                      losses.g_loss_nonsaturating(logits),
                      losses.feature_matching(head(x), head(x))):
            assert value.dtype == torch.float32
