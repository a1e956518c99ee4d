r"""Inverting a representation: which image has these deep features?

Mahendran & Vedaldi (2015) reconstruct an image from its code
:math:`\Phi_0 = \Phi(x_0)` by optimising the pixels themselves,

.. math:: x^* = \arg\min_x \; \ell\big(\Phi(x), \Phi_0\big)
   + \lambda\, \mathcal R(x),

with a normalised squared feature loss :math:`\ell` (:func:`feature_loss`)
and a total-variation prior :math:`\mathcal R` (:func:`tv_loss`).

* :class:`LayerFeatures`: the activations of a network after each stage,
  with :func:`classifier_features` for the book's MNIST classifier and
  :func:`sequential_features` for any ``nn.Sequential`` (VGG-16, ...).
* :func:`invert` and :func:`invert_layers`: Adam on the pixels, from
  noise, with optional clamping to [-1, 1].
* :func:`center_mask`: keep only a central window of neurons (the
  receptive-field experiment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from ganlib import train

Features = dict[str, torch.Tensor]


# ---------------------------------------------------------------- the losses


def tv_loss(x: torch.Tensor, beta: float = 2.0,
            reduction: str = "mean") -> torch.Tensor:
    r"""Total variation of images (B, C, H, W), the prior of Mahendran (2015).

    .. math:: \mathcal R_{V^\beta}(x) = \frac{1}{C(H-1)(W-1)}
       \sum_{c,i,j} \Big( (x_{c,i,j+1} - x_{c,i,j})^2
       + (x_{c,i+1,j} - x_{c,i,j})^2 \Big)^{\beta/2}

    The sum runs over the pixels that have both a right and a lower
    neighbour. ``reduction`` "mean" averages over the batch, "none" returns
    one value per image (B,). beta = 2 penalises every edge smoothly; beta
    = 1 is the classic (edge-preserving) total variation.
    """
    if not torch.is_tensor(x) or x.ndim != 4:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"tv_loss expects images (B, C, H, W), got {shape}")
    if x.shape[-1] < 2 or x.shape[-2] < 2:
        raise ValueError("tv_loss needs images of at least 2x2 pixels, got "
                         f"{tuple(x.shape[-2:])}")
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    _check_reduction(reduction)
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]  # (B, C, H-1, W-1) horizontal
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]  # (B, C, H-1, W-1) vertical
    sq = dx.pow(2) + dy.pow(2)
    if beta != 2:
        # the gradient of sqrt at 0 is infinite; a tiny floor keeps it finite
        sq = sq + 1e-8
    per_image = sq.pow(beta / 2).flatten(1).mean(dim=1)  # (B,)
    return per_image.mean() if reduction == "mean" else per_image


def feature_loss(f: torch.Tensor, f0: torch.Tensor,
                 mask: torch.Tensor | None = None,
                 reduction: str = "mean") -> torch.Tensor:
    r"""Normalised squared distance between features, one value per image.

    .. math:: \ell(\Phi(x), \Phi_0) = \frac{\lVert m \odot (\Phi(x) -
       \Phi_0) \rVert^2}{\lVert m \odot \Phi_0 \rVert^2}

    ``f`` and ``f0`` are (B, ...) features of the same shape; the optional
    ``mask`` m (broadcastable to them, 0 or 1) keeps only some neurons.
    Dividing by the target's energy makes layers of different scale
    comparable, so one lambda suits several layers.
    """
    check_features(f, f0, reduction)
    diff = (f - f0).pow(2)
    energy = f0.pow(2)
    if mask is not None:
        mask = broadcast_mask(mask, f)
        diff, energy = diff * mask, energy * mask
    # the floor keeps an all-zero target from dividing by zero
    per_image = (diff.flatten(1).sum(1)
                 / energy.flatten(1).sum(1).clamp_min(1e-8))  # (B,)
    return per_image.mean() if reduction == "mean" else per_image


def check_features(f: torch.Tensor, f0: torch.Tensor,
                   reduction: str = "mean") -> None:
    """A clear error unless f and f0 are (B, ...) tensors of one shape."""
    if not (torch.is_tensor(f) and torch.is_tensor(f0)):
        raise ValueError("feature_loss takes two tensors")
    if f.shape != f0.shape:
        raise ValueError(f"features {tuple(f.shape)} and target "
                         f"{tuple(f0.shape)} must have the same shape")
    if f.ndim < 2:
        raise ValueError(f"features need a batch dimension (B, ...), got "
                         f"shape {tuple(f.shape)}")
    _check_reduction(reduction)


def broadcast_mask(mask: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """The mask in f's dtype and shape; a clear error if it does not fit."""
    try:
        return torch.broadcast_to(mask.to(f.dtype), f.shape)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not "
                         f"broadcast to features {tuple(f.shape)}"
                         ) from None


