r"""Walking the latent space: interpolation, attribute directions, neighbours.

* :func:`lerp` and :func:`slerp` move between two codes z0 and z1; slerp
  follows the great circle, which keeps a Gaussian code at a typical norm.
* :func:`slant` and :func:`ink` are simple image statistics of digits;
  :func:`attribute_direction` turns such a score of generated samples into
  a direction in z (the mean code of the top samples minus that of the
  bottom ones), for latent arithmetic in the manner of Radford et al.
* :func:`nearest_neighbours` finds, for each generated sample, the closest
  training images (in pixels or in any feature space): a memorisation check.
"""

from __future__ import annotations

import torch
from torch import nn


def _check_pair(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    if not (torch.is_tensor(z0) and torch.is_tensor(z1)):
        raise TypeError("z0 and z1 must be tensors")
    if z0.shape != z1.shape or z0.ndim not in (1, 2):
        raise ValueError("z0 and z1 must share a shape (d,) or (B, d), got "
                         f"{tuple(z0.shape)} and {tuple(z1.shape)}")
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    if t.ndim > 1:
        raise ValueError(f"t must be a number or a 1-D tensor, got shape "
                         f"{tuple(t.shape)}")
    return t


def _expand(t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """t of shape () or (T,) broadcast against z of shape (..., d)."""
    return t.reshape(t.shape + (1,) * z.ndim)  # (T, 1, ..., 1)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t) -> torch.Tensor:
    r"""Linear interpolation :math:`(1 - t) z_0 + t z_1`.

    z0, z1: (d,) or (B, d); t: a number or (T,). Returns z0's shape, with a
    leading T axis when t is 1-D.
    """
    t = _expand(_check_pair(z0, z1, t), z0)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t,
          eps: float = 1e-6) -> torch.Tensor:
    r"""Spherical interpolation along the great circle from z0 to z1.

    .. math:: \mathrm{slerp}(z_0, z_1; t) =
       \frac{\sin((1-t)\Omega)}{\sin \Omega} z_0
       + \frac{\sin(t\Omega)}{\sin \Omega} z_1,\quad
       \cos \Omega = \frac{z_0 \cdot z_1}{\lVert z_0\rVert \lVert z_1\rVert}

    Falls back to :func:`lerp` where :math:`\sin\Omega < \epsilon` (parallel
    or opposite codes, where the great circle is not defined). Shapes as in
    :func:`lerp`.
    """
    t = _check_pair(z0, z1, t)
    cos = (z0 * z1).sum(-1) / (z0.norm(dim=-1) * z1.norm(dim=-1)).clamp(
        min=1e-12)
    omega = cos.clamp(-1.0, 1.0).acos()[..., None]  # (..., 1)
    sin = omega.sin()
    te = _expand(t, z0)
    safe = sin.clamp(min=eps)
    out = (torch.sin((1 - te) * omega) * z0
           + torch.sin(te * omega) * z1) / safe
    return torch.where(sin < eps, lerp(z0, z1, t), out)


@torch.no_grad()
def generate(G: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None,
             batch_size: int = 1000) -> torch.Tensor:
    """G(z) (or G(z, y)) in eval mode and in batches, on the CPU."""
    if z.ndim != 2:
        raise ValueError(f"z must have shape (N, latent_dim), got "
                         f"{tuple(z.shape)}")
    was_training = G.training
    G.eval()
    device = next(G.parameters()).device
    out = []
    for i in range(0, len(z), batch_size):
        args = [z[i:i + batch_size].to(device)]
        if y is not None:
            args.append(y[i:i + batch_size].to(device))
        out.append(G(*args).cpu())
    G.train(was_training)
    return torch.cat(out)


def interpolation_grid(G: nn.Module, z0: torch.Tensor, z1: torch.Tensor,
                       steps: int = 8, mode: str = "slerp",
                       y: torch.Tensor | None = None) -> torch.Tensor:
    """Images along paths z0[i] -> z1[i]: (B * steps, C, H, W), one row each.

    z0, z1: (B, d); ``mode`` is "lerp" or "slerp"; y (B,) labels for a
    conditional G (kept fixed along each row).
    """
    if mode not in ("lerp", "slerp"):
        raise ValueError(f"mode must be 'lerp' or 'slerp', got {mode!r}")
    if z0.ndim != 2:
        raise ValueError(f"z0 and z1 must have shape (B, d), got "
                         f"{tuple(z0.shape)}")
    if steps < 2:
        raise ValueError(f"need at least 2 steps, got {steps}")
    t = torch.linspace(0, 1, steps)
    path = (slerp if mode == "slerp" else lerp)(z0, z1, t)  # (T, B, d)
    z = path.transpose(0, 1).reshape(-1, z0.shape[1])  # (B * T, d)
    labels = None if y is None else y.repeat_interleave(steps)
    return generate(G, z, labels)


# ------------------------------------------------------- image statistics


def _check_images(x: torch.Tensor, who: str) -> None:
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"{who} expects images (B, 1, H, W), got "
                         f"{tuple(x.shape)}")


