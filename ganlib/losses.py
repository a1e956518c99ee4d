r"""GAN losses, written on discriminator logits for numerical stability.

D outputs a logit :math:`a`; :math:`D = \sigma(a)`. Using
:math:`\log \sigma(a) = -\mathrm{softplus}(-a)` and
:math:`\log(1 - \sigma(a)) = -\mathrm{softplus}(a)` avoids log(0).
"""

from __future__ import annotations

import functools
from typing import Callable

import torch
import torch.nn.functional as F


def in_float32(loss: Callable) -> Callable:
    """Compute ``loss`` in float32: its floating-point tensor arguments are
    cast up first. Under bfloat16 autocast the networks then run in
    bfloat16 while every loss keeps float32 precision (autocast lowers
    matrix products and convolutions, not the element-wise maths of a
    loss)."""
    def up(a):
        return a.float() if torch.is_tensor(a) and a.is_floating_point() \
            else a

    @functools.wraps(loss)
    def wrapper(*args, **kwargs):
        return loss(*map(up, args), **{k: up(v) for k, v in kwargs.items()})
    return wrapper


def _check_logits(*logits: torch.Tensor) -> None:
    for a in logits:
        if not torch.is_tensor(a) or not a.is_floating_point() or \
                a.numel() == 0:
            what = (f"{a.dtype} tensor of shape {tuple(a.shape)}"
                    if torch.is_tensor(a) else type(a).__name__)
            raise ValueError(f"losses take a non-empty float tensor of "
                             f"discriminator logits, got {what}")


@in_float32
def d_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    r"""Discriminator loss, the negated value of the game.

    .. math:: L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]

    i.e. binary cross-entropy with label 1 on real and 0 on fake outputs,
    averaged over every logit: one per sample (B,), per patch (B, 1, H,
    W) or per toy model and sample (S * B,); real and fake may differ in
    shape.
    """
    _check_logits(real_out, fake_out)
    return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()


@in_float32
def g_loss_minimax(fake_out: torch.Tensor) -> torch.Tensor:
    r"""Saturating (minimax) generator loss of Goodfellow et al. (2014).

    .. math:: L_G = \mathbb{E}_z[\log(1 - D(G(z)))]

    Its gradient vanishes when D confidently rejects the fakes.
    """
    _check_logits(fake_out)
    return -F.softplus(fake_out).mean()


@in_float32
def g_loss_nonsaturating(fake_out: torch.Tensor) -> torch.Tensor:
    r"""Non-saturating generator loss (the "-log D trick").

    .. math:: L_G = -\mathbb{E}_z[\log D(G(z))]

    Same fixed point as the minimax loss, strong gradients early on.
    """
    _check_logits(fake_out)
    return F.softplus(-fake_out).mean()


@in_float32
def feature_matching(f_real: torch.Tensor, f_fake: torch.Tensor
                     ) -> torch.Tensor:
    r"""Feature matching (Salimans et al., 2016): the generator matches the
    mean of D's features on real data.

    .. math:: L_G = \lVert \mathbb{E}_x f(x) - \mathbb{E}_z f(G(z))
       \rVert_2^2

    on features (B, d); for S toy models at once, (S, B, d), the S squared
    distances are averaged.
    """
    if f_real.ndim < 2 or f_real.shape[:-2] != f_fake.shape[:-2] or \
            f_real.shape[-1] != f_fake.shape[-1]:
        raise ValueError("feature_matching needs two feature batches (B, d) "
                         "or (S, B, d) of one d, got "
                         f"{tuple(f_real.shape)} and {tuple(f_fake.shape)}")
    return (f_real.mean(-2) - f_fake.mean(-2)).pow(2).sum(-1).mean()
