"""Tricks on an image GAN: chapter 6's DCGAN with spectral normalisation
of D and one-sided label smoothing, trained at chapter 6's budget."""

from __future__ import annotations

import functools

import torch
from torch import nn

from ganlib import data, device as _device, losses, train
from ganlib.recipes import GANRecipe
from ganlib.tricks.losses import d_loss_one_sided


def spectral_norm_all(D: nn.Module) -> nn.Module:
    """Spectral normalisation of every conv and linear layer of D."""
    for module in list(D.modules()):
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(module)  # sigma(W) = 1
    return D


def train_dcgan(recipe: GANRecipe, with_tricks: bool, x_train: torch.Tensor,
                device=None, progress: bool = True) -> nn.Module:
    """G's moving average after ``recipe.steps`` steps of the recipe, with
    or without the two tricks (same seed, same budget either way)."""
    _device.seed_everything(recipe.seed)
    G, D, opt_G, opt_D, ema = recipe.build(device)
    loss_D = losses.d_loss
    if with_tricks:
        D = spectral_norm_all(D)
        # the parametrisation replaced D's weights: a fresh optimiser
        opt_D = torch.optim.Adam(D.parameters(), recipe.lr_D,
                                 betas=recipe.betas)
        loss_D = functools.partial(d_loss_one_sided, smooth=0.1)
    train.train(G, D, data.TensorSampler(x_train), steps=recipe.steps,
                batch_size=recipe.batch_size, opt_G=opt_G, opt_D=opt_D,
                loss_D=loss_D, callbacks=[ema], progress=progress,
                device=device, share_fake=recipe.share_fake)
    return ema.G_ema.eval()
