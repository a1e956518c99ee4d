"""VAE-GAN: the feature loss and a few-step smoke run."""

import pytest
import torch

from ganlib import autoencoders, models, vaegan


def test_feature_loss_by_hand():
    a = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    b = torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    # (1 + 4 + 0 + 9) / 2 images
    assert vaegan.feature_loss(a, b).item() == pytest.approx(7.0)
    with pytest.raises(ValueError):
        vaegan.feature_loss(a, b[:, :1])


def test_fit_vaegan_smoke_trains_vae_and_leaves_D_trainable():
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    vae = autoencoders.VAE(latent_dim=4, width=8)
    D = models.DCGANDiscriminator(width=8)
    before = [p.detach().clone() for p in vae.parameters()]
    hist = vaegan.fit_vaegan(vae, D, x, steps=2, batch_size=8)
    assert len(hist["loss_D"]) == 2 and len(hist["loss_VAE"]) == 2
    assert any(not torch.equal(a, b)
               for a, b in zip(before, vae.parameters()))
    assert all(p.requires_grad for p in D.parameters())
    rec = vaegan.reconstruct(vae, x[:3])
    assert rec.shape == (3, 1, 28, 28)
