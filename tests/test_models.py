"""Shape tests for every model, conditional variants, and bad input."""

import pytest
import torch
from torch import nn

from ganlib import models


def test_mlp_shapes_and_linear_generator():
    G = models.MLPGenerator(3, 2, (16,))
    D = models.MLPDiscriminator(2, (16, 16), dropout=0.2)
    z = torch.randn(5, 3)
    assert G(z).shape == (5, 2)
    assert D(G(z)).shape == (5,)
    lin = models.MLPGenerator(1, 1, hidden=())
    assert sum(isinstance(m, nn.Linear) for m in lin.modules()) == 1


def test_dcgan_shapes_and_range():
    G, D = models.DCGANGenerator(latent_dim=8, width=8), \
        models.DCGANDiscriminator(width=8)
    x = G(torch.randn(4, 8))
    assert x.shape == (4, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (4,)


def test_conditional_models_take_labels():
    G = models.DCGANGenerator(latent_dim=8, width=8, n_classes=10)
    D = models.DCGANDiscriminator(width=8, n_classes=10)
    y = torch.arange(4)
    x = G(torch.randn(4, 8), y)
    assert x.shape == (4, 1, 28, 28) and D(x, y).shape == (4,)
    Gm = models.MLPGenerator(2, 2, (8,), n_classes=3)
    Dm = models.MLPDiscriminator(2, (8,), n_classes=3)
    assert Dm(Gm(torch.randn(3, 2), torch.arange(3)),
              torch.arange(3)).shape == (3,)


def test_dcgan_init_statistics():
    G = models.DCGANGenerator(latent_dim=64, width=64)
    conv = G.up[0].weight
    assert conv.std().item() == pytest.approx(0.02, rel=0.1)
    bn = G.project[2].weight
    assert bn.mean().item() == pytest.approx(1.0, abs=0.01)


def test_models_reject_bad_input():
    G = models.DCGANGenerator(latent_dim=8, width=8)
    D = models.DCGANDiscriminator(width=8)
    with pytest.raises(ValueError, match=r"shape \(B, 8\)"):
        G(torch.randn(4, 9))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        D(torch.randn(4, 28, 28))
    with pytest.raises(ValueError, match="not conditional"):
        G(torch.randn(4, 8), torch.arange(4))
    Gc = models.DCGANGenerator(latent_dim=8, width=8, n_classes=10)
    with pytest.raises(ValueError, match="call it with labels"):
        Gc(torch.randn(4, 8))
    with pytest.raises(ValueError, match="integer labels"):
        Gc(torch.randn(4, 8), torch.zeros(4))


def test_packed_discriminator_judges_m_images_at_once():
    torch.manual_seed(0)
    D = models.DCGANDiscriminator(width=8, pack=2).eval()
    x = torch.randn(6, 1, 28, 28)
    out = D(x)
    assert out.shape == (3,)
    # pack i holds images 2i and 2i + 1 as its two channels
    pairs = torch.cat([x[0::2], x[1::2]], dim=1)  # (3, 2, 28, 28)
    assert torch.allclose(out, D.head(D.features(pairs)).squeeze(1))
    # swapping the partner of one image changes only that pack's verdict
    x2 = x.clone()
    x2[1] = torch.randn(1, 28, 28)
    changed = D(x2) != out
    assert changed.tolist() == [True, False, False]


def test_packed_discriminator_rejects_bad_settings():
    with pytest.raises(ValueError, match="multiple of 4"):
        models.DCGANDiscriminator(width=8, pack=4)(torch.randn(6, 1, 28, 28))
    with pytest.raises(ValueError, match="pack must be >= 1"):
        models.DCGANDiscriminator(width=8, pack=0)
    with pytest.raises(ValueError, match="unconditional"):
        models.DCGANDiscriminator(width=8, pack=2, n_classes=10)


def test_extra_layers_keep_sizes_and_add_one_conv_per_stage():
    plain_G, G = models.DCGANGenerator(8, 4), models.DCGANGenerator(
        8, 4, extra_layers=True)
    plain_D, D = models.DCGANDiscriminator(4, pack=2), \
        models.DCGANDiscriminator(4, pack=2, extra_layers=True)
    z = torch.randn(6, 8)
    x = G(z)
    assert x.shape == plain_G(z).shape == (6, 1, 28, 28)
    assert D(x).shape == plain_D(x).shape == (3,)

    def convs(m):
        return [c for c in m.modules() if type(c) is torch.nn.Conv2d]
    # G: 3x3 convs at 7x7 (2w channels) and 14x14 (w); D: one at 7x7 (2w)
    assert [c.in_channels for c in convs(G)] == [8, 4]
    assert all(c.kernel_size == (3, 3) for c in convs(G))
    assert len(convs(D)) == len(convs(plain_D)) + 1
    assert convs(D)[-1].kernel_size == (3, 3)
