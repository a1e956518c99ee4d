"""Losses of the tricks: one-sided label smoothing, the Wasserstein losses
and the WGAN-GP gradient penalty."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganlib import losses


@losses.in_float32
def d_loss_one_sided(real_out: torch.Tensor, fake_out: torch.Tensor,
                     smooth: float = 0.1) -> torch.Tensor:
    r"""Discriminator loss with one-sided label smoothing (Salimans 2016).

    Real targets become :math:`1 - \alpha`, fake targets stay 0:

    .. math:: L_D = -\mathbb{E}_x[(1 - \alpha)\log D(x)
       + \alpha \log(1 - D(x))] - \mathbb{E}_z[\log(1 - D(G(z)))]
    """
    if not 0.0 <= smooth < 1.0:
        raise ValueError(f"smooth must lie in [0, 1), got {smooth}")
    real = (1 - smooth) * F.softplus(-real_out) + smooth * F.softplus(real_out)
    return real.mean() + F.softplus(fake_out).mean()


@losses.in_float32
def d_loss_wgan(real_out: torch.Tensor, fake_out: torch.Tensor
                ) -> torch.Tensor:
    r"""Wasserstein critic loss: :math:`L_D = \mathbb{E}[D(G(z))] -
    \mathbb{E}[D(x)]` (the penalty is added by the step)."""
    return fake_out.mean() - real_out.mean()


@losses.in_float32
def g_loss_wgan(fake_out: torch.Tensor) -> torch.Tensor:
    r"""Wasserstein generator loss: :math:`L_G = -\mathbb{E}[D(G(z))]`."""
    return -fake_out.mean()


def gradient_penalty(D: nn.Module, x_real: torch.Tensor,
                     x_fake: torch.Tensor, event_dims: int = 1
                     ) -> torch.Tensor:
    r"""WGAN-GP penalty (Gulrajani et al., 2017).

    .. math:: \mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D(\hat x)
       \rVert_2 - 1)^2\big], \quad \hat x = \epsilon x + (1 - \epsilon)
       \tilde x, \ \epsilon \sim U[0, 1]

    The last ``event_dims`` dimensions of x form one sample (1 for points
    (S, B, d) or (B, d); 3 for images (B, C, H, W)). D must treat samples
    independently (no batch norm, no minibatch layer).
    """
    if x_real.shape != x_fake.shape:
        raise ValueError(f"x_real {tuple(x_real.shape)} and x_fake "
                         f"{tuple(x_fake.shape)} must have the same shape")
    lead = x_real.shape[:x_real.ndim - event_dims]
    eps = torch.rand(*lead, *([1] * event_dims), device=x_real.device)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    # each output depends on its own sample only, so the gradient of the
    # sum holds every per-sample gradient
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.flatten(start_dim=grad.ndim - event_dims).norm(dim=-1)
    return ((norm - 1) ** 2).mean()
