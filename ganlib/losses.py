r"""GAN losses, written on discriminator logits for numerical stability.

D outputs a logit :math:`a`; :math:`D = \sigma(a)`. Using
:math:`\log \sigma(a) = -\mathrm{softplus}(-a)` and
:math:`\log(1 - \sigma(a)) = -\mathrm{softplus}(a)` avoids log(0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_logits(*logits: torch.Tensor) -> None:
    for a in logits:
        if not torch.is_tensor(a) or a.ndim != 1:
            shape = tuple(a.shape) if torch.is_tensor(a) else type(a)
            raise ValueError(f"losses take a 1-D tensor of logits (B,), got "
                             f"{shape}; did the discriminator squeeze its "
                             "output?")


def d_loss(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    r"""Discriminator loss, the negated value of the game.

    .. math:: L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))]

    i.e. binary cross-entropy with label 1 on real and 0 on fake outputs.
    """
    _check_logits(real_out, fake_out)
    return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()


def g_loss_minimax(fake_out: torch.Tensor) -> torch.Tensor:
    r"""Saturating (minimax) generator loss of Goodfellow et al. (2014).

    .. math:: L_G = \mathbb{E}_z[\log(1 - D(G(z)))]

    Its gradient vanishes when D confidently rejects the fakes.
    """
    _check_logits(fake_out)
    return -F.softplus(fake_out).mean()


def g_loss_nonsaturating(fake_out: torch.Tensor) -> torch.Tensor:
    r"""Non-saturating generator loss (the "-log D trick").

    .. math:: L_G = -\mathbb{E}_z[\log D(G(z))]

    Same fixed point as the minimax loss, strong gradients early on.
    """
    _check_logits(fake_out)
    return F.softplus(-fake_out).mean()
