"""Discriminator rejection sampling (Azadi et al., 2019): acceptance
probabilities, the sampler, and its use on the seeds of a toy run."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ganlib.tricks.noise import InstanceNoise
from ganlib.tricks.toys import ToyDiscriminator, ToyGenerator


def drs_accept_prob(logits: torch.Tensor, max_logit: float | torch.Tensor,
                    gamma: float | torch.Tensor | None = None,
                    eps: float = 1e-6) -> torch.Tensor:
    r"""Acceptance probabilities of discriminator rejection sampling.

    A discriminator trained with the logistic loss has the logit
    :math:`\ell(x) = \log p_{data}(x) / p_g(x)` at its optimum, so keeping a
    sample of G with probability :math:`e^{\ell(x) - M}`, M the largest
    logit, samples :math:`p_{data}` exactly (Azadi et al., 2019). Written
    as a logit, that probability is :math:`F(x) = d - \log(1 - e^{d -
    \epsilon})` with :math:`d = \ell(x) - M` (exact as
    :math:`\epsilon \to 0`); ``gamma`` shifts it,
    :math:`\sigma(F(x) - \gamma)`, to accept more samples than exact
    rejection would, most of all those D rates low. ``gamma=None`` gives
    the exact probabilities :math:`e^{d}`. Logits above ``max_logit``
    are accepted always.
    """
    d = (logits - max_logit).clamp(max=0.0)
    if gamma is None:
        return torch.exp(d)
    return torch.sigmoid(_drs_logit(d, eps) - gamma)


def _drs_logit(d: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """F = d - log(1 - e^(d - eps)): the logit of the acceptance e^d."""
    return d - torch.log1p(-torch.exp(d - eps))


@torch.no_grad()
def rejection_sample(generate: Callable[[int], torch.Tensor],
                     logit: Callable[[torch.Tensor], torch.Tensor], n: int,
                     quantile: float | None = 0.95, burn_in: int = 10000,
                     batch: int = 10000, max_draws: int = 10 ** 6
                     ) -> tuple[torch.Tensor, float]:
    """n samples of ``generate`` kept by discriminator rejection sampling.

    ``generate(k)`` draws k samples (k, ...) of G, ``logit(x)`` gives D's
    logit of each, (k,). A burn-in of ``burn_in`` samples fixes M, the
    largest logit, and gamma, the ``quantile`` of F over the burn-in (so
    that about 1 - quantile of the samples are kept with probability at
    least 1/2; ``quantile=None``: exact rejection, gamma unused). Returns
    the kept samples and the share of draws kept. D must score each
    sample on its own, and its logit should estimate the log density
    ratio (a GAN discriminator with the logistic loss, not a WGAN critic).
    """
    if n < 1 or burn_in < 1 or batch < 1:
        raise ValueError(f"n, burn_in and batch must be positive, got "
                         f"{n}, {burn_in}, {batch}")
    if quantile is not None and not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie in (0, 1) or be None, got "
                         f"{quantile}")
    ell = logit(generate(burn_in)).float()
    M, gamma = ell.max(), None
    if quantile is not None:
        gamma = torch.quantile(_drs_logit(ell - M), quantile)
    kept, n_kept, draws = [], 0, 0
    while n_kept < n:
        if draws >= max_draws:
            raise RuntimeError(
                f"rejection sampling kept {n_kept} of {draws} samples, "
                f"fewer than the {n} asked for: lower `quantile` to accept "
                f"more, or raise `max_draws`")
        x = generate(batch)
        p = drs_accept_prob(logit(x).float(), M, gamma)
        keep = torch.rand_like(p) < p
        kept.append(x[keep])
        n_kept += int(keep.sum())
        draws += batch
    return torch.cat(kept)[:n], n_kept / draws


def toy_rejection_samples(G: ToyGenerator, D: nn.Module, n: int,
                          n_per_seed: int = 1,
                          quantile: float | None = 0.95
                          ) -> tuple[torch.Tensor, list[float]]:
    """:func:`rejection_sample` for each seed of a toy run: n samples of
    the first generator of each seed, (n_seeds, n, 2), filtered by its
    own discriminator, and the share of draws kept for each seed.
    Instance noise is left out of the scores; packed and minibatch
    discriminators, which score samples together, are refused.
    """
    inner = D.D if isinstance(D, InstanceNoise) else D
    if not isinstance(inner, ToyDiscriminator):
        raise TypeError(f"expected a ToyDiscriminator, got "
                        f"{type(inner).__name__}")
    if inner.pack > 1 or inner.minibatch is not None:
        raise ValueError("rejection sampling needs a discriminator that "
                         "scores each sample on its own; this one packs "
                         "samples or compares them within a batch")
    S = G.n_models
    dev = next(G.parameters()).device
    samples, rates = [], []
    for s in range(0, S, n_per_seed):
        def generate(k: int, s: int = s) -> torch.Tensor:
            return G(torch.randn(S, k, G.latent_dim, device=dev))[s]

        def logit(x: torch.Tensor, s: int = s) -> torch.Tensor:
            # every model scores the same points; keep model s's logits
            out = inner(x.unsqueeze(0).expand(S, *x.shape).contiguous())
            return out.view(S, len(x))[s]

        x, rate = rejection_sample(generate, logit, n, quantile)
        samples.append(x.cpu())
        rates.append(rate)
    return torch.stack(samples), rates
