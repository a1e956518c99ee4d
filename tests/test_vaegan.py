"""VAE-GAN: the feature loss, a few-step smoke run, exact resume and the
same training as the loop it replaced."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import autoencoders, data, models, train, vaegan


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
    hist = vaegan.fit_vaegan(vae, D, x, steps=2, batch_size=8,
                             progress=False)
    assert isinstance(hist, train.History) and hist.step == [1, 2]
    assert len(hist["loss_D"]) == 2 and len(hist["loss_VAE"]) == 2
    assert any(not torch.equal(a, b)
               for a, b in zip(before, vae.parameters()))
    assert all(p.requires_grad for p in D.parameters())
    assert not vae.training  # left in eval mode, ready to sample
    rec = vaegan.reconstruct(vae, x[:3])
    assert rec.shape == (3, 1, 28, 28)


def test_vae_step_unfreezes_D_after_an_error():
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    D = models.DCGANDiscriminator(width=8)
    step = vaegan.VAEGANStep(autoencoders.VAE(latent_dim=4, width=8), D, x,
                             batch_size=4)

    def broken(module, args):
        if D.head.weight.requires_grad:
            return  # the D step runs as usual
        raise RuntimeError("a head that fails")

    D.head.register_forward_pre_hook(broken)  # fails with D frozen
    with pytest.raises(RuntimeError, match="fails"):
        step()
    assert all(p.requires_grad for p in D.parameters())


def same_state(net_a, net_b):
    """Every parameter and buffer (BatchNorm statistics) bit for bit."""
    a, b = net_a.state_dict(), net_b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def tiny_models():
    """Tiny data, VAE and D, all from seed 0."""
    torch.manual_seed(0)
    x = torch.rand(16, 1, 28, 28) * 2 - 1
    return (x, autoencoders.VAE(latent_dim=4, width=8),
            models.DCGANDiscriminator(width=8))


def run_vaegan(steps, **loop):
    x, vae, D = tiny_models()
    hist = vaegan.fit_vaegan(vae, D, x, steps=steps, batch_size=8,
                             w_feature=0.1, w_adv=10.0, progress=False,
                             **loop)
    return vae, D, hist


def test_resume_equals_uninterrupted_run(tmp_path):
    vae_a, D_a, hist_a = run_vaegan(5)
    path = tmp_path / "x.pt"
    run_vaegan(2, checkpoint=path)  # "interrupted" at step 2
    torch.manual_seed(999)  # the resumed run restores its own RNG state
    vae_b, D_b, hist_b = run_vaegan(5, checkpoint=path)
    assert same_state(vae_a, vae_b) and same_state(D_a, D_b)
    assert hist_a.state_dict() == hist_b.state_dict()
    assert hist_b.step == [1, 2, 3, 4, 5]


def old_fit_vaegan(vae, D, x_train, *, steps, batch_size=128, lr=1e-3,
                   lr_D=2e-4, beta=1.0, w_pixel=1.0, w_feature=1.0,
                   w_adv=1.0):
    """The loop fit_vaegan ran before train.fit (ganlib 6875b51): the
    reference the new loop must match."""
    vae.to(x_train.device).train()
    D.to(x_train.device).train()
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    sample = data.TensorSampler(x_train)
    history = {"loss_D": [], "loss_VAE": []}
    for _ in range(steps):
        x = sample(batch_size)
        x_rec, mu, logvar = vae(x)
        x_p = vae.decode(torch.randn(len(x), vae.latent_dim,
                                     device=x.device))
        fakes = torch.cat([x_rec, x_p]).detach()
        out_real, out_fake = D(x), D(fakes)
        loss_D = F.softplus(-out_real).mean() + F.softplus(out_fake).mean()
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        D.requires_grad_(False)
        with torch.no_grad():
            f_real = D.features(x)
        f_rec = D.features(x_rec)
        adv = F.softplus(-D.head(f_rec)).mean() + F.softplus(-D(x_p)).mean()
        pixel = (x_rec - x).pow(2).flatten(1).sum(1).mean()
        loss = beta * autoencoders.kl_divergence(mu, logvar) + \
            w_pixel * pixel + w_feature * vaegan.feature_loss(f_rec, f_real) \
            + w_adv * adv
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        D.requires_grad_(True)
        history["loss_D"].append(loss_D.item())
        history["loss_VAE"].append(loss.item())
    vae.eval()
    return history


def test_new_loop_trains_exactly_as_the_old_one():
    vae_new, D_new, hist_new = run_vaegan(4)
    x, vae_old, D_old = tiny_models()
    hist_old = old_fit_vaegan(vae_old, D_old, x, steps=4, batch_size=8,
                              w_feature=0.1, w_adv=10.0)
    assert same_state(vae_new, vae_old) and same_state(D_new, D_old)
    assert hist_new["loss_D"] == hist_old["loss_D"]
    assert hist_new["loss_VAE"] == hist_old["loss_VAE"]
