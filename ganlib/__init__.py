"""ganlib: the shared PyTorch library of the executable GAN textbook.

Import the modules you need explicitly, for example
``from ganlib import data, models, losses, train``.
"""

__version__ = "0.1.0"

__all__ = [
    "autoencoders",
    "bigan",
    "budgets",
    "checkpoint",
    "checks",
    "classifier",
    "colab",
    "data",
    "device",
    "inversion",
    "latent",
    "losses",
    "metrics",
    "models",
    "modes",
    "oned",
    "pix2pix",
    "plot",
    "recipes",
    "semisup",
    "student",
    "theory",
    "train",
    "tricks",
    "vaegan",
]
