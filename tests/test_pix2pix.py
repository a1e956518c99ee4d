"""pix2pix: U-Net, PatchGAN, the losses, masks, super-resolution input."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import pix2pix


def test_unet_and_patchgan_shapes():
    G = pix2pix.UNet(in_channels=2, width=8)
    a = torch.randn(3, 2, 28, 28)
    assert G(a).shape == (3, 1, 28, 28)
    D = pix2pix.PatchDiscriminator(in_channels=3, width=8)
    assert D(a, G(a)).shape == (3, 1, 7, 7)
    with pytest.raises(ValueError):
        D(a, torch.randn(2, 1, 28, 28))


def test_patch_receptive_field():
    # conv 4/2, conv 4/2, conv 3/1: 1 + 3*1 + 3*2 + 2*4 = 18 pixels
    assert pix2pix.receptive_field([(4, 2), (4, 2), (3, 1)]) == 18
    assert pix2pix.receptive_field([(3, 1)]) == 3


def test_unet_output_depends_locally_on_input():
    # the input skip makes G's output sensitive to its own pixel
    G = pix2pix.UNet(in_channels=1, width=8).eval()
    a = torch.zeros(1, 1, 28, 28, requires_grad=True)
    G(a)[0, 0, 14, 14].backward()
    assert a.grad[0, 0, 14, 14] != 0


def test_losses_by_hand():
    real, fake = torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
    assert pix2pix.patch_d_loss(real, fake).item() == \
        pytest.approx(2 * torch.log(torch.tensor(2.0)).item())
    b_real = torch.zeros(1, 1, 28, 28)
    b_fake = b_real.clone()
    b_fake[0, 0, 0, :4] = 1.0
    loss = pix2pix.pix2pix_g_loss(torch.zeros(1, 1, 7, 7), b_fake, b_real,
                                  l1_weight=10.0)
    expected = F.softplus(torch.tensor(0.0)) + 10.0 * 4 / 784
    assert loss.item() == pytest.approx(expected.item())
    with pytest.raises(ValueError):
        pix2pix.patch_d_loss(torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 4, 4))


def test_mask_square_hides_exactly_a_square():
    x = torch.ones(5, 1, 28, 28)
    masked, mask = pix2pix.mask_square(x, 6, torch.Generator().manual_seed(0))
    assert mask.sum((1, 2, 3)).tolist() == [36.0] * 5
    assert torch.equal(masked, x * (1 - mask))
    with pytest.raises(ValueError):
        pix2pix.mask_square(x, 40)


def test_downsample_keeps_block_means_and_sharpness_sees_blur():
    x = torch.randn(2, 1, 28, 28)
    low = pix2pix.downsample(x, 4)
    assert low.shape == x.shape
    assert torch.allclose(F.avg_pool2d(low, 4), F.avg_pool2d(x, 4),
                          atol=1e-6)
    assert pix2pix.sharpness(low) < pix2pix.sharpness(x)
    assert pix2pix.sharpness(torch.zeros(1, 1, 5, 5)) == 0.0


def test_fit_smoke_with_and_without_D():
    x = torch.randn(10, 1, 28, 28).clamp(-1, 1)

    def pairs(n):
        b = x[torch.randint(10, (n,))]
        a, mask = pix2pix.mask_square(b, 8)
        return torch.cat([a, mask], 1), b

    G = pix2pix.UNet(2, width=8)
    D = pix2pix.PatchDiscriminator(3, width=8)
    hist = pix2pix.fit(G, D, pairs, steps=2, batch_size=4)
    assert len(hist["loss_D"]) == 2 and len(hist["loss_G"]) == 2
    G2 = pix2pix.UNet(2, width=8)
    hist = pix2pix.fit(G2, None, pairs, steps=2, batch_size=4,
                       l1_weight=0.0,
                       extra_loss=lambda f, r: (f - r).pow(2).mean())
    assert hist["loss_D"] == [] and len(hist["loss_G"]) == 2
    assert pix2pix.translate(G2, pairs(3)[0]).shape == (3, 1, 28, 28)
