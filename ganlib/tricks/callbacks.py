"""Training callbacks: linear learning-rate decay and generative
adversarial parallelisation (discriminators swapped among generators)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ganlib.train import Callback


class LRDecay(Callback):
    """Lowers the learning rate of optimizers linearly to ``final`` times
    its start over ``steps`` steps; late small steps sharpen the modes."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer],
                 steps: int, final: float = 0.0) -> None:
        self.optimizers, self.steps, self.final = optimizers, steps, final
        self.every = 1
        self.lr0 = [[g["lr"] for g in opt.param_groups]
                    for opt in optimizers]

    def __call__(self, it, step, history) -> None:
        frac = min(1.0, it / max(1, self.steps))
        scale = 1.0 - (1.0 - self.final) * frac
        for opt, lr0 in zip(self.optimizers, self.lr0):
            for group, lr in zip(opt.param_groups, lr0):
                group["lr"] = lr * scale


class SwapDiscriminators(Callback):
    """Generative adversarial parallelisation (Im et al., 2016).

    The toy models hold ``n_groups`` groups (one per seed) of ``n_pairs``
    G/D pairs each. Every ``every`` steps, within each group, the
    discriminators are shuffled among the generators, so each G meets
    several Ds and no D can specialise on one G's current modes. The Adam
    state of D moves with its weights.
    """

    def __init__(self, D: nn.Module, opt_D: torch.optim.Optimizer,
                 n_groups: int, n_pairs: int, every: int = 50) -> None:
        if n_pairs < 2:
            raise ValueError(f"GAP needs at least 2 pairs, got {n_pairs}")
        n_models = getattr(D, "n_models", None)
        if n_models != n_groups * n_pairs:
            raise ValueError(f"D holds {n_models} models, but {n_groups} "
                             f"groups of {n_pairs} pairs need "
                             f"{n_groups * n_pairs}")
        self.opt_D, self.every = opt_D, every
        self.n_groups, self.n_pairs = n_groups, n_pairs

    def permutation(self) -> torch.Tensor:
        """A random shuffle of the pairs within each group: (S,) indices."""
        perms = [torch.randperm(self.n_pairs) + g * self.n_pairs
                 for g in range(self.n_groups)]
        return torch.cat(perms)

    @torch.no_grad()
    def __call__(self, it, step, history) -> None:
        perm = self.permutation()
        for p in step.D.parameters():
            p.copy_(p[perm.to(p.device)])
            for value in self.opt_D.state.get(p, {}).values():
                if torch.is_tensor(value) and value.ndim == p.ndim:
                    value.copy_(value[perm.to(value.device)])
