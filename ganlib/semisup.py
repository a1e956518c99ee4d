r"""Semi-supervised learning with a GAN (Salimans et al., 2016).

The discriminator is a K-class classifier whose K logits :math:`l_k(x)`
also answer "real or fake": with :math:`Z(x) = \sum_k \exp l_k(x)`,

.. math:: p(y = k \mid x, \text{real}) = \exp l_k / Z, \qquad
          D(x) = \frac{Z(x)}{Z(x) + 1},

i.e. a (K+1)-th "fake" class whose logit is fixed at 0. The generator is
trained by feature matching on an intermediate layer of D.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ganlib import data, losses, train
from ganlib.losses import feature_matching

# Chapter 10's two settings that are choices, not givens, chosen on the 500
# validation digits (never on the test digits) by
# benchmarks/semisup_validation.py, whose saved choice and report are
# benchmarks/semisup-validation.json and .md (tests/test_semisup.py checks
# that these values are that file's): the input noise of the classifier
# and the largest random shift of the real digits, with the validation
# error of the chosen setting and of the next best one.
CHOSEN_ON_VALIDATION = {"input_noise": 0.3, "max_shift": 2,
                        "val_error": 0.044, "runner_up_val_error": 0.050,
                        "validation_digits": 500}

# ------------------------------------------------------------------- data


def select_labelled(y: torch.Tensor, per_class: int, seed: int = 0
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of ``per_class`` labelled examples per class, and the rest.

    Returns ``(labelled, unlabelled)``, two sorted index tensors that
    partition ``range(len(y))``; the draw depends only on ``seed``.
    """
    if y.ndim != 1 or y.dtype != torch.long:
        raise ValueError(f"labels must be a 1-D integer tensor, got shape "
                         f"{tuple(y.shape)} and dtype {y.dtype}")
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    labels = y.cpu().numpy()
    rng = np.random.RandomState(seed)
    chosen = []
    for k in np.unique(labels):
        idx = np.flatnonzero(labels == k)
        if len(idx) < per_class:
            raise ValueError(f"class {k} has only {len(idx)} examples, "
                             f"fewer than per_class={per_class}")
        chosen.append(rng.choice(idx, per_class, replace=False))
    mask = np.zeros(len(labels), dtype=bool)
    mask[np.concatenate(chosen)] = True
    lab = torch.from_numpy(np.flatnonzero(mask)).to(y.device)
    unl = torch.from_numpy(np.flatnonzero(~mask)).to(y.device)
    return lab, unl


# ----------------------------------------------------------------- losses


@losses.in_float32
def d_loss_semisup(logits_lab: torch.Tensor, y_lab: torch.Tensor,
                   logits_unl: torch.Tensor, logits_fake: torch.Tensor,
                   w_unl: float = 1.0) -> torch.Tensor:
    r"""The (K+1)-class discriminator loss on K logits.

    .. math:: L_D = \underbrace{-\mathbb{E}_{x,y}\big[l_y(x) - \log Z(x)
              \big]}_{\text{supervised}}
              + w\,\underbrace{\tfrac12\big(-\mathbb{E}_x \log D(x)
              - \mathbb{E}_z \log(1 - D(G(z)))\big)}_{\text{unsupervised}}

    with :math:`\log D = \log Z - \mathrm{softplus}(\log Z)` and
    :math:`\log(1 - D) = -\mathrm{softplus}(\log Z)`.
    """
    for name, a in (("logits_lab", logits_lab), ("logits_unl", logits_unl),
                    ("logits_fake", logits_fake)):
        if a.ndim != 2:
            raise ValueError(f"{name} must be (B, K) class logits, got "
                             f"shape {tuple(a.shape)}")
    supervised = F.cross_entropy(logits_lab, y_lab)
    lse_unl = torch.logsumexp(logits_unl, dim=1)  # log Z(x_real)
    lse_fake = torch.logsumexp(logits_fake, dim=1)  # log Z(G(z))
    unsupervised = 0.5 * (-lse_unl.mean() + F.softplus(lse_unl).mean()
                          + F.softplus(lse_fake).mean())
    return supervised + w_unl * unsupervised


