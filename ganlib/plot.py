"""Pictures: image grids, training curves, 2-D scatter and animations."""

from __future__ import annotations

import html
import re
from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib import animation
from torchvision.utils import make_grid

from ganlib.train import History

_CDN_LINK = re.compile(r"<link[^>]*://[^>]*font-awesome[^>]*>\s*")
# the player's frame: <img id="_anim_img..."> with no alt attribute
_PLAYER_IMG = re.compile(r"<img(?![^>]*\salt=)(?=[^>]*\sid=\"_anim_img)")


def image_grid(x: torch.Tensor, nrow: int = 8) -> torch.Tensor:
    """Images (B, C, H, W) in [-1, 1] tiled into one (H', W', C) picture."""
    if x.ndim != 4:
        raise ValueError(f"image_grid expects (B, C, H, W), got "
                         f"{tuple(x.shape)}")
    grid = make_grid(x.detach().float().cpu().clamp(-1, 1), nrow=nrow,
                     padding=1, normalize=True, value_range=(-1, 1),
                     pad_value=1.0)
    return grid.permute(1, 2, 0)  # (H', W', 3)


def show_images(x: torch.Tensor, nrow: int = 8, title: str | None = None,
                ax: plt.Axes | None = None, size: float = 0.5) -> plt.Axes:
    """Show images (B, C, H, W) in [-1, 1] as a grid."""
    if ax is None:
        ncol = min(nrow, len(x))
        nrows = -(-len(x) // nrow)
        _, ax = plt.subplots(figsize=(max(2.0, size * ncol),
                                      max(2.0, size * nrows)))
    ax.imshow(image_grid(x, nrow))
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def moving_average(values: Sequence[float], window: int = 25
                   ) -> torch.Tensor:
    """Moving average (the valid part, len - window + 1 points) of a noisy
    per-step curve; the window shrinks to the curve if it is shorter."""
    t = torch.as_tensor(list(values), dtype=torch.float32)
    if t.ndim != 1 or len(t) == 0:
        raise ValueError("moving_average needs a non-empty list of numbers")
    w = max(1, min(window, len(t)))
    return t.unfold(0, w, 1).mean(1)


def plot_history(history: History, smooth: int = 25,
                 axes: Sequence[plt.Axes] | None = None):
    """Losses and mean discriminator outputs over training, side by side."""
    if not history.step:
        raise ValueError("the history is empty: train for a few steps first")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))

    def ma(values):
        return moving_average(values, smooth)

    steps = history.step[max(1, min(smooth, len(history.step))) - 1:]
    axes[0].plot(steps, ma(history["loss_D"]), label="loss_D")
    axes[0].plot(steps, ma(history["loss_G"]), label="loss_G")
    axes[0].set_xlabel("generator step")
    axes[0].set_title("losses")
    axes[0].legend()
    axes[1].plot(steps, ma(history["D_real"]), label="D(x_real)")
    axes[1].plot(steps, ma(history["D_fake"]), label="D(G(z))")
    axes[1].axhline(0.5, color="gray", lw=0.8, ls="--")
    axes[1].set_ylim(0, 1)
    axes[1].set_xlabel("generator step")
    axes[1].set_title("mean discriminator output")
    axes[1].legend()
    plt.tight_layout()
    return axes


def scatter_2d(samples: torch.Tensor, modes: torch.Tensor | None = None,
               ax: plt.Axes | None = None, title: str | None = None,
               lim: float | None = None) -> plt.Axes:
    """2-D samples as dots, with the true mode centres as crosses."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    s = samples.detach().cpu()
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4, color="C0")
    if modes is not None:
        m = modes.detach().cpu()
        ax.scatter(m[:, 0], m[:, 1], marker="x", color="C3", s=25)
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def animate(frames: Sequence, draw, interval: int = 200,
            figsize: tuple[float, float] = (4, 4), *,
            alt: str = "Animated figure."):
    """An HTML animation (plays in the static website) of ``draw(ax, frame)``.

    ``alt`` describes the animation for screen readers; pass one, the
    default says only that it is an animation. Returns an
    ``IPython.display.HTML`` object built with ``to_jshtml``.
    """
    from IPython.display import HTML

    if len(frames) == 0:
        raise ValueError("animate needs at least one frame")
    if not alt.strip():
        raise ValueError("alt must describe the animation, not be empty")
    fig, ax = plt.subplots(figsize=figsize)

    def update(i):
        ax.clear()
        draw(ax, frames[i])
        return []

    anim = animation.FuncAnimation(fig, update, frames=len(frames),
                                   interval=interval, blit=False)
    page = anim.to_jshtml(default_mode="once")
    # matplotlib links FontAwesome 4 from a CDN for the player's buttons;
    # the book's pages ship their own icons and must load nothing from
    # outside, so the link goes (the buttons keep their titles)
    page = _CDN_LINK.sub("", page)
    # the player's <img> carries no alt text; the page's readers need one
    tag = f'<img alt="{html.escape(alt, quote=True)}"'
    page = _PLAYER_IMG.sub(lambda _: tag, page)
    plt.close(fig)  # show the animation only, not its last frame twice
    return HTML(page)


def animate_images(frames: Sequence[torch.Tensor], steps: Sequence[int],
                   nrow: int = 8, interval: int = 300, *,
                   alt: str | None = None):
    """Animate sample grids taken during training (``train.Snapshots``).

    ``alt`` describes the animation for screen readers; without it a
    generic description of sample grids over training is used.
    """
    def draw(ax, i):
        ax.imshow(image_grid(frames[i], nrow))
        ax.set_axis_off()
        ax.set_title(f"step {steps[i]}")

    if alt is None:
        alt = (f"Animation of generated sample grids, {nrow} to a row, "
               f"from training step {steps[0]} to {steps[-1]}.")
    return animate(list(range(len(frames))), draw, interval=interval,
                   alt=alt)
