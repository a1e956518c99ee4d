"""The mode-collapse benchmark, method by method: the list of methods,
the models, optimizers and ``train`` arguments of each, and samples of
the trained toy generators."""

from __future__ import annotations

from typing import Sequence

import torch

from ganlib import losses
from ganlib.data import GaussianMixture
from ganlib.tricks.callbacks import LRDecay, SwapDiscriminators
from ganlib.tricks.losses import d_loss_one_sided, d_loss_wgan, g_loss_wgan
from ganlib.tricks.noise import AnnealNoise, InstanceNoise
from ganlib.tricks.steps import FeatureMatchingStep, UnrolledStep, WGANGPStep
from ganlib.tricks.toys import (BatchedSampler, ToyDiscriminator,
                                ToyGenerator, _as_targets)


METHODS = ("vanilla", "non-saturating", "label smoothing", "instance noise",
           "feature matching", "minibatch discrimination", "unrolled",
           "GAP", "WGAN-GP", "spectral norm", "PacGAN")


def build_toy(method: str,
              target: GaussianMixture | Sequence[GaussianMixture],
              n_seeds: int,
              steps: int, latent_dim: int = 16, hidden: Sequence[int] = (64,
              64), lr: float = 2e-3, n_pairs: int = 4, pack: int = 4,
              unroll: int = 5, device=None) -> dict:
    """Models, optimizers and ``train`` arguments of one method.

    Every method but the vanilla GAN starts from the non-saturating loss
    and changes one thing. ``n_seeds`` independent runs train at once;
    GAP trains ``n_pairs`` pairs per seed. ``target`` may be a sequence of
    benchmarks: then ``n_seeds`` runs of each train at once, benchmark by
    benchmark (``toy_samples`` returns the first benchmark's seeds first),
    for about the price of one when the models are tiny. Returns a dict
    with ``G``, ``D``, ``n_per_seed`` (models per seed) and ``kwargs`` for
    :func:`ganlib.train.train`.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of "
                         f"{METHODS}")
    targets = _as_targets(target)
    dim = targets[0].dim
    device = device or targets[0].device
    n_per_seed = n_pairs if method == "GAP" else 1
    n_groups = len(targets) * n_seeds  # independent runs
    M = n_groups * n_per_seed
    sample_real = BatchedSampler(targets, M)
    G = ToyGenerator(M, latent_dim, hidden, dim).to(device)
    D = ToyDiscriminator(
        M, dim, hidden, pack=pack if method == "PacGAN" else 1,
        # 8 kernels of 4 numbers: the layer's cost grows with B^2 K C, and
        # points in the plane need no more
        minibatch_kernels=8 if method == "minibatch discrimination" else 0,
        spectral_norm=method == "spectral norm").to(device)
    # share_fake=False: every method draws fresh noise for its G step, as
    # Algorithm 1 does; the custom steps of feature matching, unrolling and
    # WGAN-GP always do, so the table compares all methods on one protocol
    kwargs: dict = dict(loss_D=losses.d_loss,
                        loss_G=losses.g_loss_nonsaturating, k=1,
                        share_fake=False)
    betas, callbacks = (0.5, 0.999), []
    if method == "vanilla":
        kwargs["loss_G"] = losses.g_loss_minimax
    elif method == "label smoothing":
        kwargs["loss_D"] = d_loss_one_sided
    elif method == "instance noise":
        # std 0.2 (4 grid std) annealed to 0 over the whole run
        D = InstanceNoise(D, sigma=0.2)
        callbacks.append(AnnealNoise(0.2, steps))
    elif method == "feature matching":
        kwargs["step_G"] = FeatureMatchingStep(sample_real)
    elif method == "unrolled":
        kwargs["step_G"] = UnrolledStep(sample_real, k=unroll, lr=0.05)
    elif method == "WGAN-GP":
        kwargs.update(loss_D=d_loss_wgan, loss_G=g_loss_wgan, k=5,
                      step_D=WGANGPStep(lam=10.0))
        betas, lr = (0.5, 0.9), lr / 2
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    if method == "GAP":
        callbacks.append(SwapDiscriminators(D, opt_D, n_groups, n_pairs))
    callbacks.append(LRDecay([opt_G, opt_D], steps))
    z_shape = (M, latent_dim)
    kwargs.update(
        opt_G=opt_G, opt_D=opt_D, callbacks=callbacks, steps=steps,
        sample_z=lambda n: torch.randn(z_shape[0], n, z_shape[1],
                                       device=device))
    return dict(G=G, D=D, sample_real=sample_real, n_per_seed=n_per_seed,
                kwargs=kwargs)


@torch.no_grad()
def toy_samples(G: ToyGenerator, n: int, n_per_seed: int = 1
                ) -> torch.Tensor:
    """n samples of the first generator of each seed: (n_seeds, n, 2)
    (all seeds of each benchmark, benchmark by benchmark)."""
    z = torch.randn(G.n_models, n, G.latent_dim,
                    device=next(G.parameters()).device)
    return G(z)[::n_per_seed].cpu()
