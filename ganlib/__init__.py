"""ganlib: the shared PyTorch library of the executable GAN textbook.

Import the modules you need explicitly, for example
``from ganlib import data, models, losses, train``.
"""

__version__ = "0.1.0"

__all__ = [
    "budgets",
    "checks",
    "classifier",
    "data",
    "device",
    "losses",
    "models",
    "plot",
    "train",
]
