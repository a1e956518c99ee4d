"""Autoencoders and the VAE: shapes, smoke fits, the KL term by hand."""

import math

import pytest
import torch
import torch.nn.functional as F

from ganlib import autoencoders as ae
from ganlib import data

MODELS = [lambda: ae.LinearAutoencoder(4), lambda: ae.MLPAutoencoder(2, (32,)),
          lambda: ae.ConvAutoencoder(8, width=8)]


@pytest.mark.parametrize("make", MODELS)
def test_autoencoder_shapes(make):
    model = make()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    z = model.encode(x)
    assert z.shape == (5, model.latent_dim)
    assert model.decode(z).shape == (5, 1, 28, 28)
    assert model(x).shape == x.shape


def test_tanh_decoders_stay_in_image_range():
    model = ae.ConvAutoencoder(8, width=8)
    out = model.decode(torch.randn(16, 8) * 100)
    assert out.min() >= -1 and out.max() <= 1


def test_bad_inputs_raise_clear_errors():
    model = ae.ConvAutoencoder(8, width=8)
    with pytest.raises(ValueError, match="28, 28"):
        model.encode(torch.zeros(2, 784))
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        model.decode(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="latent_dim"):
        ae.ConvAutoencoder(0)


def test_fit_autoencoder_lowers_the_loss():
    x, _ = data.load_mnist("train", "embedded")
    torch.manual_seed(0)
    model = ae.ConvAutoencoder(8, width=8)
    before = ae.reconstruction_mse(model, x[:200])
    losses = ae.fit_autoencoder(model, x[:512], F.mse_loss, steps=40,
                                batch_size=64, lr=2e-3, progress=False)
    assert len(losses) == 40 and all(math.isfinite(v) for v in losses)
    assert not model.training
    assert ae.reconstruction_mse(model, x[:200]) < 0.8 * before
    assert sum(losses[-5:]) < sum(losses[:5])


def test_fit_autoencoder_uses_any_loss_and_rejects_bad_budgets():
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    model = ae.LinearAutoencoder(3)
    losses = ae.fit_autoencoder(model, x, F.l1_loss, steps=3, batch_size=8,
                                progress=False)
    assert len(losses) == 3
    with pytest.raises(ValueError, match="steps"):
        ae.fit_autoencoder(model, x, F.mse_loss, steps=-1, progress=False)


def test_kl_matches_a_hand_computed_value():
    # one sample, two dims: mu = (1, 0), sigma^2 = (1, e)
    # KL = 1/2 [(1 + 1 - 0 - 1) + (0 + e - 1 - 1)] = 1/2 (e - 1)
    mu = torch.tensor([[1.0, 0.0]])
    logvar = torch.tensor([[0.0, 1.0]])
    expected = 0.5 * (math.e - 1)
    assert ae.kl_divergence(mu, logvar).item() == pytest.approx(expected)
    # the prior itself has KL 0
    assert ae.kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)) == 0


def test_kl_matches_torch_distributions():
    torch.manual_seed(1)
    mu, logvar = torch.randn(6, 3), torch.randn(6, 3)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert ae.kl_divergence(mu, logvar).item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_vae_loss_is_sum_of_squares_plus_beta_kl():
    x = torch.zeros(2, 1, 28, 28)
    x_rec = torch.full_like(x, 0.5)  # squared error 0.25 on 784 pixels
    mu, logvar = torch.ones(2, 2), torch.zeros(2, 2)  # KL = 1/2 * 2 = 1
    assert ae.vae_loss(x_rec, x, mu, logvar).item() == pytest.approx(
        0.25 * 784 + 1.0)
    assert ae.vae_loss(x_rec, x, mu, logvar, beta=3).item() == \
        pytest.approx(0.25 * 784 + 3.0)


def test_reparameterize_statistics_and_gradients():
    torch.manual_seed(2)
    mu = torch.full((20000, 1), 2.0, requires_grad=True)
    logvar = torch.full((20000, 1), math.log(0.25), requires_grad=True)
    z = ae.reparameterize(mu, logvar)
    assert z.mean().item() == pytest.approx(2.0, abs=0.02)
    assert z.std().item() == pytest.approx(0.5, abs=0.02)
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None


def test_vae_shapes_sample_and_smoke_fit():
    x, _ = data.load_mnist("train", "embedded")
    torch.manual_seed(0)
    vae = ae.VAE(latent_dim=2, width=8)
    x_rec, mu, logvar = vae(x[:4])
    assert x_rec.shape == (4, 1, 28, 28) and mu.shape == logvar.shape == (4, 2)
    assert vae.sample(3).shape == (3, 1, 28, 28)
    losses = ae.fit_vae(vae, x[:512], steps=30, batch_size=64, lr=2e-3,
                        progress=False)
    assert len(losses) == 30
    assert sum(losses[-5:]) < sum(losses[:5])
    assert ae.reconstruction_mse(vae, x[:100]) > 0


def test_fit_keeps_only_the_loss_values_not_their_buffers(monkeypatch):
    # a CPU mse_loss result may keep its elementwise buffer as storage;
    # the recorded losses must not hold on to one such buffer per step
    # (the loop keeps one stacked row of logs per step until it flushes)
    kept = []
    real_stack = torch.stack

    def spy(tensors, *args, **kwargs):
        out = real_stack(tensors, *args, **kwargs)
        kept.append(out)
        return out

    monkeypatch.setattr(torch, "stack", spy)
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    ae.fit_autoencoder(ae.LinearAutoencoder(2), x, steps=3, batch_size=32,
                       log_every=10, progress=False)
    assert len(kept) >= 3
    assert all(t.untyped_storage().nbytes() <= 4 * t.numel() for t in kept)
