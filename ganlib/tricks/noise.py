"""Instance noise (Sonderby et al., 2017): a wrapper that adds Gaussian
noise to D's inputs and the callback that anneals it."""

from __future__ import annotations

import torch
from torch import nn

from ganlib.train import Callback


class InstanceNoise(nn.Module):
    """Wraps D so that every input gets Gaussian noise of std ``sigma``.

    Noise on real and fake inputs alike blurs both distributions so that
    they overlap and D's gradient is informative (Sonderby et al., 2017);
    anneal ``sigma`` towards 0 with :class:`AnnealNoise`.
    """

    def __init__(self, D: nn.Module, sigma: float = 0.1) -> None:
        super().__init__()
        self.D, self.sigma = D, sigma

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.D.features(x + self.sigma * torch.randn_like(x))

    def forward(self, x: torch.Tensor, *cond) -> torch.Tensor:
        return self.D(x + self.sigma * torch.randn_like(x), *cond)


class AnnealNoise(Callback):
    """Lowers ``D.sigma`` linearly from sigma0 to 0 over ``steps`` steps."""

    def __init__(self, sigma0: float, steps: int, every: int = 1) -> None:
        self.sigma0, self.steps, self.every = sigma0, max(1, steps), every

    def __call__(self, it, step, history) -> None:
        step.D.sigma = self.sigma0 * max(0.0, 1.0 - it / self.steps)