def center_mask(shape: Sequence[int], size: int = 5) -> torch.Tensor:
    """A (1, 1, H, W) mask of ones on the central size x size neurons.

    ``shape`` is a feature shape (..., H, W). When H (or W) minus size is
    odd the window sits half a neuron up (or left) of the exact centre.
    """
    if len(shape) < 2:
        raise ValueError(f"center_mask needs a spatial shape (..., H, W), "
                         f"got {tuple(shape)}")
    h, w = int(shape[-2]), int(shape[-1])
    if size < 1 or size > min(h, w):
        raise ValueError(f"a {size}x{size} window does not fit in a "
                         f"{h}x{w} feature map")
    top, left = (h - size) // 2, (w - size) // 2
    mask = torch.zeros(1, 1, h, w)
    mask[..., top:top + size, left:left + size] = 1.0
    return mask


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got "
                         f"{reduction!r}")


# ------------------------------------------------------- layer-wise features


class LayerFeatures(nn.Module):
    """Runs named stages in order and returns each stage's output.

    ``LayerFeatures([("conv1", conv), ("relu1", relu), ...])``; calling it
    on x gives ``{"conv1": ..., "relu1": ..., ...}``. ``upto`` stops after
    the named stage, so shallow layers cost shallow compute. The stages
    share their modules (and weights) with the network they came from.
    """

    def __init__(self, stages: Sequence[tuple[str, nn.Module]]) -> None:
        super().__init__()
        if not stages:
            raise ValueError("LayerFeatures needs at least one stage")
        names = [name for name, _ in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        self.names = names
        self.stages = nn.ModuleList(module for _, module in stages)

    def forward(self, x: torch.Tensor, upto: str | None = None) -> Features:
        if upto is not None and upto not in self.names:
            raise KeyError(f"unknown layer {upto!r}; layers are "
                           f"{self.names}")
        out: Features = {}
        for name, stage in zip(self.names, self.stages):
            x = stage(x)
            out[name] = x
            if name == upto:
                break
        return out


def classifier_features(model: nn.Module) -> LayerFeatures:
    """Layer-wise features of ganlib's MNISTClassifier (conv, relu, pool).

    Layers: conv1, relu1, pool1 (B, 32, ., .), conv2, relu2, pool2
    (B, 64, ., .), fc, relu_fc (B, 128), logits (B, 10). "convN" is the
    convolution followed by its batch norm. Put the model in eval mode:
    batch norm then uses its running statistics, image by image.
    """
    body = getattr(model, "body", None)
    head = getattr(model, "head", None)
    if not isinstance(body, nn.Sequential) or len(body) != 11 or \
            not isinstance(head, nn.Sequential):
        raise ValueError("classifier_features expects ganlib's "
                         "MNISTClassifier (a .body of 11 modules and a "
                         ".head)")
    b = body
    return LayerFeatures([
        ("conv1", nn.Sequential(b[0], b[1])), ("relu1", b[2]),
        ("pool1", b[3]),                           # (B, 32, 14, 14)
        ("conv2", nn.Sequential(b[4], b[5])), ("relu2", b[6]),
        ("pool2", b[7]),                           # (B, 64, 7, 7)
        ("fc", nn.Sequential(b[8], b[9])), ("relu_fc", b[10]),  # (B, 128)
        ("logits", head),                          # (B, 10)
    ])


def sequential_features(net: nn.Sequential,
                        cut_after: tuple[type, ...] = (nn.ReLU,
                                                       nn.MaxPool2d),
                        preprocess: nn.Module | None = None
                        ) -> LayerFeatures:
    """Cut an ``nn.Sequential`` after every ReLU and max-pool.

    Names count blocks between poolings, VGG style: relu1_1, relu1_2,
    pool1, relu2_1, ... An optional ``preprocess`` module (e.g. a
    normalisation) runs first, inside the first stage.
    """
    stages, pending = [], []
    block, index = 1, 0
    for module in net:
        pending.append(module)
        if isinstance(module, cut_after):
            if isinstance(module, nn.MaxPool2d):
                name = f"pool{block}"
                block, index = block + 1, 0
            else:
                index += 1
                name = f"relu{block}_{index}"
            stages.append((name, nn.Sequential(*pending)))
            pending = []
    if not stages:
        raise ValueError("the network has no layer to cut after")
    if preprocess is not None:
        name, first = stages[0]
        stages[0] = (name, nn.Sequential(preprocess, first))
    return LayerFeatures(stages)


# ------------------------------------------------------------- the inversion


@dataclass
class Inversion:
    """The result of an inversion.

    x: the reconstructed images (B, C, H, W); objective: the objective per
    step and image (steps, B); feature_loss: the final feature loss (B,).
    """

    x: torch.Tensor
    objective: torch.Tensor
    feature_loss: torch.Tensor

    @property
    def losses(self) -> list[float]:
        """The loss curve: the objective averaged over the batch, per step."""
        return self.objective.mean(dim=1).tolist()


class _Pixels(nn.Module):
    """The images being optimised, as the one "network" of the step."""

    def __init__(self, x_init: torch.Tensor) -> None:
        super().__init__()
        self.x = nn.Parameter(x_init.detach().clone())


class InversionStep(train.Step):
    """One Adam step on the pixels of x for ``per_image_loss(x)``."""

    def __init__(self, per_image_loss: Callable, x_init: torch.Tensor,
                 steps: int, lr: float, clamp: bool) -> None:
        self.per_image_loss, self.clamp = per_image_loss, clamp
        self.pixels = _Pixels(x_init)
        self.opt = torch.optim.Adam([self.pixels.x], lr=lr)
        # a cosine decay lets the last steps settle fine detail
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt,
                                                                steps)
        self.networks, self.optimizers = {"x": self.pixels}, {"x": self.opt}
        self.schedulers = {"x": self.sched}
        self.batch_size = len(x_init)
        self.record: list[torch.Tensor] = []  # the objective per image

    def __call__(self) -> dict[str, torch.Tensor]:
        x = self.pixels.x
        objective, _ = self.per_image_loss(x)                # forward (B,)
        # images are independent: the sum's gradient on image i is the
        # gradient of its own objective, and Adam scales per pixel, so a
        # batch of inversions equals the same inversions run one by one.
        # autograd.grad asks for d/dx only, never for the weights' gradients
        (x.grad,) = torch.autograd.grad(objective.sum(), x)  # backward
        self.opt.step()                                      # update
        self.sched.step()
        if self.clamp:
            with torch.no_grad():
                x.clamp_(-1.0, 1.0)  # project back onto the image range
        objective = objective.detach().clone()  # a 4-byte copy per image
        self.record.append(objective)
        return {"objective": objective.mean()}


