r"""Mode-collapse benchmarks: how many modes of a mixture a generator covers.

The ring-8 and grid-25 benchmarks (:func:`ganlib.data.ring8`,
:func:`ganlib.data.grid25`) are scored, as in VEEGAN (Srivastava et al.,
2017), PacGAN (Lin et al., 2018) and GDPP (Elfeki et al., 2019), on a set
of generated samples (2,500 by convention):

* a sample is **high quality** when it lies within ``threshold`` (3)
  standard deviations of its nearest mode centre;
* a mode is **captured** when at least one high-quality sample has it as
  its nearest mode;
* the **reverse KL** compares the histogram of high-quality samples over
  the modes with the uniform distribution the data has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ganlib.data import GaussianMixture


@dataclass
class ModeScore:
    """The three benchmark figures of one set of samples."""

    modes: int             # modes captured
    n_modes: int           # modes in the target mixture
    high_quality: float    # share of samples within the threshold
    kl: float              # KL(p_modes || uniform), in nats
    counts: list[int]      # high-quality samples per mode

    def __str__(self) -> str:
        return (f"{self.modes}/{self.n_modes} modes, "
                f"{self.high_quality:.1%} high quality, KL {self.kl:.3f}")


def nearest_mode(samples: torch.Tensor, means: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest mode centre of each sample, and the distance."""
    if samples.ndim != 2 or means.ndim != 2 or \
            samples.shape[1] != means.shape[1]:
        raise ValueError(f"need samples (N, d) and means (K, d) of equal d, "
                         f"got {tuple(samples.shape)} and "
                         f"{tuple(means.shape)}")
    if len(means) == 0 or means.shape[1] == 0:
        raise ValueError("need at least one mode centre of at least one "
                         "dimension, got means of shape "
                         f"{tuple(means.shape)}")
    dist = torch.cdist(samples.float(), means.float())  # (N, K)
    d_min, idx = dist.min(dim=1)
    return idx, d_min


def reverse_kl_uniform(counts: torch.Tensor) -> float:
    r"""KL divergence of a mode histogram from the uniform distribution.

    With :math:`c_k` high-quality samples at mode :math:`k` of :math:`K`,
    :math:`p_k = c_k / \sum_j c_j` and

    .. math:: \mathrm{KL}(p \,\|\, u) = \sum_{k: p_k > 0} p_k \log(K p_k),

    in nats: 0 when every mode holds the same share, :math:`\log K` when
    one mode holds everything. With no high-quality sample at all, p is
    undefined and the worst value :math:`\log K` is returned.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or len(counts) == 0 or (counts < 0).any():
        raise ValueError("counts must be a non-empty 1-D histogram of "
                         f"non-negative numbers, got {counts.tolist()}")
    k, total = len(counts), counts.sum()
    if total == 0:
        return math.log(k)
    p = counts[counts > 0] / total
    return float((p * (p * k).log()).sum())


def mode_score(samples: torch.Tensor, target: GaussianMixture,
               threshold: float = 3.0) -> ModeScore:
    """Modes captured, share of high-quality samples and reverse KL.

    ``samples`` is (N, d); ``target`` a mixture with one std per mode
    (ring-8, grid-25). A sample is high quality when its distance to the
    nearest centre is at most ``threshold`` times that mode's std.
    """
    if samples.ndim != 2 or len(samples) == 0:
        raise ValueError("mode_score needs at least one sample: a tensor "
                         f"(N, d) with N >= 1, got shape "
                         f"{tuple(samples.shape)}")
    means, stds = target.means.cpu(), target.stds.cpu()
    idx, dist = nearest_mode(samples.detach().cpu(), means)
    good = dist <= threshold * stds[idx]
    counts = torch.bincount(idx[good], minlength=len(means))
    return ModeScore(modes=int((counts > 0).sum()), n_modes=len(means),
                     high_quality=good.float().mean().item(),
                     kl=reverse_kl_uniform(counts), counts=counts.tolist())


def distinct_modes(target: GaussianMixture, tol: float = 1e-6) -> int:
    """Number of distinct mode centres (guards against a duplicated mode)."""
    d = torch.cdist(target.means.cpu(), target.means.cpu())  # (K, K)
    earlier = torch.ones_like(d, dtype=torch.bool).tril(-1)  # j < i
    # a centre counts unless it repeats an earlier centre
    dup = ((d <= tol) & earlier).any(dim=1)
    return int((~dup).sum())
