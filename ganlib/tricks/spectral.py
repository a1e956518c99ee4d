"""Spectral normalisation of the batched toy layers (Miyato et al., 2018)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

if TYPE_CHECKING:  # only for annotations: toys imports this module
    from ganlib.tricks.toys import BatchedLinear


class _BatchedSpectralNorm(nn.Module):
    """W / sigma(W) for each of S stacked matrices, by power iteration."""

    def __init__(self, weight: torch.Tensor, n_power_iterations: int = 1,
                 eps: float = 1e-12) -> None:
        super().__init__()
        S, n_in, n_out = weight.shape
        self.n_power_iterations, self.eps = n_power_iterations, eps
        u = F.normalize(torch.randn(S, n_out, 1), dim=1, eps=eps)
        self.register_buffer("_u", u)  # right singular vector estimates
        with torch.no_grad():  # start from a converged estimate
            for _ in range(15):
                self._power_iteration(weight)

    @torch.no_grad()
    def _power_iteration(self, W: torch.Tensor) -> None:
        for _ in range(self.n_power_iterations):
            v = F.normalize(torch.bmm(W, self._u), dim=1, eps=self.eps)
            self._u.copy_(F.normalize(torch.bmm(W.transpose(1, 2), v),
                                      dim=1, eps=self.eps))

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        if self.training:
            self._power_iteration(W.detach())
        # a copy, so a later power iteration cannot change what autograd
        # saved for this forward pass (D runs twice per step)
        u = self._u.clone()
        v = F.normalize(torch.bmm(W, u), dim=1, eps=self.eps).detach()
        # sigma = v^T W u, the largest singular value of each matrix
        sigma = torch.bmm(v.transpose(1, 2), torch.bmm(W, u))
        return W / sigma  # (S, n_in, n_out) / (S, 1, 1)


def batched_spectral_norm(layer: BatchedLinear,
                          n_power_iterations: int = 1) -> BatchedLinear:
    """Spectral normalisation (Miyato et al., 2018) of a BatchedLinear.

    The batched twin of ``torch.nn.utils.parametrizations.spectral_norm``:
    every stacked weight matrix is divided by its largest singular value,
    estimated by one power iteration per training-mode forward pass.
    """
    parametrize.register_parametrization(
        layer, "weight", _BatchedSpectralNorm(layer.weight.detach(),
                                              n_power_iterations))
    return layer
