r"""Image-to-image translation with a conditional GAN (pix2pix, Isola et
al., 2016), sized for 28x28 digits.

G is a U-Net that maps a condition image a (e.g. a masked digit) to an
output b; D is a PatchGAN that scores every patch of the pair (a, b) as
real or fake. The generator minimises an adversarial loss plus an L1 loss
to the target:

.. math:: L_G = \mathbb{E}\big[-\log D(a, G(a))\big]
          + \lambda\, \mathbb{E}\lVert b - G(a) \rVert_1
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganlib import losses, models, train


def check_image(x: torch.Tensor, channels: int, who: str) -> None:
    """Raise a clear error unless x is a batch (B, channels, 28, 28)."""
    if x.ndim != 4 or x.shape[1] != channels or x.shape[2:] != (28, 28):
        raise ValueError(f"{who} expects images of shape (B, {channels}, "
                         f"28, 28), got {tuple(x.shape)}")


# ----------------------------------------------------------------- models


class UNet(nn.Module):
    """A two-level U-Net for 28x28 images; skip connections carry the
    detail that the bottleneck cannot hold (the pix2pix generator)."""

    def __init__(self, in_channels: int = 1, out_channels: int = 1,
                 width: int = 32) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.down1 = nn.Sequential(  # (B, w, 14, 14)
            nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True))
        self.down2 = nn.Sequential(  # (B, 2w, 7, 7)
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2, True))
        self.middle = nn.Sequential(  # (B, 2w, 7, 7)
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(2 * width), nn.ReLU(True))
        self.up2 = nn.Sequential(  # skip from down2 -> (B, w, 14, 14)
            nn.ConvTranspose2d(4 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(True))
        self.up1 = nn.Sequential(  # skip from down1 -> (B, w, 28, 28)
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(True))
        self.out = nn.Sequential(  # skip from the input itself
            nn.Conv2d(width + in_channels, out_channels, 3, 1, 1), nn.Tanh())
        models.dcgan_init(self)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        check_image(a, self.in_channels, "UNet")
        d1 = self.down1(a)
        d2 = self.down2(d1)
        m = self.middle(d2)
        u2 = self.up2(torch.cat([m, d2], dim=1))
        u1 = self.up1(torch.cat([u2, d1], dim=1))
        return self.out(torch.cat([u1, a], dim=1))  # (B, out, 28, 28)


class PatchDiscriminator(nn.Module):
    """PatchGAN: a fully convolutional D that returns a 7x7 map of logits,
    one per overlapping patch of the pair (condition, image)."""

    def __init__(self, in_channels: int = 2, width: int = 32) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2, True),  # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2, True),  # (B, 2w, 7, 7)
            nn.Conv2d(2 * width, 1, 3, 1, 1),  # (B, 1, 7, 7) patch logits
        )
        models.dcgan_init(self)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape[0] != b.shape[0] or a.shape[2:] != b.shape[2:]:
            raise ValueError("PatchDiscriminator pairs a condition with an "
                             "image of the same batch and size, got "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        check_image(torch.cat([a, b], dim=1), self.in_channels,
                     "PatchDiscriminator (condition and image stacked)")
        return self.net(torch.cat([a, b], dim=1))


def receptive_field(kernel_strides: list[tuple[int, int]]) -> int:
    """Receptive field (in input pixels) of a stack of (kernel, stride)."""
    field, jump = 1, 1
    for kernel, stride in kernel_strides:
        field += (kernel - 1) * jump
        jump *= stride
    return field


# ----------------------------------------------------------------- losses


@losses.in_float32
def patch_d_loss(real_map: torch.Tensor, fake_map: torch.Tensor
                 ) -> torch.Tensor:
    r"""PatchGAN discriminator loss: binary cross-entropy averaged over
    every patch logit, label 1 on real pairs and 0 on fake pairs.

    .. math:: L_D = -\tfrac{1}{P}\sum_p \big[\log D_p(a, b)
              + \log(1 - D_p(a, G(a)))\big]
    """
    if real_map.shape != fake_map.shape or real_map.ndim != 4:
        raise ValueError("patch_d_loss takes two (B, 1, H, W) logit maps "
                         f"of one shape, got {tuple(real_map.shape)} and "
                         f"{tuple(fake_map.shape)}")
    return losses.d_loss(real_map, fake_map)  # the same BCE, per patch


@losses.in_float32
def pix2pix_g_loss(fake_map: torch.Tensor, b_fake: torch.Tensor,
                   b_real: torch.Tensor, l1_weight: float = 100.0
                   ) -> torch.Tensor:
    r"""Generator loss: non-saturating adversarial term on every patch plus
    :math:`\lambda` times the mean absolute error to the target.

    .. math:: L_G = -\tfrac{1}{P}\sum_p \log D_p(a, G(a))
              + \lambda \tfrac{1}{N}\lVert b - G(a) \rVert_1
    """
    if b_fake.shape != b_real.shape:
        raise ValueError(f"output {tuple(b_fake.shape)} and target "
                         f"{tuple(b_real.shape)} must have the same shape")
    return losses.g_loss_nonsaturating(fake_map) + \
        l1_weight * (b_fake - b_real).abs().mean()


# ------------------------------------------------------------- the task


def mask_square(x: torch.Tensor, size: int = 12,
                generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide a random size x size square of each image (set it to 0, mid
    grey). Returns the masked images and the masks (1 = hidden)."""
    if x.ndim != 4 or not 0 < size <= min(x.shape[2:]):
        raise ValueError(f"mask_square needs (B, C, H, W) images and a "
                         f"square of 1..H pixels, got {tuple(x.shape)} "
                         f"and size={size}")
    n, _, h, w = x.shape
    gen_device = generator.device if generator is not None else x.device
    top = torch.randint(0, h - size + 1, (n,), generator=generator,
                        device=gen_device).to(x.device)
    left = torch.randint(0, w - size + 1, (n,), generator=generator,
                         device=gen_device).to(x.device)
    rows = torch.arange(h, device=x.device)[None, :, None]  # (1, H, 1)
    cols = torch.arange(w, device=x.device)[None, None, :]  # (1, 1, W)
    inside = (rows >= top[:, None, None]) & (rows < top[:, None, None] + size)
    inside = inside & (cols >= left[:, None, None]) & \
        (cols < left[:, None, None] + size)
    mask = inside[:, None].float()  # (B, 1, H, W)
    return x * (1 - mask), mask


