"""Semi-supervised GAN: the K+1 loss, feature matching, labelled subsets."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import semisup


def test_d_prob_real_matches_z_over_z_plus_one():
    logits = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    z = logits.exp().sum(1)
    assert torch.allclose(semisup.d_prob_real(logits), z / (z + 1))
    # stable where exp overflows
    big = torch.tensor([[200.0, 0.0]])
    assert semisup.d_prob_real(big).item() == pytest.approx(1.0)


def test_d_loss_semisup_by_hand():
    # K = 2, one example per term; all logits zero: Z = 2, D = 2/3
    zero = torch.zeros(1, 2)
    loss = semisup.d_loss_semisup(zero, torch.tensor([0]), zero, zero)
    supervised = math.log(2)  # -log(1/2)
    unsupervised = 0.5 * (-math.log(2 / 3) - math.log(1 / 3))
    assert loss.item() == pytest.approx(supervised + unsupervised, rel=1e-6)


def test_d_loss_semisup_equals_k_plus_one_softmax():
    # the K-logit form is a (K+1)-class softmax with a fake logit fixed at 0
    g = torch.Generator().manual_seed(1)
    lab, unl, fake = (torch.randn(6, 4, generator=g) for _ in range(3))
    y = torch.randint(4, (6,), generator=g)
    pad = lambda a: torch.cat([a, torch.zeros(len(a), 1)], 1)  # noqa
    p_fake_unl = F.softmax(pad(unl), 1)[:, -1]
    p_fake_gen = F.softmax(pad(fake), 1)[:, -1]
    expected = F.cross_entropy(lab, y) + 0.5 * (
        -torch.log(1 - p_fake_unl).mean() - torch.log(p_fake_gen).mean())
    got = semisup.d_loss_semisup(lab, y, unl, fake)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_d_loss_semisup_rejects_1d_logits():
    with pytest.raises(ValueError, match="class logits"):
        semisup.d_loss_semisup(torch.zeros(3), torch.zeros(3).long(),
                               torch.zeros(3, 2), torch.zeros(3, 2))


def test_feature_matching_loss_by_autograd():
    f_real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    f_fake = torch.tensor([[0.0, 0.0], [0.0, 2.0]], requires_grad=True)
    loss = semisup.feature_matching_loss(f_real, f_fake)
    assert loss.item() == pytest.approx(((2 - 0) ** 2 + (3 - 1) ** 2) / 2)
    loss.backward()
    # d/df_fake[i, j] = -2 (mean_real_j - mean_fake_j) / (d * B)
    assert torch.allclose(f_fake.grad, torch.full((2, 2), -1.0))


def test_select_labelled_partition_and_balance():
    y = torch.arange(10).repeat(7)
    lab, unl = semisup.select_labelled(y, 3, seed=5)
    assert len(lab) == 30 and len(unl) == 40
    assert set(lab.tolist()).isdisjoint(unl.tolist())
    assert torch.bincount(y[lab]).tolist() == [3] * 10
    again, _ = semisup.select_labelled(y, 3, seed=5)
    assert torch.equal(lab, again)
    with pytest.raises(ValueError, match="fewer than"):
        semisup.select_labelled(y, 8)


def test_models_shapes_and_noise_only_in_training():
    D = semisup.Classifier(hidden=(32, 16))
    x = torch.randn(5, 1, 28, 28)
    assert D(x).shape == (5, 10) and D.features(x).shape == (5, 16)
    D.eval()
    assert torch.equal(D(x), D(x))  # no noise in eval mode
    G = semisup.Generator(latent_dim=8, hidden=(16,))
    out = G(torch.rand(5, 8))
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1
    with pytest.raises(ValueError):
        G(torch.rand(5, 9))


def test_fit_gan_and_baseline_smoke():
    x = torch.randn(40, 1, 28, 28).clamp(-1, 1)
    y = torch.arange(10).repeat(4)
    lab, unl = semisup.select_labelled(y, 1)
    D = semisup.Classifier(hidden=(32, 16))
    G = semisup.Generator(latent_dim=8, hidden=(16,))
    before = [p.detach().clone() for p in G.parameters()]
    hist = semisup.fit_gan(G, D, x[lab], y[lab], x[unl], steps=3,
                           batch_size=8, x_test=x, y_test=y, eval_every=2)
    assert len(hist.loss_D) == 3 and hist.eval_step == [2, 3]
    assert all(0 <= e <= 1 for e in hist.test_error)
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    B = semisup.Classifier(hidden=(32, 16))
    losses = semisup.fit_supervised(B, x[lab], y[lab], steps=3)
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)


def test_init_from_data_standardises_every_layer():
    D = semisup.Classifier(hidden=(32, 16))
    x = torch.randn(300, 1, 28, 28)
    semisup.init_from_data(D, x)
    D.eval()
    logits = D(x)
    assert torch.allclose(logits.mean(0), torch.zeros(10), atol=1e-4)
    assert torch.allclose(logits.std(0), torch.ones(10), atol=1e-3)
    assert D.training is False  # restored to the mode it had (eval)


@pytest.mark.parametrize("max_shift", [0, 2])
def test_max_shift_feeds_shifted_real_images(max_shift):
    torch.manual_seed(0)
    x = torch.rand(10, 1, 28, 28) * 2 - 1
    y = torch.arange(10)
    seen = []

    class Recording(semisup.Classifier):
        def forward(self, x):
            seen.append(x.detach().clone())
            return super().forward(x)

    semisup.fit_supervised(Recording(hidden=(16,)), x, y, steps=2,
                           max_shift=max_shift)
    inputs = torch.cat(seen)
    originals = [(row == x).flatten(1).all(1).any().item() for row in inputs]
    if max_shift == 0:
        assert all(originals)
    else:  # most rows moved (1 in 25 draws the offset (0, 0))
        assert sum(originals) < len(inputs) / 2
    # the GAN sees shifted labelled and unlabelled images the same way
    seen.clear()
    G = semisup.Generator(latent_dim=4, hidden=(8,))
    semisup.fit_gan(G, Recording(hidden=(16,)), x, y, x, steps=1,
                    batch_size=10, max_shift=max_shift)
    real = seen[0][:20]  # labelled, then unlabelled rows of the D step
    moved = sum(not (row == x).flatten(1).all(1).any().item()
                for row in real)
    assert (moved > 10) == (max_shift > 0)