def d_prob_real(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`D(x) = Z / (Z + 1) = \sigma(\log Z)` from (B, K) logits."""
    return torch.sigmoid(torch.logsumexp(logits, dim=1))


# ----------------------------------------------------------------- models


class GaussianNoise(nn.Module):
    """Adds N(0, sigma^2) noise in training mode; the identity in eval."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.sigma > 0:
            return x + self.sigma * torch.randn_like(x)
        return x


class Classifier(nn.Module):
    """The K-logit discriminator / classifier: an MLP with weight norm and
    Gaussian noise layers, after the MNIST model of Salimans et al.

    ``features(x)`` is the last hidden layer, used for feature matching.
    """

    def __init__(self, in_dim: int = 784,
                 hidden: tuple[int, ...] = (1000, 500, 250, 250, 250),
                 n_classes: int = 10, input_noise: float = 0.3,
                 hidden_noise: float = 0.5) -> None:
        super().__init__()
        self.in_dim, self.n_classes = in_dim, n_classes
        layers: list[nn.Module] = [nn.Flatten(), GaussianNoise(input_noise)]
        n_in = in_dim
        for i, n_out in enumerate(hidden):
            layers += [weight_norm(nn.Linear(n_in, n_out)), nn.ReLU()]
            if i < len(hidden) - 1:
                layers.append(GaussianNoise(hidden_noise))
            n_in = n_out
        self.body = nn.Sequential(*layers)
        self.noise_out = GaussianNoise(hidden_noise)
        self.head = weight_norm(nn.Linear(n_in, n_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Last hidden layer (B, d) of images (B, 1, 28, 28) or (B, 784)."""
        if x[0].numel() != self.in_dim:
            raise ValueError(f"Classifier expects inputs of {self.in_dim} "
                             f"values each, got shape {tuple(x.shape)}")
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.noise_out(self.features(x)))  # (B, K) logits


@torch.no_grad()
def init_from_data(D: Classifier, x: torch.Tensor) -> None:
    """Data-dependent init of weight norm (Salimans & Kingma, 2016): scale
    and shift every layer so that its outputs on the batch x have mean 0
    and standard deviation 1."""
    was_training = D.training
    D.eval()  # no noise while measuring
    h = x
    for layer in [*D.body, D.head]:
        out = layer(h)
        if hasattr(layer, "parametrizations"):
            mean, std = out.mean(0), out.std(0) + 1e-6
            layer.parametrizations.weight.original0.div_(std[:, None])
            layer.bias.sub_(mean).div_(std)
            out = layer(h)
        h = out
    D.train(was_training)


class Generator(nn.Module):
    """G: z -> x, an MLP with batch norm and softplus, tanh output."""

    def __init__(self, latent_dim: int = 100, hidden: tuple[int, ...] =
                 (500, 500), out_shape: tuple[int, ...] = (1, 28, 28)
                 ) -> None:
        super().__init__()
        self.latent_dim, self.out_shape = latent_dim, out_shape
        layers: list[nn.Module] = []
        n_in = latent_dim
        for n_out in hidden:
            layers += [nn.Linear(n_in, n_out, bias=False),
                       nn.BatchNorm1d(n_out), nn.Softplus()]
            n_in = n_out
        n_pix = int(np.prod(out_shape))
        layers += [weight_norm(nn.Linear(n_in, n_pix)), nn.Tanh(),
                   nn.Unflatten(1, out_shape)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Generator expects z of shape (B, "
                             f"{self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z)  # (B, 1, 28, 28) in [-1, 1]


# ----------------------------------------------------------------- training


def update_D(G: nn.Module, D: Classifier, opt_D: torch.optim.Optimizer,
             x_lab: torch.Tensor, y_lab: torch.Tensor, x_unl: torch.Tensor,
             z: torch.Tensor, w_unl: float = 1.0) -> torch.Tensor:
    """(1) Update D: classify the labelled batch, tell x_unl from G(z)."""
    with torch.no_grad():  # the D step needs no gradient through G
        x_fake = G(z)
    # one forward pass for all three batches (same noise statistics)
    logits = D(torch.cat([x_lab, x_unl, x_fake]))
    l_lab, l_unl, l_fake = logits.split([len(x_lab), len(x_unl),
                                         len(x_fake)])
    loss = d_loss_semisup(l_lab, y_lab, l_unl, l_fake, w_unl)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.detach()


def update_G(G: nn.Module, D: Classifier, opt_G: torch.optim.Optimizer,
             x_unl: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(2) Update G: match the mean features of real and generated data."""
    with train.frozen(D):  # gradients flow through D to G, not into D
        with torch.no_grad():  # the real features are a fixed target
            f_real = D.features(x_unl)
        loss = feature_matching(f_real, D.features(G(z)))
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
    return loss.detach()


@torch.no_grad()
def error_rate(D: nn.Module, x: torch.Tensor, y: torch.Tensor,
               batch_size: int = 1000) -> float:
    """Share of x misclassified by argmax of the logits, in eval mode."""
    was_training = D.training
    D.eval()
    pred = torch.cat([D(xb).argmax(1) for xb in x.split(batch_size)])
    D.train(was_training)
    return (pred != y.to(pred.device)).float().mean().item()


def _linear_decay(opt: torch.optim.Optimizer, steps: int, start: float
                  ) -> torch.optim.lr_scheduler.LambdaLR:
    """Constant lr for the first ``start`` share of steps, then down to 0."""
    def factor(step: int) -> float:
        t0 = start * steps
        return 1.0 if step < t0 else max(0.0, (steps - step) / (steps - t0))
    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def _adam(net: nn.Module, lr: float) -> torch.optim.Adam:
    return torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))


class SemiSupStep(train.Step):
    """One K+1-class step of D, then one feature-matching step of G.

    Both learning rates decay linearly to 0 over the last
    ``1 - decay_start`` share of ``steps``, the length of the whole run.
    ``max_shift > 0`` shifts every real image, labelled and unlabelled, by
    a random offset of up to that many pixels each time it is drawn
    (:func:`ganlib.data.random_shift`); generated images are left alone.
    ``update_D`` and ``update_G`` may be replaced by functions of the same
    signature (a chapter passes the ones its cells define).
    """

    def __init__(self, G: nn.Module, D: Classifier, x_lab: torch.Tensor,
                 y_lab: torch.Tensor, x_unl: torch.Tensor, *, steps: int,
                 batch_size: int = 100, lr: float = 3e-3,
                 decay_start: float = 0.5, w_unl: float = 1.0,
                 max_shift: int = 0, update_D: Callable = update_D,
                 update_G: Callable = update_G) -> None:
        if batch_size < 1:
            raise ValueError(f"need batch_size >= 1, got {batch_size}")
        self.G, self.D = G.to(x_lab.device), D.to(x_lab.device)
        self.update_D, self.update_G = update_D, update_G
        self.sample_lab = data.TensorSampler(x_lab, y_lab)
        self.sample_unl = data.TensorSampler(x_unl)
        self.batch_size = batch_size
        self.n_lab = min(batch_size, len(x_lab))
        self.steps, self.decay_start = steps, decay_start
        self.w_unl, self.max_shift = w_unl, max_shift
        self.opt_D, self.opt_G = _adam(D, lr), _adam(G, lr)
        self.networks = {"G": G, "D": D}
        self.optimizers = {"G": self.opt_G, "D": self.opt_D}
        self.schedulers = {name: _linear_decay(opt, steps, decay_start)
                           for name, opt in self.optimizers.items()}

    def _shift(self, x: torch.Tensor) -> torch.Tensor:
        return data.random_shift(x, self.max_shift)

    def _z(self) -> torch.Tensor:
        return torch.rand(self.batch_size, self.G.latent_dim,
                          device=self.device)

    def __call__(self) -> dict[str, torch.Tensor]:
        # the draws keep their order (labelled, unlabelled, z, then the
        # shifts) so that a seed gives the same run as ever
        x_lab, y_lab = self.sample_lab(self.n_lab)
        x_unl, z = self.sample_unl(self.batch_size), self._z()
        x_lab = self._shift(x_lab)
        loss_D = self.update_D(self.G, self.D, self.opt_D, x_lab, y_lab,
                               self._shift(x_unl), z, self.w_unl)
        # the G step gets its own unlabelled batch and noise
        x_unl, z = self.sample_unl(self.batch_size), self._z()
        loss_G = self.update_G(self.G, self.D, self.opt_G,
                               self._shift(x_unl), z)
        for sched in self.schedulers.values():
            sched.step()
        return {"loss_D": loss_D, "loss_G": loss_G}

    def settings(self) -> dict:
        return {**super().settings(), "steps": self.steps,
                "decay_start": self.decay_start, "w_unl": self.w_unl,
                "max_shift": self.max_shift}


def fit_gan(G: nn.Module, D: Classifier, x_lab: torch.Tensor,
            y_lab: torch.Tensor, x_unl: torch.Tensor, *, steps: int,
            batch_size: int = 100, lr: float = 3e-3, decay_start: float = 0.5,
            w_unl: float = 1.0, max_shift: int = 0,
            x_test: torch.Tensor | None = None,
            y_test: torch.Tensor | None = None,
            x_val: torch.Tensor | None = None,
            y_val: torch.Tensor | None = None, eval_every: int = 0,
            update_D: Callable = update_D, update_G: Callable = update_G,
            progress: bool = True, **loop) -> train.History:
    """Train D (K+1 classes) and G (feature matching) for ``steps`` steps.

    Returns the history of loss_D and loss_G and, given ``eval_every > 0``,
    of the error on x_val (``hist["val_error"]``) and on x_test
    (``hist["test_error"]``) every ``eval_every`` steps and at the last
    (``hist.steps_of("val_error")``). Watch the validation error while
    choosing settings; the test error is for the figure reported once.
    ``max_shift``, ``update_D`` and ``update_G`` as in
    :class:`SemiSupStep`; other keyword arguments (``checkpoint``,
    ``callbacks``, ...) go to ``train.fit``.
    """
    step = SemiSupStep(G, D, x_lab, y_lab, x_unl, steps=steps,
                       batch_size=batch_size, lr=lr, decay_start=decay_start,
                       w_unl=w_unl, max_shift=max_shift, update_D=update_D,
                       update_G=update_G)
    callbacks = list(loop.pop("callbacks", ()))
    for name, x_eval, y_eval in (("val_error", x_val, y_val),
                                 ("test_error", x_test, y_test)):
        if x_eval is not None and eval_every > 0:
            callbacks.append(train.Evaluate(
                lambda s, x=x_eval, y=y_eval: error_rate(s.D, x, y),
                eval_every, name))
    return train.fit(step, steps, callbacks=callbacks, progress=progress,
                     desc="semi-supervised GAN", **loop)


class SupervisedStep(train.Step):
    """One Adam step of cross-entropy on a (shifted) labelled batch."""

    def __init__(self, D: nn.Module, x_lab: torch.Tensor, y_lab: torch.Tensor,
                 *, steps: int, batch_size: int = 100, lr: float = 3e-3,
                 decay_start: float = 0.5, max_shift: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"need batch_size >= 1, got {batch_size}")
        self.D = D.to(x_lab.device)
        self.sample = data.TensorSampler(x_lab, y_lab)
        self.batch_size, self.n_lab = batch_size, min(batch_size, len(x_lab))
        self.steps, self.decay_start = steps, decay_start
        self.max_shift = max_shift
        self.opt = _adam(D, lr)
        self.networks, self.optimizers = {"D": D}, {"D": self.opt}
        self.schedulers = {"D": _linear_decay(self.opt, steps, decay_start)}

    def __call__(self) -> dict[str, torch.Tensor]:
        x, y = self.sample(self.n_lab)
        x = data.random_shift(x, self.max_shift)
        loss = F.cross_entropy(self.D(x), y)  # forward
        self.opt.zero_grad(set_to_none=True)
        loss.backward()                       # backward
        self.opt.step()                       # update
        self.schedulers["D"].step()
        return {"loss": loss.detach()}

    def settings(self) -> dict:
        return {**super().settings(), "steps": self.steps,
                "decay_start": self.decay_start, "max_shift": self.max_shift}


def fit_supervised(D: nn.Module, x_lab: torch.Tensor, y_lab: torch.Tensor,
                   *, steps: int, batch_size: int = 100, lr: float = 3e-3,
                   decay_start: float = 0.5, max_shift: int = 0,
                   progress: bool = True, **loop) -> list[float]:
    """The baseline: the same network trained on the labelled set alone
    (``max_shift`` as in :func:`fit_gan`); returns the loss per step.
    Other keyword arguments (``checkpoint``, ...) go to ``train.fit``."""
    step = SupervisedStep(D, x_lab, y_lab, steps=steps,
                          batch_size=batch_size, lr=lr,
                          decay_start=decay_start, max_shift=max_shift)
    history = train.fit(step, steps, progress=progress, desc="labels only",
                        **loop)
    return history["loss"] if steps else []