def downsample(x: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """Low-resolution version: average-pool by ``factor`` (28 -> 7 for 4)
    and scale back up with nearest neighbours, so G sees 28x28 blocks."""
    small = F.avg_pool2d(x, factor)
    return F.interpolate(small, scale_factor=factor, mode="nearest")


# ----------------------------------------------------------------- training


def update_D(G: nn.Module, D: nn.Module, opt_D: torch.optim.Optimizer,
             a: torch.Tensor, b_real: torch.Tensor) -> torch.Tensor:
    """(1) Update D: real pairs (a, b) against fake pairs (a, G(a))."""
    with torch.no_grad():  # the D step needs no gradient through G
        b_fake = G(a)
    loss = patch_d_loss(D(a, b_real), D(a, b_fake))
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.detach()


def update_G(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer,
             a: torch.Tensor, b_real: torch.Tensor, l1_weight: float = 100.0,
             extra_loss: Callable | None = None) -> torch.Tensor:
    """(2) Update G: fool D on every patch while staying close in L1.

    ``extra_loss(b_fake, b_real)``, if given, is added (a feature loss).
    """
    with train.frozen(D):  # gradients flow through D to G, not into D
        b_fake = G(a)
        loss = pix2pix_g_loss(D(a, b_fake), b_fake, b_real, l1_weight)
        if extra_loss is not None:
            loss = loss + extra_loss(b_fake, b_real)
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
    return loss.detach()


def update_G_l1(G: nn.Module, opt_G: torch.optim.Optimizer, a: torch.Tensor,
                b_real: torch.Tensor, l1_weight: float = 100.0,
                extra_loss: Callable | None = None) -> torch.Tensor:
    """(2) Update G without D: minimise L1 (+ extra) to the target alone."""
    b_fake = G(a)
    loss = l1_weight * (b_fake - b_real).abs().mean()
    if extra_loss is not None:
        loss = loss + extra_loss(b_fake, b_real)
    opt_G.zero_grad(set_to_none=True)
    loss.backward()
    opt_G.step()
    return loss.detach()


class Pix2PixStep(train.Step):
    """One D step on patches, then one G step; with ``D=None`` the L1
    (+ extra) step of G alone, the baseline pix2pix is compared with.

    ``update_D`` and ``update_G`` may be replaced by functions of the same
    signature (a chapter passes the ones its cells define).
    """

    def __init__(self, G: nn.Module, D: nn.Module | None,
                 sample_pair: Callable, *, batch_size: int = 64,
                 lr: float = 2e-4, l1_weight: float = 100.0,
                 extra_loss: Callable | None = None,
                 update_D: Callable = update_D,
                 update_G: Callable = update_G) -> None:
        if batch_size < 1:
            raise ValueError(f"need batch_size >= 1, got {batch_size}")
        self.G, self.D, self.sample_pair = G, D, sample_pair
        self.update_D, self.update_G = update_D, update_G
        self.batch_size, self.l1_weight = batch_size, l1_weight
        self.extra_loss = extra_loss
        self.opt_G = torch.optim.Adam(G.parameters(), lr=lr,
                                      betas=(0.5, 0.999))
        self.networks, self.optimizers = {"G": G}, {"G": self.opt_G}
        if D is not None:
            self.opt_D = torch.optim.Adam(D.parameters(), lr=lr,
                                          betas=(0.5, 0.999))
            self.networks["D"], self.optimizers["D"] = D, self.opt_D

    def __call__(self) -> dict[str, torch.Tensor]:
        a, b_real = self.sample_pair(self.batch_size)
        if self.D is None:
            return {"loss_G": update_G_l1(self.G, self.opt_G, a, b_real,
                                          self.l1_weight, self.extra_loss)}
        loss_D = self.update_D(self.G, self.D, self.opt_D, a, b_real)
        loss_G = self.update_G(self.G, self.D, self.opt_G, a, b_real,
                               self.l1_weight, self.extra_loss)
        return {"loss_D": loss_D, "loss_G": loss_G}

    def settings(self) -> dict:
        extra = (None if self.extra_loss is None
                 else train.describe(self.extra_loss))
        return {**super().settings(), "l1_weight": self.l1_weight,
                "extra_loss": extra}


def fit(G: nn.Module, D: nn.Module | None, sample_pair: Callable, *,
        steps: int, batch_size: int = 64, lr: float = 2e-4,
        l1_weight: float = 100.0, extra_loss: Callable | None = None,
        update_D: Callable = update_D, update_G: Callable = update_G,
        progress: bool = True, **loop) -> train.History:
    """Train a translation G for ``steps`` steps on pairs ``sample_pair(n)
    -> (a, b)``. With ``D=None`` G is trained on L1 (+ extra) alone.

    Returns the history of loss_G (and loss_D with a D); ``update_D`` and
    ``update_G`` as in :class:`Pix2PixStep`; other keyword arguments
    (``checkpoint``, ``callbacks``, ...) go to ``train.fit``.
    """
    step = Pix2PixStep(G, D, sample_pair, batch_size=batch_size, lr=lr,
                       l1_weight=l1_weight, extra_loss=extra_loss,
                       update_D=update_D, update_G=update_G)
    return train.fit(step, steps, progress=progress, desc="pix2pix", **loop)


@torch.no_grad()
def translate(G: nn.Module, a: torch.Tensor, batch_size: int = 500
              ) -> torch.Tensor:
    """G(a) in eval mode, in batches."""
    was_training = G.training
    G.eval()
    out = torch.cat([G(ab) for ab in a.split(batch_size)])
    G.train(was_training)
    return out