def ink(x: torch.Tensor) -> torch.Tensor:
    """Share of the image covered by ink (pixels in [-1, 1]), shape (B,).

    Thick strokes cover more pixels than thin ones of the same digit.
    """
    _check_images(x, "ink")
    return ((x + 1) / 2).clamp(0, 1).flatten(1).mean(1)


def slant(x: torch.Tensor) -> torch.Tensor:
    r"""Slant of each digit from its image moments, shape (B,).

    The shear :math:`\mu_{11} / \mu_{02}` of the ink (rows grow downwards):
    positive for digits that lean right (top to the right), like italics.
    """
    _check_images(x, "slant")
    w = ((x[:, 0] + 1) / 2).clamp(0, 1)  # (B, H, W) ink weights
    mass = w.sum((1, 2)).clamp(min=1e-8)
    rows = torch.arange(w.shape[1], dtype=w.dtype, device=w.device)
    cols = torch.arange(w.shape[2], dtype=w.dtype, device=w.device)
    r_mean = (w.sum(2) * rows).sum(1) / mass  # (B,)
    c_mean = (w.sum(1) * cols).sum(1) / mass
    dr = rows[None, :, None] - r_mean[:, None, None]  # (B, H, 1)
    dc = cols[None, None, :] - c_mean[:, None, None]  # (B, 1, W)
    mu11 = (w * dr * dc).sum((1, 2))
    mu02 = (w * dr * dr).sum((1, 2)).clamp(min=1e-8)
    return -mu11 / mu02  # rows grow downwards: a right lean has mu11 < 0


# ------------------------------------------------------ latent arithmetic


def attribute_direction(z: torch.Tensor, scores: torch.Tensor,
                        frac: float = 0.1) -> torch.Tensor:
    r"""Direction in z along which an attribute grows, shape (d,).

    Mean code of the ``n = max(1, int(frac * N))`` highest-scoring samples
    minus the mean code of the n lowest-scoring ones:
    :math:`v = \bar z_{\text{top}} - \bar z_{\text{bottom}}`.
    """
    if z.ndim != 2 or scores.shape != (len(z),):
        raise ValueError(f"need codes (N, d) and scores (N,), got "
                         f"{tuple(z.shape)} and {tuple(scores.shape)}")
    if not 0.0 < frac <= 0.5:
        raise ValueError(f"frac must lie in (0, 0.5], got {frac}")
    n = max(1, int(frac * len(z)))
    order = scores.argsort()
    return z[order[-n:]].mean(0) - z[order[:n]].mean(0)


def walk(z: torch.Tensor, direction: torch.Tensor,
         alphas) -> torch.Tensor:
    """Codes z + alpha * direction, (B * A, d): row i holds z[i]'s walk."""
    if z.ndim != 2 or direction.shape != z.shape[1:]:
        raise ValueError(f"need z (B, d) and a direction (d,), got "
                         f"{tuple(z.shape)} and {tuple(direction.shape)}")
    a = torch.as_tensor(alphas, dtype=z.dtype, device=z.device)  # (A,)
    out = z[:, None, :] + a[None, :, None] * direction  # (B, A, d)
    return out.reshape(-1, z.shape[1])


# ------------------------------------------------------ memorisation check


@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, references: torch.Tensor,
                       k: int = 1, batch_size: int = 512
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean k nearest references of each query: (dist, index), (Q, k).

    Rows are flattened, so images (N, C, H, W) and features (N, d) both
    work; compare generated samples with the training set to see whether
    G copies it.
    """
    q, r = queries.flatten(1).float(), references.flatten(1).float()
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries and references differ in size: "
                         f"{tuple(queries.shape)} vs {tuple(references.shape)}")
    if not 1 <= k <= len(r):
        raise ValueError(f"k must lie in [1, {len(r)}], got {k}")
    dists, idx = [], []
    for qb in q.split(batch_size):
        d = torch.cdist(qb, r)  # (b, N)
        _, ik = d.topk(k, dim=1, largest=False)
        # cdist's fast matrix-product form is inexact near 0: recompute the
        # k chosen distances directly
        dk = (qb[:, None, :] - r[ik]).norm(dim=-1)  # (b, k)
        dists.append(dk)
        idx.append(ik)
    return torch.cat(dists), torch.cat(idx)
