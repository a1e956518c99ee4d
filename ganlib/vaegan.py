r"""VAE-GAN (Larsen et al., 2016): a VAE whose decoder is also a GAN
generator.

The VAE is :class:`ganlib.autoencoders.VAE` (chapter 2). A discriminator
D judges real digits against reconstructions and prior samples, and part
of the reconstruction error is measured in D's features instead of in
pixels, which is what removes the blur of a pixel-wise loss.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ganlib import autoencoders, data, losses, models, train


@losses.in_float32
def feature_loss(f_rec: torch.Tensor, f_real: torch.Tensor) -> torch.Tensor:
    r"""Reconstruction error in D's feature space,
    :math:`\lVert D_l(x) - D_l(\tilde x) \rVert^2`, summed over features
    and averaged over the batch."""
    if f_rec.shape != f_real.shape:
        raise ValueError(f"feature batches differ in shape: "
                         f"{tuple(f_rec.shape)} vs {tuple(f_real.shape)}")
    return (f_rec - f_real).pow(2).flatten(1).sum(1).mean()


def update_D(D: nn.Module, opt_D: torch.optim.Optimizer, x: torch.Tensor,
             x_rec: torch.Tensor, x_p: torch.Tensor) -> torch.Tensor:
    """(1) Update D: real digits against reconstructions and samples."""
    fakes = torch.cat([x_rec, x_p]).detach()  # no gradient into the VAE
    out_real, out_fake = D(x), D(fakes)
    loss = losses.d_loss(out_real, out_fake)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.detach()


def update_VAE(D: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor,
               x_rec: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
               x_p: torch.Tensor, *, beta: float = 1.0, w_pixel: float = 1.0,
               w_feature: float = 1.0, w_adv: float = 1.0) -> torch.Tensor:
    r"""(2) Update the VAE: KL + pixel + feature reconstruction + fool D.

    ``x_rec, mu, logvar = vae(x)`` and ``x_p`` = Dec(z_p), with their
    graphs; the loss is the one of :func:`fit_vaegan`.
    """
    with train.frozen(D):  # gradients flow through D, not into it
        with torch.no_grad():  # the real features are a fixed target
            f_real = D.features(x)
        f_rec = D.features(x_rec)
        adv = losses.g_loss_nonsaturating(D.head(f_rec)) + \
            losses.g_loss_nonsaturating(D(x_p))
        pixel = (x_rec - x).pow(2).flatten(1).sum(1).mean()
        loss = beta * autoencoders.kl_divergence(mu, logvar) + \
            w_pixel * pixel + w_feature * feature_loss(f_rec, f_real) + \
            w_adv * adv
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return loss.detach()


class VAEGANStep(train.Step):
    r"""One D step against reconstructions and prior samples, then one
    VAE step on the VAE-GAN loss (see :func:`fit_vaegan`).

    ``update_D`` and ``update_VAE`` may be replaced by functions of the
    same signature (a chapter passes the ones its cells define).
    """

    def __init__(self, vae: autoencoders.VAE, D: models.DCGANDiscriminator,
                 x_train: torch.Tensor, *, batch_size: int = 128,
                 lr: float = 1e-3, lr_D: float = 2e-4, beta: float = 1.0,
                 w_pixel: float = 1.0, w_feature: float = 1.0,
                 w_adv: float = 1.0, update_D: Callable = update_D,
                 update_VAE: Callable = update_VAE) -> None:
        if batch_size < 1:
            raise ValueError(f"need batch_size >= 1, got {batch_size}")
        self.update_D, self.update_VAE = update_D, update_VAE
        self.vae = vae.to(x_train.device)
        self.D = D.to(x_train.device)
        self.opt = torch.optim.Adam(vae.parameters(), lr=lr)
        self.opt_D = torch.optim.Adam(D.parameters(), lr=lr_D,
                                      betas=(0.5, 0.999))
        self.sample = data.TensorSampler(x_train)
        self.batch_size = batch_size
        self.beta, self.w_pixel = beta, w_pixel
        self.w_feature, self.w_adv = w_feature, w_adv
        self.networks = {"vae": vae, "D": D}
        self.optimizers = {"vae": self.opt, "D": self.opt_D}

    def __call__(self) -> dict[str, torch.Tensor]:
        vae = self.vae
        x = self.sample(self.batch_size)
        # one forward pass of the VAE serves both updates
        x_rec, mu, logvar = vae(x)
        x_p = vae.decode(torch.randn(len(x), vae.latent_dim,
                                     device=x.device))
        loss_D = self.update_D(self.D, self.opt_D, x, x_rec, x_p)
        loss = self.update_VAE(self.D, self.opt, x, x_rec, mu, logvar, x_p,
                               beta=self.beta, w_pixel=self.w_pixel,
                               w_feature=self.w_feature, w_adv=self.w_adv)
        return {"loss_D": loss_D, "loss_VAE": loss}

    def settings(self) -> dict:
        return {**super().settings(), "beta": self.beta,
                "w_pixel": self.w_pixel, "w_feature": self.w_feature,
                "w_adv": self.w_adv}


def fit_vaegan(vae: autoencoders.VAE, D: models.DCGANDiscriminator,
               x_train: torch.Tensor, *, steps: int, batch_size: int = 128,
               lr: float = 1e-3, lr_D: float = 2e-4, beta: float = 1.0,
               w_pixel: float = 1.0, w_feature: float = 1.0,
               w_adv: float = 1.0, update_D: Callable = update_D,
               update_VAE: Callable = update_VAE, progress: bool = True,
               **loop) -> train.History:
    r"""Train a VAE-GAN; returns the history of loss_D and loss_VAE.

    .. math:: L_{VAE} = \beta\,\mathrm{KL} + w_p \lVert x - \tilde x
              \rVert^2 + w_f \lVert D_l(x) - D_l(\tilde x) \rVert^2
              - w_a \big[\log D(\tilde x) + \log D(\mathrm{Dec}(z_p))\big]

    and D learns to tell x from both the reconstructions
    :math:`\tilde x` and the samples :math:`\mathrm{Dec}(z_p)`.
    ``update_D`` and ``update_VAE`` as in :class:`VAEGANStep`; other
    keyword arguments (``checkpoint``, ``callbacks``, ...) go to
    ``train.fit``; the VAE is left in eval mode.
    """
    step = VAEGANStep(vae, D, x_train, batch_size=batch_size, lr=lr,
                      lr_D=lr_D, beta=beta, w_pixel=w_pixel,
                      w_feature=w_feature, w_adv=w_adv, update_D=update_D,
                      update_VAE=update_VAE)
    history = train.fit(step, steps, progress=progress, desc="vae-gan",
                        **loop)
    vae.eval()
    return history


@torch.no_grad()
def reconstruct(vae: autoencoders.VAE, x: torch.Tensor) -> torch.Tensor:
    """Dec(mu(x)): the mean reconstruction, in eval mode."""
    vae.eval()
    return vae.decode(vae.encode(x)[0])
