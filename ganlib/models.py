"""Generators and discriminators: MLPs for toy data, DCGAN for 28x28 digits.

Discriminators return logits (one number per sample, shape (B,)); the losses
in :mod:`ganlib.losses` apply the sigmoid themselves, stably. Passing
``n_classes`` makes a conditional model: G(z, y) and D(x, y).
"""

from __future__ import annotations

import torch
from torch import nn


def _check_input(x: torch.Tensor, shape: tuple[int, ...], who: str) -> None:
    if x.ndim != len(shape) + 1 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"{who} expects input of shape (B, "
                         f"{', '.join(map(str, shape))}), got "
                         f"{tuple(x.shape)}")


def _check_labels(y: torch.Tensor | None, n_classes: int, batch: int,
                  who: str) -> None:
    if n_classes and y is None:
        raise ValueError(f"{who} is conditional: call it with labels y")
    if not n_classes and y is not None:
        raise ValueError(f"{who} is not conditional: build it with "
                         "n_classes=... to pass labels")
    if y is not None and (y.shape != (batch,) or y.dtype != torch.long):
        raise ValueError(f"{who} expects integer labels of shape ({batch},), "
                         f"got {tuple(y.shape)} {y.dtype}")
    if y is not None and len(y):
        # one reduction: an embedding would fail on them with a bare
        # IndexError (or a device-side assert on CUDA)
        lo, hi = torch.aminmax(y)
        if lo < 0 or hi >= n_classes:
            raise ValueError(f"{who} has {n_classes} classes: labels must lie "
                             f"in [0, {n_classes - 1}], got labels from "
                             f"{int(lo)} to {int(hi)}")


