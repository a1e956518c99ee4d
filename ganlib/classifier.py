"""The book's yardstick: a small CNN that classifies MNIST digits.

Trained by ganlib on first use and cached on disk; chapters use its
predictions (is this sample a recognisable digit?) and its penultimate
features (a Frechet distance between sets of digits).
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from ganlib import budgets, data, train
from ganlib import checkpoint as ckpt
from ganlib.device import get_device

VERSION = 2  # bump when the architecture or the recipe changes


class MNISTClassifier(nn.Module):
    """Conv-pool twice, then a 128-d feature layer and 10 logits."""

    feature_dim = 128

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, self.feature_dim), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, 10))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, 128) of images (B, 1, 28, 28) in [-1, 1]."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError("the classifier expects images of shape "
                             f"(B, 1, 28, 28), got {tuple(x.shape)}")
        if x.min() < -1.01 or x.max() > 1.01:
            raise ValueError(
                f"images must lie in [-1, 1] (got values in "
                f"[{x.min():.2f}, {x.max():.2f}]); scale them as "
                "data.load_mnist does")
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, 10) logits

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1000
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted classes and their probabilities, in eval mode."""
        probs = self.predict_proba(x, batch_size)
        conf, label = probs.max(dim=1)
        return label, conf

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, batch_size: int = 1000
                      ) -> torch.Tensor:
        """Class probabilities (B, 10), in eval mode."""
        self.eval()
        device = next(self.parameters()).device
        out = [F.softmax(self(xb.to(device)), dim=1)
               for xb in x.split(batch_size)]
        return torch.cat(out)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Features (B, 128) in eval mode, in batches."""
        self.eval()
        device = next(self.parameters()).device
        return torch.cat([self.features(xb.to(device))
                          for xb in x.split(batch_size)])


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random small rotations, scalings and shifts (same device, no copy)."""
    n = len(x)
    angle = (torch.rand(n, device=x.device) - 0.5) * math.radians(24)
    scale = 1 + (torch.rand(n, device=x.device) - 0.5) * 0.2
    shift = (torch.rand(n, 2, device=x.device) - 0.5) * 0.2
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # background is -1, so pad with -1 by shifting to [0, 2] and back
    return F.grid_sample(x + 1, grid, align_corners=False) - 1


def accuracy(model: MNISTClassifier, x: torch.Tensor, y: torch.Tensor
             ) -> float:
    """Fraction of images classified correctly."""
    label, _ = model.predict(x)
    return (label.cpu() == y.cpu()).float().mean().item()


class ClassifierStep(train.Step):
    """One AdamW step of cross-entropy on an augmented minibatch."""

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                 steps: int, batch_size: int = 128, lr: float = 2e-3
                 ) -> None:
        self.model, self.batch_size = model, batch_size
        self.opt = torch.optim.AdamW(model.parameters(), lr=lr,
                                     weight_decay=1e-4)
        # one cycle: warm up, then anneal to almost 0 by the last step
        self.sched = torch.optim.lr_scheduler.OneCycleLR(self.opt, lr,
                                                         total_steps=steps)
        self.sample = data.TensorSampler(x, y)
        self.networks, self.optimizers = {"model": model}, {"model": self.opt}
        self.schedulers = {"model": self.sched}

    def __call__(self) -> dict[str, torch.Tensor]:
        xb, yb = self.sample(self.batch_size)
        loss = F.cross_entropy(self.model(augment(xb)), yb)  # forward
        self.opt.zero_grad(set_to_none=True)
        loss.backward()                                       # backward
        self.opt.step()                                       # update
        self.sched.step()
        return {"loss": loss.detach()}


def fit(x: torch.Tensor, y: torch.Tensor, steps: int, batch_size: int = 128,
        lr: float = 2e-3, progress: bool = True, **loop) -> MNISTClassifier:
    """Train a fresh classifier on (x, y) with augmentation and a one-cycle
    LR (other keyword arguments, e.g. ``checkpoint``, go to ``train.fit``)."""
    model = MNISTClassifier().to(x.device)
    step = ClassifierStep(model, x, y, steps, batch_size, lr)
    train.fit(step, steps, progress=progress, desc="classifier", **loop)
    return model.eval()


def _key(source: str) -> dict:
    return {"version": VERSION, "source": source, "mode": budgets.mode(),
            "splits": data.SPLIT_VERSION}


def load_classifier(source: str | None = None, device=None,
                    verbose: bool = True) -> MNISTClassifier:
    """The cached MNIST classifier, trained first if the cache is unusable.

    A cache that is missing, stale (another version, data source or mode)
    or corrupt is rebuilt, never trusted. Prints the test accuracy.
    """
    source = data.resolve_source(source)
    device = torch.device(device or get_device())
    key = _key(source)
    path = data.cache_dir() / f"classifier-{source}-{budgets.mode()}.pt"
    # a private stream seeded with 0: the caller's random stream is left as
    # it was, and the classifier is the same whatever ran before it
    accel = [device] if device.type in ("cuda", "mps") else []
    with torch.random.fork_rng(devices=accel, device_type=device.type
                               if accel else None):
        _seed(device, 0)
        model = MNISTClassifier()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if state.get("key") != key:
                raise ValueError(f"stale cache {state.get('key')} != {key}")
            model.load_state_dict(state["model"])
            acc = state["test_accuracy"]
            model.to(device).eval()
            if verbose:
                print(f"Loaded the MNIST classifier ({source} data): test "
                      f"accuracy {acc:.2%}.")
            return model
        except Exception as err:  # missing, unreadable, stale or mismatched
            if verbose and path.exists():
                print(f"Rebuilding the classifier cache ({err}).")
        x, y = data.load_mnist("train", source, device)
        steps = budgets.pick(full=1000 if source == "embedded" else 3000,
                             quick=60)
        # the yardstick is trained in float32 on every machine, so that
        # it judges every precision's results alike
        model = fit(x, y, steps, progress=verbose, amp=False)
        x_test, y_test = data.load_mnist("test", source, device)
        acc = accuracy(model, x_test, y_test)
    _save_or_warn(path, {"key": key, "model": model.state_dict(),
                         "test_accuracy": acc})
    if verbose:
        print(f"Trained the MNIST classifier on {len(x)} {source} digits: "
              f"test accuracy {acc:.2%} on {len(x_test)} held-out digits.")
    return model


def _seed(device: torch.device, seed: int) -> None:
    """Seed the CPU generator and ``device``'s, and no other."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)
    elif device.type == "mps":
        torch.mps.manual_seed(seed)


def _save_or_warn(path, state: dict) -> None:
    """Write the cache; if it cannot be written, say so and carry on."""
    try:
        ckpt.save(path, state)
    except (OSError, RuntimeError) as err:  # a read-only or full cache
        warnings.warn(
            f"the trained classifier could not be saved to {path} ({err}); "
            "it is used now but will be trained again next time: set "
            "GANLIB_CACHE to a folder you can write", stacklevel=3)