def _optimise(per_image_loss: Callable[[torch.Tensor],
                                       tuple[torch.Tensor, torch.Tensor]],
              x_init: torch.Tensor, steps: int, lr: float,
              clamp: bool) -> Inversion:
    """Adam on the pixels of x; per_image_loss(x) -> (objective, l) (B,)."""
    if steps < 1 or lr <= 0:
        raise ValueError(f"need steps >= 1 and lr > 0, got steps={steps}, "
                         f"lr={lr}")
    step = InversionStep(per_image_loss, x_init, steps, lr, clamp)
    try:
        # pixels are optimised in float32: no autocast, whatever the device
        train.fit(step, steps, progress=False, desc="inversion", amp=False)
    except FloatingPointError:
        raise FloatingPointError("the inversion diverged (NaN or inf); "
                                 "lower the learning rate") from None
    x = step.pixels.x.detach()
    with torch.no_grad():
        objective, loss = per_image_loss(x)
    curve = torch.stack(step.record + [objective]).cpu()  # (steps + 1, B)
    if not torch.isfinite(curve).all():
        raise FloatingPointError("the inversion diverged (NaN or inf); "
                                 "lower the learning rate")
    return Inversion(x, curve, loss.detach())


def _lam_per_image(lam, batch: int, device) -> torch.Tensor:
    lam = torch.as_tensor(lam, dtype=torch.float32, device=device)
    if lam.ndim == 0:
        lam = lam.expand(batch)
    if lam.shape != (batch,):
        raise ValueError(f"lam must be a number or one value per image "
                         f"({batch},), got shape {tuple(lam.shape)}")
    if (lam < 0).any():
        raise ValueError("lam must be non-negative")
    return lam


