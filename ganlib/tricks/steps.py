"""Halves of a GAN step for :class:`ganlib.train.GANStep` (same signature
as ``update_D`` / ``update_G``): the WGAN-GP critic step, the
feature-matching generator step and the unrolled-GAN generator step."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call

from ganlib import losses, train
from ganlib.tricks.losses import gradient_penalty


class WGANGPStep:
    """A critic step for ``train(step_D=...)``: critic loss + lambda * GP."""

    def __init__(self, lam: float = 10.0, event_dims: int = 1) -> None:
        self.lam, self.event_dims = lam, event_dims

    def __call__(self, G, D, opt_D, loss_D, x_real, z, cond=()):
        with torch.no_grad():  # the critic step needs no gradient through G
            x_fake = G(z, *cond)
        real_out, fake_out = D(x_real), D(x_fake)
        loss = loss_D(real_out, fake_out) + self.lam * gradient_penalty(
            D, x_real, x_fake, self.event_dims)
        opt_D.zero_grad(set_to_none=True)
        loss.backward()
        opt_D.step()
        return (loss.detach(), torch.sigmoid(real_out).mean().detach(),
                torch.sigmoid(fake_out).mean().detach())


class FeatureMatchingStep:
    r"""A generator step that matches D's features (Salimans et al., 2016).

    .. math:: L_G = \lVert \mathbb{E}_x f(x) - \mathbb{E}_z f(G(z))
       \rVert_2^2

    with f the discriminator's last hidden layer (``D.features``); for S
    toy models at once, the S squared distances are averaged. ``loss_G``
    of the trainer is ignored.
    """

    def __init__(self, sample_real: Callable[[int], torch.Tensor]) -> None:
        self.sample_real = sample_real

    def __call__(self, G, D, opt_G, loss_G, z, cond=()):
        with torch.no_grad():  # real features are a fixed target
            f_real = D.features(self.sample_real(z.shape[-2]))
        with train.frozen(D):  # gradients flow through D to G only
            f_fake = D.features(G(z))  # (S, B, h) or (B, h)
            loss = losses.feature_matching(f_real, f_fake)
            opt_G.zero_grad(set_to_none=True)
            loss.backward()
            opt_G.step()
        return loss.detach()


def unrolled_params(D: nn.Module, loss_D: Callable, x_real: torch.Tensor,
                    x_fake: torch.Tensor, k: int, lr: float
                    ) -> dict[str, torch.Tensor]:
    r"""D's parameters after k SGD steps on loss_D, kept differentiable.

    .. math:: \theta_D^{i+1} = \theta_D^i - \eta \nabla_{\theta_D}
       L_D(\theta_D^i, \theta_G)

    ``create_graph=True`` keeps each step in the autograd graph, so a loss
    evaluated at :math:`\theta_D^k` can be differentiated with respect to
    the generator that made ``x_fake``.
    """
    params = dict(D.named_parameters())
    for _ in range(k):
        loss = loss_D(functional_call(D, params, (x_real,)),
                      functional_call(D, params, (x_fake,)))
        grads = torch.autograd.grad(loss, list(params.values()),
                                    create_graph=True)
        params = {name: p - lr * g
                  for (name, p), g in zip(params.items(), grads)}
    return params


class UnrolledStep:
    r"""Generator step of the unrolled GAN (Metz et al., 2016).

    G descends the surrogate :math:`f_K(\theta_G, \theta_D) =
    L_G(\theta_G, \theta_D^K(\theta_G, \theta_D))`: the generator loss
    against the discriminator as it will be after k more steps, with the
    gradient taken through those steps. D itself is updated as usual.
    """

    def __init__(self, sample_real: Callable[[int], torch.Tensor],
                 k: int = 5, lr: float = 0.01,
                 loss_D: Callable = losses.d_loss) -> None:
        if k < 0:
            raise ValueError(f"need k >= 0 unrolled steps, got {k}")
        self.sample_real, self.k, self.lr = sample_real, k, lr
        self.loss_D = loss_D

    def __call__(self, G, D, opt_G, loss_G, z, cond=()):
        x_real = self.sample_real(z.shape[-2])
        x_fake = G(z, *cond)  # no detach: D^K depends on G through x_fake
        params = unrolled_params(D, self.loss_D, x_real, x_fake, self.k,
                                 self.lr)
        loss = loss_G(functional_call(D, params, (x_fake,)))
        # gradients for G only; D is updated by its own step
        grads = torch.autograd.grad(loss, list(G.parameters()))
        opt_G.zero_grad(set_to_none=True)
        for p, g in zip(G.parameters(), grads):
            p.grad = g
        opt_G.step()
        return loss.detach()
