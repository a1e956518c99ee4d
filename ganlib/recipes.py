"""Tested training settings ("recipes") that later chapters reuse.

Chapter 6 chooses the DCGAN settings that reach the book's target on
MNIST within the CPU time budget, and chapter 7 the conditional ones;
chapter 8 compares its tricks against :func:`dcgan_recipe`. A trained
generator can be kept in the ganlib cache with :func:`save_generator`
and read back with :func:`load_generator`, keyed on its recipe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from ganlib import budgets, checkpoint, data, models, train


@dataclass(frozen=True)
class GANRecipe:
    """Everything that defines a DCGAN training run on 28x28 digits."""

    latent_dim: int = 64
    width: int = 32          # channels of the first conv layer of G and D
    n_classes: int = 0       # 10 for a conditional GAN
    dropout: float = 0.0     # dropout before D's read-out layer
    pack: int = 1            # images D judges together (PacGAN)
    extra_layers: bool = False  # a 3x3 conv at 7x7 (G, D) and 14x14 (G)
    batch_size: int = 64
    steps: int = 8000        # generator steps (k = 1 D step each)
    lr_G: float = 2e-4
    lr_D: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    ema_decay: float = 0.995  # samples come from the EMA of G's weights
    share_fake: bool = True   # G step reuses the D step's fake batch
    seed: int = 0

    def build(self, device: torch.device | None = None, *,
              G_class: type[nn.Module] = models.DCGANGenerator,
              D_class: type[nn.Module] = models.DCGANDiscriminator):
        """Fresh G, D, their Adam optimisers and the EMA callback.

        ``G_class`` and ``D_class`` take the arguments of the DCGAN classes
        of ``ganlib.models``: a chapter passes the classes its cells write.
        """
        G = G_class(self.latent_dim, self.width, n_classes=self.n_classes,
                    extra_layers=self.extra_layers).to(device)
        D = D_class(self.width, n_classes=self.n_classes,
                    dropout=self.dropout, pack=self.pack,
                    extra_layers=self.extra_layers).to(device)
        opt_G = torch.optim.Adam(G.parameters(), self.lr_G, betas=self.betas)
        opt_D = torch.optim.Adam(D.parameters(), self.lr_D, betas=self.betas)
        return G, D, opt_G, opt_D, train.EMA(G, self.ema_decay)


def dcgan_recipe(mode: str | None = None) -> GANRecipe:
    """Chapter 6's unconditional DCGAN on MNIST (quick mode: a few steps;
    ``mode`` "full" or "quick" picks that mode's budget, default the
    current one).

    Width 32 instead of the paper's wider nets, for about twice as many
    steps in the same CPU time; samples from an exponential moving average
    of G over roughly the last 1 / (1 - 0.995) = 200 steps, which removes
    step-to-step jitter without lagging far behind; D judges pairs of
    images (PacGAN, ``pack=2``) against under-produced digits; both
    networks get a 3x3 convolution at 7x7, and G one at 14x14
    (``extra_layers``); the G step reuses the D step's fake batch
    (``share_fake``, the trainer's default). The trials behind these
    choices are listed in ``benchmarks/README.md``.
    """
    return GANRecipe(pack=2, extra_layers=True,
                     steps=budgets.pick(full=10000, quick=40, mode=mode),
                     ema_decay=budgets.pick(full=0.995, quick=0.9,
                                            mode=mode))


def cgan_recipe() -> GANRecipe:
    """Chapter 7's conditional DCGAN, G(z, y) and D(x, y) on MNIST."""
    return GANRecipe(n_classes=10, steps=budgets.pick(full=5000, quick=40),
                     ema_decay=budgets.pick(full=0.995, quick=0.9))


# ------------------------------------------------------------ cached weights


def _path(name: str):
    source = data.resolve_source(None)
    return data.cache_dir() / f"{name}-{source}-{budgets.mode()}.pt"


def save_generator(G: nn.Module, recipe: GANRecipe, name: str,
                   results: dict | None = None) -> None:
    """Keep G's weights (and measured results) in the cache for later use."""
    checkpoint.save(_path(name), {
        "recipe": dataclasses.asdict(recipe),
        "splits": data.SPLIT_VERSION,
        "G": {k: v.cpu() for k, v in G.state_dict().items()},
        "results": dict(results or {}),
    })


def load_generator(name: str, recipe: GANRecipe,
                   device: torch.device | None = None):
    """(G, results) saved by :func:`save_generator`, or None if absent.

    A cache entry saved with another recipe, mode, data source or data
    split (``data.SPLIT_VERSION``) is ignored, so a caller falls back to training with the recipe.
    """
    path = _path(name)
    if not path.exists():
        return None
    try:
        state = checkpoint.load(path)
    except ValueError:
        return None
    if state.get("recipe") != dataclasses.asdict(recipe) or \
            state.get("splits") != data.SPLIT_VERSION:
        return None  # another recipe, or trained on other training digits
    G = models.DCGANGenerator(recipe.latent_dim, recipe.width,
                              n_classes=recipe.n_classes,
                              extra_layers=recipe.extra_layers)
    G.load_state_dict(state["G"])
    return G.to(device).eval(), state["results"]