def _check_init(x_init: torch.Tensor) -> None:
    if not torch.is_tensor(x_init) or x_init.ndim != 4:
        shape = (tuple(x_init.shape) if torch.is_tensor(x_init)
                 else type(x_init).__name__)
        raise ValueError(f"x_init must be images (B, C, H, W), got {shape}")


def invert(phi: Callable[[torch.Tensor], torch.Tensor], phi_0: torch.Tensor,
           x_init: torch.Tensor, lam: float | torch.Tensor = 0.0,
           beta: float = 2.0, steps: int = 200, lr: float = 0.05,
           mask: torch.Tensor | None = None, clamp: bool = True
           ) -> Inversion:
    r"""Reconstruct images from target features by gradient descent on x.

    .. math:: x^* = \arg\min_x \; \ell\big(\Phi(x), \Phi_0\big)
       + \lambda\, \mathcal R_{V^\beta}(x)

    ``phi`` maps images (B, C, H, W) to features (B, ...); ``phi_0`` is the
    target (B, ...); ``x_init`` the starting images (e.g. noise). ``lam``
    is one number or one per image (a lambda sweep in one batch); ``mask``
    restricts the feature loss (see :func:`center_mask`); ``clamp`` keeps
    pixels in [-1, 1] after every step.
    """
    _check_init(x_init)
    if len(phi_0) != len(x_init):
        raise ValueError(f"{len(phi_0)} targets but {len(x_init)} starting "
                         "images")
    phi_0 = phi_0.detach()
    lam = _lam_per_image(lam, len(x_init), x_init.device)

    def per_image_loss(x):
        f = phi(x)
        if not torch.is_tensor(f) or f.shape != phi_0.shape:
            got = tuple(f.shape) if torch.is_tensor(f) else type(f).__name__
            raise ValueError(f"phi(x) gave {got}, but the target phi_0 has "
                             f"shape {tuple(phi_0.shape)}")
        loss = feature_loss(f, phi_0, mask, reduction="none")
        return loss + lam * tv_loss(x, beta, reduction="none"), loss

    return _optimise(per_image_loss, x_init, steps, lr, clamp)


def invert_layers(extractor: LayerFeatures, x0: torch.Tensor,
                  layers: Sequence[str], x_init: torch.Tensor,
                  lam: float | Sequence[float] = 0.0, beta: float = 2.0,
                  steps: int = 200, lr: float = 0.05,
                  masks: dict[str, torch.Tensor] | None = None,
                  clamp: bool = True) -> Inversion:
    """Reconstruct every image of x0 from every layer, in one optimisation.

    x0 (N, C, H, W) are the originals. The result is layer-major: image
    ``k * N + i`` is x0[i] reconstructed from ``layers[k]``. ``x_init`` has
    len(layers) * N images; ``lam`` is one number or one per layer;
    ``masks`` maps a layer name to its mask (layers not named use all
    neurons).
    """
    _check_init(x_init)
    layers = list(layers)
    unknown = [name for name in layers if name not in extractor.names]
    if not layers or unknown:
        raise KeyError(f"unknown or no layers {unknown or layers}; layers "
                       f"are {extractor.names}")
    n, k = len(x0), len(layers)
    if len(x_init) != n * k or x_init.shape[1:] != x0.shape[1:]:
        raise ValueError(f"x_init must hold {k} layers x {n} images of shape "
                         f"{tuple(x0.shape[1:])}, got {tuple(x_init.shape)}")
    masks = masks or {}
    deepest = max(layers, key=extractor.names.index)
    with torch.no_grad():
        targets = extractor(x0, upto=deepest)
    lam = torch.as_tensor(lam, dtype=torch.float32)
    lam = lam.expand(k) if lam.ndim == 0 else lam
    if lam.shape != (k,):
        raise ValueError(f"lam must be a number or one value per layer "
                         f"({k},), got shape {tuple(lam.shape)}")
    lam = _lam_per_image(lam.repeat_interleave(n), n * k, x_init.device)

    def per_image_loss(x):
        # each slice of the batch runs only as deep as its own layer
        loss = torch.cat([
            feature_loss(extractor(x[j * n:(j + 1) * n], upto=name)[name],
                         targets[name], masks.get(name), reduction="none")
            for j, name in enumerate(layers)])  # (k * N,)
        return loss + lam * tv_loss(x, beta, reduction="none"), loss

    return _optimise(per_image_loss, x_init, steps, lr, clamp)
