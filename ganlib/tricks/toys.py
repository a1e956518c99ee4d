"""Batched toy models for the 2-D mode-collapse benchmarks.

Each class holds ``n_models`` independent networks in stacked weight
tensors and runs them with batched matrix products on (S, B, d) tensors:
linear layers and MLPs, the toy generator, the minibatch-discrimination
layer, the toy discriminator (with PacGAN packing and spectral
normalisation as options) and a sampler that draws (S, B, d) batches of
one or several Gaussian mixtures.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from ganlib.data import GaussianMixture
from ganlib.tricks.spectral import batched_spectral_norm


class BatchedLinear(nn.Module):
    """S independent linear layers: (S, B, n_in) -> (S, B, n_out)."""

    def __init__(self, n_models: int, n_in: int, n_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)  # nn.Linear's default initialisation
        self.weight = nn.Parameter(
            torch.empty(n_models, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(
            torch.empty(n_models, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)  # (S, B, n_out)


def batched_mlp(n_models: int, sizes: Sequence[int],
                act: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """S independent MLPs with the given layer sizes, run as one."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(BatchedLinear(n_models, n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _check_batched(x: torch.Tensor, n_models: int, dim: int, who: str):
    if x.ndim != 3 or x.shape[0] != n_models or x.shape[2] != dim:
        raise ValueError(f"{who} expects input of shape ({n_models}, B, "
                         f"{dim}) (models, batch, features), got "
                         f"{tuple(x.shape)}")


class ToyGenerator(nn.Module):
    """S MLP generators z -> x at once: (S, B, latent_dim) -> (S, B, 2)."""

    def __init__(self, n_models: int = 1, latent_dim: int = 16,
                 hidden: Sequence[int] = (128, 128), out_dim: int = 2):
        super().__init__()
        self.n_models, self.latent_dim = n_models, latent_dim
        self.net = batched_mlp(n_models, [latent_dim, *hidden, out_dim])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_batched(z, self.n_models, self.latent_dim, "ToyGenerator")
        return self.net(z)


class MinibatchDiscrimination(nn.Module):
    r"""Minibatch discrimination layer of Salimans et al. (2016).

    Each sample's features f_i (A numbers) are projected by a tensor T to
    ``n_kernels`` rows :math:`M_{i,b}` of ``kernel_dim`` numbers; the layer
    appends, for every kernel b, how close the sample is to the others:

    .. math:: o(x_i)_b = \sum_{j \ne i} \exp(-\lVert M_{i,b} - M_{j,b}
       \rVert_{L_1})

    A collapsed batch (all samples alike) gives large o, which D can spot.
    Works on (S, B, A) for S models at once: (S, B, A + n_kernels).
    """

    def __init__(self, n_models: int, in_features: int, n_kernels: int = 16,
                 kernel_dim: int = 8) -> None:
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Parameter(
            0.1 * torch.randn(n_models, in_features, n_kernels * kernel_dim))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        S, B, _ = f.shape
        K, C = self.n_kernels, self.kernel_dim
        M = torch.bmm(f, self.T).view(S, B, K, C)
        # one (B, C) set of rows per model and kernel: (S K, B, C)
        M = M.transpose(1, 2).reshape(S * K, B, C)
        # L1 distance between every pair of samples, per kernel; cdist
        # never builds the (S, B, B, K, C) tensor of differences
        dist = torch.cdist(M, M, p=1)  # (S K, B, B)
        o = torch.exp(-dist).sum(-1) - 1.0  # drop the own term exp(0) = 1
        o = o.view(S, K, B).transpose(1, 2)  # (S, B, K)
        return torch.cat([f, o], dim=-1)  # (S, B, A + K)


class ToyDiscriminator(nn.Module):
    """S MLP discriminators at once: (S, B, 2) -> logits (S * B / pack,).

    Options: ``pack`` = m concatenates m samples into one input (PacGAN),
    ``minibatch_kernels`` > 0 adds a minibatch-discrimination layer of that
    many kernels of ``minibatch_dim`` numbers before the output,
    ``spectral_norm`` normalises every weight matrix.
    """

    def __init__(self, n_models: int = 1, in_dim: int = 2,
                 hidden: Sequence[int] = (128, 128), pack: int = 1,
                 minibatch_kernels: int = 0, minibatch_dim: int = 4,
                 spectral_norm: bool = False):
        super().__init__()
        if pack < 1 or minibatch_kernels < 0:
            raise ValueError(f"need pack >= 1 and minibatch_kernels >= 0, "
                             f"got {pack} and {minibatch_kernels}")
        self.n_models, self.in_dim, self.pack = n_models, in_dim, pack
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731 - a layer factory
        self.body = batched_mlp(n_models, [in_dim * pack, *hidden], act)
        self.body.append(act())
        width = hidden[-1]
        self.minibatch = None
        if minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(
                n_models, width, minibatch_kernels, minibatch_dim)
            width += minibatch_kernels
        self.head = BatchedLinear(n_models, width, 1)
        if spectral_norm:
            for m in self.modules():
                if isinstance(m, BatchedLinear):
                    batched_spectral_norm(m)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Last hidden layer (S, B / pack, width), for feature matching."""
        _check_batched(x, self.n_models, self.in_dim, "ToyDiscriminator")
        S, B, d = x.shape
        if B % self.pack:
            raise ValueError(f"PacGAN with pack={self.pack} needs a batch "
                             f"size divisible by {self.pack}, got {B}")
        # PacGAN: m consecutive samples form one input of m * d numbers
        x = x.reshape(S, B // self.pack, self.pack * d)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        if self.minibatch is not None:
            f = self.minibatch(f)
        return self.head(f).reshape(-1)  # (S * B / pack,) logits


class BatchedSampler:
    """Draws (S, B, d) batches of a mixture: B points for each of S models.

    ``target`` is one mixture for all S models, or a sequence of mixtures of
    one dimension that share the models in consecutive blocks of
    S / len(target) (so one run can train on several benchmarks at once).
    """

    def __init__(self, target: GaussianMixture | Sequence[GaussianMixture],
                 n_models: int) -> None:
        self.targets = _as_targets(target)
        if n_models % len(self.targets):
            raise ValueError(f"{n_models} models cannot be shared equally "
                             f"by {len(self.targets)} targets")
        self.n_models = n_models
        self.per_target = n_models // len(self.targets)

    def __call__(self, n: int) -> torch.Tensor:
        return torch.cat([t(self.per_target * n).view(self.per_target, n, -1)
                          for t in self.targets])


def _as_targets(target) -> list[GaussianMixture]:
    targets = [target] if isinstance(target, GaussianMixture) else list(
        target)
    if not targets or any(not isinstance(t, GaussianMixture)
                          for t in targets):
        raise TypeError("target must be a GaussianMixture or a non-empty "
                        "sequence of them (data.ring8(), data.grid25())")
    if len({t.dim for t in targets}) > 1:
        raise ValueError(f"targets of different dimensions "
                         f"{[t.dim for t in targets]} cannot share a run")
    return targets