def mlp(sizes: list[int], act: type[nn.Module] = nn.ReLU,
        dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given sizes with an activation between them."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G: z -> x with an MLP; ``hidden=()`` makes it linear, x = W z + b."""

    def __init__(self, latent_dim: int = 2, out_dim: int = 2,
                 hidden: tuple[int, ...] = (256, 256), n_classes: int = 0,
                 act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.latent_dim, self.out_dim, self.n_classes = \
            latent_dim, out_dim, n_classes
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        self.net = mlp([latent_dim + n_classes, *hidden, out_dim], act)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None):
        _check_input(z, (self.latent_dim,), "MLPGenerator")
        _check_labels(y, self.n_classes, len(z), "MLPGenerator")
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return self.net(z)  # (B, out_dim)


class MLPDiscriminator(nn.Module):
    """D: x -> logit with an MLP (LeakyReLU, optional dropout)."""

    def __init__(self, in_dim: int = 2, hidden: tuple[int, ...] = (256, 256),
                 n_classes: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.in_dim, self.n_classes = in_dim, n_classes
        self.embed = nn.Embedding(n_classes, n_classes) if n_classes else None
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731 - a layer factory
        self.net = mlp([in_dim + n_classes, *hidden, 1], act, dropout)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        _check_input(x, (self.in_dim,), "MLPDiscriminator")
        _check_labels(y, self.n_classes, len(x), "MLPDiscriminator")
        if self.embed is not None:
            x = torch.cat([x, self.embed(y)], dim=1)
        return self.net(x).squeeze(1)  # (B,) logits


class DCGANGenerator(nn.Module):
    """DCGAN generator for 28x28 images (Radford et al., 2015).

    Project and reshape, then fractionally-strided convolutions; batch norm
    and ReLU everywhere but the tanh output; no pooling, no dense hidden
    layers beyond the projection. ``extra_layers=True`` adds a 3x3
    convolution (batch norm, ReLU) at 7x7 and at 14x14, which keeps every
    size and gives G room to shape strokes before each upsampling.
    """

    def __init__(self, latent_dim: int = 64, width: int = 64,
                 n_classes: int = 0, out_channels: int = 1,
                 extra_layers: bool = False) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.embed = nn.Embedding(n_classes, 16) if n_classes else None
        n_in = latent_dim + (16 if n_classes else 0)
        extra = _same_size_block if extra_layers else (lambda c, act: [])
        self.project = nn.Sequential(
            nn.Linear(n_in, 2 * width * 7 * 7, bias=False),
            nn.Unflatten(1, (2 * width, 7, 7)),  # (B, 2w, 7, 7)
            nn.BatchNorm2d(2 * width),
            nn.ReLU(True),
            *extra(2 * width, nn.ReLU),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),  # (B, w, 14, 14)
            *extra(width, nn.ReLU),
            nn.ConvTranspose2d(width, out_channels, 4, 2, 1),
            nn.Tanh(),  # (B, C, 28, 28) in [-1, 1]
        )
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None):
        _check_input(z, (self.latent_dim,), "DCGANGenerator")
        _check_labels(y, self.n_classes, len(z), "DCGANGenerator")
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return self.up(self.project(z))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator for 28x28 images: strided convolutions, LeakyReLU.

    A conditional one reads its label as an extra input channel. With
    ``pack = m > 1`` (PacGAN, Lin et al. 2018) it judges m images at once,
    stacked as channels: a batch of B images gives B / m logits, so a
    generator that repeats itself is easier to catch.
    ``extra_layers=True`` adds a 3x3 convolution (batch norm, LeakyReLU)
    at 7x7 before the read-out, so D compares whole strokes before it
    decides.
    """

    def __init__(self, width: int = 64, n_classes: int = 0,
                 in_channels: int = 1, dropout: float = 0.0,
                 pack: int = 1, extra_layers: bool = False) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        if pack > 1 and n_classes:
            raise ValueError("packing is for an unconditional D: use "
                             "pack=1 with n_classes")
        self.n_classes, self.in_channels = n_classes, in_channels
        self.pack = pack
        self.embed = nn.Embedding(n_classes, 28 * 28) if n_classes else None
        c_in = in_channels * pack + (1 if n_classes else 0)
        self.features = nn.Sequential(
            *dcgan_conv_trunk(c_in, width),  # (B, 2w, 7, 7)
            *(_same_size_block(2 * width, lambda: nn.LeakyReLU(0.2))
              if extra_layers else []),
            nn.Flatten(),
            nn.Dropout(dropout),
        )
        self.head = nn.Linear(2 * width * 7 * 7, 1)
        dcgan_init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        _check_input(x, (self.in_channels, 28, 28), "DCGANDiscriminator")
        _check_labels(y, self.n_classes, len(x), "DCGANDiscriminator")
        if self.pack > 1:
            if len(x) % self.pack:
                raise ValueError(
                    f"DCGANDiscriminator packs {self.pack} images per "
                    f"decision, but got a batch of {len(x)}: use a batch "
                    f"size that is a multiple of {self.pack}")
            # (B, C, 28, 28) -> (B / m, m C, 28, 28): m images per decision
            x = x.reshape(-1, self.pack * self.in_channels, 28, 28)
        if self.embed is not None:
            x = torch.cat([x, self.embed(y).view(-1, 1, 28, 28)], dim=1)
        return self.head(self.features(x)).squeeze(1)  # (B / m,) logits


def _same_size_block(channels: int, act) -> list[nn.Module]:
    """3x3 convolution, batch norm, activation: same channels, same size."""
    return [nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels), act()]


def dcgan_conv_trunk(c_in: int, width: int) -> list[nn.Module]:
    """Two strided convolutions, 28x28 -> 7x7, as in the DCGAN discriminator.

    Batch norm on the second only, LeakyReLU(0.2) after each; no pooling.
    """
    return [
        nn.Conv2d(c_in, width, 4, 2, 1),
        nn.LeakyReLU(0.2, True),  # (B, w, 14, 14)
        nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
        nn.BatchNorm2d(2 * width),
        nn.LeakyReLU(0.2, True),  # (B, 2w, 7, 7)
    ]


def dcgan_init(module: nn.Module) -> None:
    """DCGAN weight init: conv ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
