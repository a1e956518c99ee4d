"""pix2pix: U-Net, PatchGAN, the losses, masks, super-resolution input."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import metrics, pix2pix, train


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
    assert metrics.sharpness(low) < metrics.sharpness(x)
    assert metrics.sharpness(torch.zeros(1, 1, 5, 5)) == 0.0


def test_losses_compute_exactly_the_hand_written_bce():
    # the exercise references go through ganlib.losses: same arithmetic
    torch.manual_seed(0)
    real, fake = torch.randn(3, 1, 7, 7), torch.randn(3, 1, 7, 7)
    b_fake, b_real = torch.randn(3, 1, 28, 28), torch.randn(3, 1, 28, 28)
    assert torch.equal(pix2pix.patch_d_loss(real, fake),
                       F.softplus(-real).mean() + F.softplus(fake).mean())
    assert torch.equal(
        pix2pix.pix2pix_g_loss(fake, b_fake, b_real, 7.0),
        F.softplus(-fake).mean() + 7.0 * (b_fake - b_real).abs().mean())


def tiny_pairs():
    x = torch.randn(10, 1, 28, 28).clamp(-1, 1)

    def pairs(n):
        b = x[torch.randint(10, (n,))]
        a, mask = pix2pix.mask_square(b, 8)
        return torch.cat([a, mask], 1), b

    return pairs


def feature_l2(b_fake, b_real):
    return (b_fake - b_real).pow(2).mean()


def test_fit_smoke_with_and_without_D():
    pairs = tiny_pairs()
    G = pix2pix.UNet(2, width=8)
    D = pix2pix.PatchDiscriminator(3, width=8)
    hist = pix2pix.fit(G, D, pairs, steps=2, batch_size=4, progress=False)
    assert isinstance(hist, train.History) and hist.step == [1, 2]
    assert len(hist["loss_D"]) == 2 and len(hist["loss_G"]) == 2
    assert all(p.requires_grad for p in D.parameters())
    G2 = pix2pix.UNet(2, width=8)
    hist = pix2pix.fit(G2, None, pairs, steps=2, batch_size=4,
                       l1_weight=0.0, extra_loss=feature_l2, progress=False)
    assert "loss_D" not in hist and len(hist["loss_G"]) == 2
    assert pix2pix.translate(G2, pairs(3)[0]).shape == (3, 1, 28, 28)


def test_update_G_unfreezes_D_after_an_error():
    G = pix2pix.UNet(2, width=8)
    D = pix2pix.PatchDiscriminator(3, width=8)
    opt_G = torch.optim.Adam(G.parameters())
    a, b = tiny_pairs()(2)

    def broken(b_fake, b_real):
        raise RuntimeError("a feature loss that fails")

    with pytest.raises(RuntimeError, match="fails"):
        pix2pix.update_G(G, D, opt_G, a, b, extra_loss=broken)
    assert all(p.requires_grad for p in D.parameters())


def same_state(net_a, net_b):
    """Every parameter and buffer (BatchNorm statistics) bit for bit."""
    a, b = net_a.state_dict(), net_b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def run_pix2pix(steps, with_D, **loop):
    """Tiny models and data, all from seed 0; returns (G, D, history)."""
    torch.manual_seed(0)
    pairs = tiny_pairs()
    G = pix2pix.UNet(2, width=8)
    D = pix2pix.PatchDiscriminator(3, width=8) if with_D else None
    hist = pix2pix.fit(G, D, pairs, steps=steps, batch_size=4,
                       l1_weight=10.0, extra_loss=feature_l2,
                       progress=False, **loop)
    return G, D, hist


@pytest.mark.parametrize("with_D", [True, False])
def test_resume_equals_uninterrupted_run(tmp_path, with_D):
    G_a, D_a, hist_a = run_pix2pix(5, with_D)
    path = tmp_path / "x.pt"
    run_pix2pix(2, with_D, checkpoint=path)  # "interrupted" at step 2
    torch.manual_seed(999)  # the resumed run restores its own RNG state
    G_b, D_b, hist_b = run_pix2pix(5, with_D, checkpoint=path)
    nets_a = [G_a, D_a] if with_D else [G_a]
    nets_b = [G_b, D_b] if with_D else [G_b]
    assert all(same_state(a, b) for a, b in zip(nets_a, nets_b))
    assert hist_a.state_dict() == hist_b.state_dict()
    assert hist_b.step == [1, 2, 3, 4, 5]


def old_fit(G, D, sample_pair, *, steps, batch_size=64, lr=2e-4,
            l1_weight=100.0, extra_loss=None):
    """The loop pix2pix.fit ran before train.fit (ganlib 6875b51), its
    losses written out by hand: the reference the new loop must match."""
    G.train()
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    if D is not None:
        D.train()
        opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    history = {"loss_D": [], "loss_G": []}
    for _ in range(steps):
        a, b_real = sample_pair(batch_size)
        if D is not None:
            with torch.no_grad():
                b_fake = G(a)
            real_map, fake_map = D(a, b_real), D(a, b_fake)
            l_D = F.softplus(-real_map).mean() + F.softplus(fake_map).mean()
            opt_D.zero_grad(set_to_none=True)
            l_D.backward()
            opt_D.step()
            history["loss_D"].append(l_D.item())
            D.requires_grad_(False)
            b_fake = G(a)
            l_G = F.softplus(-D(a, b_fake)).mean() + \
                l1_weight * (b_fake - b_real).abs().mean()
            if extra_loss is not None:
                l_G = l_G + extra_loss(b_fake, b_real)
            opt_G.zero_grad(set_to_none=True)
            l_G.backward()
            opt_G.step()
            D.requires_grad_(True)
        else:
            b_fake = G(a)
            l_G = l1_weight * (b_fake - b_real).abs().mean()
            if extra_loss is not None:
                l_G = l_G + extra_loss(b_fake, b_real)
            opt_G.zero_grad(set_to_none=True)
            l_G.backward()
            opt_G.step()
        history["loss_G"].append(l_G.item())
    return history


@pytest.mark.parametrize("with_D", [True, False])
def test_new_loop_trains_exactly_as_the_old_one(with_D):
    G_new, D_new, hist_new = run_pix2pix(4, with_D)
    torch.manual_seed(0)
    pairs = tiny_pairs()
    G_old = pix2pix.UNet(2, width=8)
    D_old = pix2pix.PatchDiscriminator(3, width=8) if with_D else None
    hist_old = old_fit(G_old, D_old, pairs, steps=4, batch_size=4,
                       l1_weight=10.0, extra_loss=feature_l2)
    assert same_state(G_new, G_old)
    if with_D:
        assert same_state(D_new, D_old)
    for name in hist_new.keys():
        assert hist_new[name] == hist_old[name]
