r"""VAE-GAN (Larsen et al., 2016): a VAE whose decoder is also a GAN
generator.

The VAE is :class:`ganlib.autoencoders.VAE` (chapter 2). A discriminator
D judges real digits against reconstructions and prior samples, and part
of the reconstruction error is measured in D's features instead of in
pixels, which is what removes the blur of a pixel-wise loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganlib import autoencoders, data, models


def feature_loss(f_rec: torch.Tensor, f_real: torch.Tensor) -> torch.Tensor:
    r"""Reconstruction error in D's feature space,
    :math:`\lVert D_l(x) - D_l(\tilde x) \rVert^2`, summed over features
    and averaged over the batch."""
    if f_rec.shape != f_real.shape:
        raise ValueError(f"feature batches differ in shape: "
                         f"{tuple(f_rec.shape)} vs {tuple(f_real.shape)}")
    return (f_rec - f_real).pow(2).flatten(1).sum(1).mean()


def fit_vaegan(vae: autoencoders.VAE, D: models.DCGANDiscriminator,
               x_train: torch.Tensor, *, steps: int, batch_size: int = 128,
               lr: float = 1e-3, lr_D: float = 2e-4, beta: float = 1.0,
               w_pixel: float = 1.0, w_feature: float = 1.0,
               w_adv: float = 1.0) -> dict[str, list[float]]:
    r"""Train a VAE-GAN; returns the losses per step.

    .. math:: L_{VAE} = \beta\,\mathrm{KL} + w_p \lVert x - \tilde x
              \rVert^2 + w_f \lVert D_l(x) - D_l(\tilde x) \rVert^2
              - w_a \big[\log D(\tilde x) + \log D(\mathrm{Dec}(z_p))\big]

    and D learns to tell x from both the reconstructions
    :math:`\tilde x` and the samples :math:`\mathrm{Dec}(z_p)`.
    """
    if steps < 0 or batch_size < 1:
        raise ValueError(f"need steps >= 0 and batch_size >= 1, got "
                         f"steps={steps}, batch_size={batch_size}")
    vae.to(x_train.device).train()
    D.to(x_train.device).train()
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    sample = data.TensorSampler(x_train)
    history: dict[str, list[float]] = {"loss_D": [], "loss_VAE": []}
    for _ in range(steps):
        x = sample(batch_size)
        x_rec, mu, logvar = vae(x)
        x_p = vae.decode(torch.randn(len(x), vae.latent_dim,
                                     device=x.device))
        # (1) Update D: real digits against reconstructions and samples
        fakes = torch.cat([x_rec, x_p]).detach()  # no gradient into the VAE
        out_real, out_fake = D(x), D(fakes)
        loss_D = F.softplus(-out_real).mean() + F.softplus(out_fake).mean()
        opt_D.zero_grad(set_to_none=True)
        loss_D.backward()
        opt_D.step()
        # (2) Update the VAE: KL + pixel + feature reconstruction + fool D
        D.requires_grad_(False)  # gradients flow through D, not into it
        with torch.no_grad():  # the real features are a fixed target
            f_real = D.features(x)
        f_rec = D.features(x_rec)
        adv = F.softplus(-D.head(f_rec)).mean() + F.softplus(-D(x_p)).mean()
        pixel = (x_rec - x).pow(2).flatten(1).sum(1).mean()
        loss = beta * autoencoders.kl_divergence(mu, logvar) + \
            w_pixel * pixel + w_feature * feature_loss(f_rec, f_real) + \
            w_adv * adv
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        D.requires_grad_(True)
        history["loss_D"].append(loss_D.item())
        history["loss_VAE"].append(loss.item())
    vae.eval()
    return history


@torch.no_grad()
def reconstruct(vae: autoencoders.VAE, x: torch.Tensor) -> torch.Tensor:
    """Dec(mu(x)): the mean reconstruction, in eval mode."""
    vae.eval()
    return vae.decode(vae.encode(x)[0])
