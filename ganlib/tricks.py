r"""GAN training tricks, and toy models that train several seeds at once.

Toy models (for the 2-D mode-collapse benchmarks) hold ``n_models``
independent networks in stacked weight tensors and run them with batched
matrix products: a tensor (S, B, d) holds a batch of B points for each of
S models, so one training run trains S seeds (or S networks of one method)
for the price of one. A toy discriminator returns its logits flattened to
(S * B,), model-major, so that the losses of :mod:`ganlib.losses` and the
steps of :mod:`ganlib.train` work unchanged.

Tricks, each a loss, a layer, a module wrapper, a step function for
:func:`ganlib.train.train` (same signature as ``update_D`` / ``update_G``)
or a callback:

* one-sided label smoothing :func:`d_loss_one_sided` (Salimans 2016)
* feature matching :class:`FeatureMatchingStep` (Salimans 2016)
* minibatch discrimination :class:`MinibatchDiscrimination` (Salimans 2016)
* unrolled GAN :class:`UnrolledStep` (Metz 2016)
* generative adversarial parallelisation :class:`SwapDiscriminators`
  (Im 2016)
* instance noise :class:`InstanceNoise`, :class:`AnnealNoise`
  (Sonderby 2017)
* WGAN-GP :func:`gradient_penalty`, :class:`WGANGPStep` (Gulrajani 2017)
* spectral normalisation :func:`batched_spectral_norm` (Miyato 2018;
  ``torch.nn.utils.parametrizations.spectral_norm`` for ordinary layers)
* PacGAN: ``ToyDiscriminator(pack=m)`` (Lin 2018)

and one that acts after training: discriminator rejection sampling
:func:`rejection_sample`, :func:`toy_rejection_samples` (Azadi 2019).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parametrize

from ganlib import losses
from ganlib.data import GaussianMixture
from ganlib.train import Callback

# ------------------------------------------------------- batched toy models


class BatchedLinear(nn.Module):
    """S independent linear layers: (S, B, n_in) -> (S, B, n_out)."""

    def __init__(self, n_models: int, n_in: int, n_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)  # nn.Linear's default initialisation
        self.weight = nn.Parameter(
            torch.empty(n_models, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(
            torch.empty(n_models, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)  # (S, B, n_out)


def batched_mlp(n_models: int, sizes: Sequence[int],
                act: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """S independent MLPs with the given layer sizes, run as one."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(BatchedLinear(n_models, n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _check_batched(x: torch.Tensor, n_models: int, dim: int, who: str):
    if x.ndim != 3 or x.shape[0] != n_models or x.shape[2] != dim:
        raise ValueError(f"{who} expects input of shape ({n_models}, B, "
                         f"{dim}) (models, batch, features), got "
                         f"{tuple(x.shape)}")


class ToyGenerator(nn.Module):
    """S MLP generators z -> x at once: (S, B, latent_dim) -> (S, B, 2)."""

    def __init__(self, n_models: int = 1, latent_dim: int = 16,
                 hidden: Sequence[int] = (128, 128), out_dim: int = 2):
        super().__init__()
        self.n_models, self.latent_dim = n_models, latent_dim
        self.net = batched_mlp(n_models, [latent_dim, *hidden, out_dim])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_batched(z, self.n_models, self.latent_dim, "ToyGenerator")
        return self.net(z)


class MinibatchDiscrimination(nn.Module):
    r"""Minibatch discrimination layer of Salimans et al. (2016).

    Each sample's features f_i (A numbers) are projected by a tensor T to
    ``n_kernels`` rows :math:`M_{i,b}` of ``kernel_dim`` numbers; the layer
    appends, for every kernel b, how close the sample is to the others:

    .. math:: o(x_i)_b = \sum_{j \ne i} \exp(-\lVert M_{i,b} - M_{j,b}
       \rVert_{L_1})

    A collapsed batch (all samples alike) gives large o, which D can spot.
    Works on (S, B, A) for S models at once: (S, B, A + n_kernels).
    """

    def __init__(self, n_models: int, in_features: int, n_kernels: int = 16,
                 kernel_dim: int = 8) -> None:
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Parameter(
            0.1 * torch.randn(n_models, in_features, n_kernels * kernel_dim))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        S, B, _ = f.shape
        K, C = self.n_kernels, self.kernel_dim
        M = torch.bmm(f, self.T).view(S, B, K, C)
        # one (B, C) set of rows per model and kernel: (S K, B, C)
        M = M.transpose(1, 2).reshape(S * K, B, C)
        # L1 distance between every pair of samples, per kernel; cdist
        # never builds the (S, B, B, K, C) tensor of differences
        dist = torch.cdist(M, M, p=1)  # (S K, B, B)
        o = torch.exp(-dist).sum(-1) - 1.0  # drop the own term exp(0) = 1
        o = o.view(S, K, B).transpose(1, 2)  # (S, B, K)
        return torch.cat([f, o], dim=-1)  # (S, B, A + K)


class ToyDiscriminator(nn.Module):
    """S MLP discriminators at once: (S, B, 2) -> logits (S * B / pack,).

    Options: ``pack`` = m concatenates m samples into one input (PacGAN),
    ``minibatch_kernels`` > 0 adds a minibatch-discrimination layer of that
    many kernels of ``minibatch_dim`` numbers before the output,
    ``spectral_norm`` normalises every weight matrix.
    """

    def __init__(self, n_models: int = 1, in_dim: int = 2,
                 hidden: Sequence[int] = (128, 128), pack: int = 1,
                 minibatch_kernels: int = 0, minibatch_dim: int = 4,
                 spectral_norm: bool = False):
        super().__init__()
        if pack < 1 or minibatch_kernels < 0:
            raise ValueError(f"need pack >= 1 and minibatch_kernels >= 0, "
                             f"got {pack} and {minibatch_kernels}")
        self.n_models, self.in_dim, self.pack = n_models, in_dim, pack
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731 - a layer factory
        self.body = batched_mlp(n_models, [in_dim * pack, *hidden], act)
        self.body.append(act())
        width = hidden[-1]
        self.minibatch = None
        if minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(
                n_models, width, minibatch_kernels, minibatch_dim)
            width += minibatch_kernels
        self.head = BatchedLinear(n_models, width, 1)
        if spectral_norm:
            for m in self.modules():
                if isinstance(m, BatchedLinear):
                    batched_spectral_norm(m)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Last hidden layer (S, B / pack, width), for feature matching."""
        _check_batched(x, self.n_models, self.in_dim, "ToyDiscriminator")
        S, B, d = x.shape
        if B % self.pack:
            raise ValueError(f"PacGAN with pack={self.pack} needs a batch "
                             f"size divisible by {self.pack}, got {B}")
        # PacGAN: m consecutive samples form one input of m * d numbers
        x = x.reshape(S, B // self.pack, self.pack * d)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        if self.minibatch is not None:
            f = self.minibatch(f)
        return self.head(f).reshape(-1)  # (S * B / pack,) logits


class BatchedSampler:
    """Draws (S, B, d) batches of a mixture: B points for each of S models.

    ``target`` is one mixture for all S models, or a sequence of mixtures of
    one dimension that share the models in consecutive blocks of
    S / len(target) (so one run can train on several benchmarks at once).
    """

    def __init__(self, target: GaussianMixture | Sequence[GaussianMixture],
                 n_models: int) -> None:
        self.targets = _as_targets(target)
        if n_models % len(self.targets):
            raise ValueError(f"{n_models} models cannot be shared equally "
                             f"by {len(self.targets)} targets")
        self.n_models = n_models
        self.per_target = n_models // len(self.targets)

    def __call__(self, n: int) -> torch.Tensor:
        return torch.cat([t(self.per_target * n).view(self.per_target, n, -1)
                          for t in self.targets])


def _as_targets(target) -> list[GaussianMixture]:
    targets = [target] if isinstance(target, GaussianMixture) else list(
        target)
    if not targets or any(not isinstance(t, GaussianMixture)
                          for t in targets):
        raise TypeError("target must be a GaussianMixture or a non-empty "
                        "sequence of them (data.ring8(), data.grid25())")
    if len({t.dim for t in targets}) > 1:
        raise ValueError(f"targets of different dimensions "
                         f"{[t.dim for t in targets]} cannot share a run")
    return targets


# ------------------------------------------------ spectral normalisation


class _BatchedSpectralNorm(nn.Module):
    """W / sigma(W) for each of S stacked matrices, by power iteration."""

    def __init__(self, weight: torch.Tensor, n_power_iterations: int = 1,
                 eps: float = 1e-12) -> None:
        super().__init__()
        S, n_in, n_out = weight.shape
        self.n_power_iterations, self.eps = n_power_iterations, eps
        u = F.normalize(torch.randn(S, n_out, 1), dim=1, eps=eps)
        self.register_buffer("_u", u)  # right singular vector estimates
        with torch.no_grad():  # start from a converged estimate
            for _ in range(15):
                self._power_iteration(weight)

    @torch.no_grad()
    def _power_iteration(self, W: torch.Tensor) -> None:
        for _ in range(self.n_power_iterations):
            v = F.normalize(torch.bmm(W, self._u), dim=1, eps=self.eps)
            self._u.copy_(F.normalize(torch.bmm(W.transpose(1, 2), v),
                                      dim=1, eps=self.eps))

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        if self.training:
            self._power_iteration(W.detach())
        # a copy, so a later power iteration cannot change what autograd
        # saved for this forward pass (D runs twice per step)
        u = self._u.clone()
        v = F.normalize(torch.bmm(W, u), dim=1, eps=self.eps).detach()
        # sigma = v^T W u, the largest singular value of each matrix
        sigma = torch.bmm(v.transpose(1, 2), torch.bmm(W, u))
        return W / sigma  # (S, n_in, n_out) / (S, 1, 1)


def batched_spectral_norm(layer: BatchedLinear,
                          n_power_iterations: int = 1) -> BatchedLinear:
    """Spectral normalisation (Miyato et al., 2018) of a BatchedLinear.

    The batched twin of ``torch.nn.utils.parametrizations.spectral_norm``:
    every stacked weight matrix is divided by its largest singular value,
    estimated by one power iteration per training-mode forward pass.
    """
    parametrize.register_parametrization(
        layer, "weight", _BatchedSpectralNorm(layer.weight.detach(),
                                              n_power_iterations))
    return layer


# -------------------------------------------------------------- losses


def d_loss_one_sided(real_out: torch.Tensor, fake_out: torch.Tensor,
                     smooth: float = 0.1) -> torch.Tensor:
    r"""Discriminator loss with one-sided label smoothing (Salimans 2016).

    Real targets become :math:`1 - \alpha`, fake targets stay 0:

    .. math:: L_D = -\mathbb{E}_x[(1 - \alpha)\log D(x)
       + \alpha \log(1 - D(x))] - \mathbb{E}_z[\log(1 - D(G(z)))]
    """
    if not 0.0 <= smooth < 1.0:
        raise ValueError(f"smooth must lie in [0, 1), got {smooth}")
    real = (1 - smooth) * F.softplus(-real_out) + smooth * F.softplus(real_out)
    return real.mean() + F.softplus(fake_out).mean()


def d_loss_wgan(real_out: torch.Tensor, fake_out: torch.Tensor
                ) -> torch.Tensor:
    r"""Wasserstein critic loss: :math:`L_D = \mathbb{E}[D(G(z))] -
    \mathbb{E}[D(x)]` (the penalty is added by the step)."""
    return fake_out.mean() - real_out.mean()


def g_loss_wgan(fake_out: torch.Tensor) -> torch.Tensor:
    r"""Wasserstein generator loss: :math:`L_G = -\mathbb{E}[D(G(z))]`."""
    return -fake_out.mean()


def gradient_penalty(D: nn.Module, x_real: torch.Tensor,
                     x_fake: torch.Tensor, event_dims: int = 1
                     ) -> torch.Tensor:
    r"""WGAN-GP penalty (Gulrajani et al., 2017).

    .. math:: \mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D(\hat x)
       \rVert_2 - 1)^2\big], \quad \hat x = \epsilon x + (1 - \epsilon)
       \tilde x, \ \epsilon \sim U[0, 1]

    The last ``event_dims`` dimensions of x form one sample (1 for points
    (S, B, d) or (B, d); 3 for images (B, C, H, W)). D must treat samples
    independently (no batch norm, no minibatch layer).
    """
    if x_real.shape != x_fake.shape:
        raise ValueError(f"x_real {tuple(x_real.shape)} and x_fake "
                         f"{tuple(x_fake.shape)} must have the same shape")
    lead = x_real.shape[:x_real.ndim - event_dims]
    eps = torch.rand(*lead, *([1] * event_dims), device=x_real.device)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    # each output depends on its own sample only, so the gradient of the
    # sum holds every per-sample gradient
    grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.flatten(start_dim=grad.ndim - event_dims).norm(dim=-1)
    return ((norm - 1) ** 2).mean()


# ----------------------------------------------------------- step functions


class WGANGPStep:
    """A critic step for ``train(step_D=...)``: critic loss + lambda * GP."""

    def __init__(self, lam: float = 10.0, event_dims: int = 1) -> None:
        self.lam, self.event_dims = lam, event_dims

    def __call__(self, G, D, opt_D, loss_D, x_real, z, cond=()):
        with torch.no_grad():  # the critic step needs no gradient through G
            x_fake = G(z, *cond)
        real_out, fake_out = D(x_real), D(x_fake)
        loss = loss_D(real_out, fake_out) + self.lam * gradient_penalty(
            D, x_real, x_fake, self.event_dims)
        opt_D.zero_grad(set_to_none=True)
        loss.backward()
        opt_D.step()
        return (loss.detach(), torch.sigmoid(real_out).mean().detach(),
                torch.sigmoid(fake_out).mean().detach())


class FeatureMatchingStep:
    r"""A generator step that matches D's features (Salimans et al., 2016).

    .. math:: L_G = \lVert \mathbb{E}_x f(x) - \mathbb{E}_z f(G(z))
       \rVert_2^2

    with f the discriminator's last hidden layer (``D.features``); for S
    toy models at once, the S squared distances are averaged. ``loss_G``
    of the trainer is ignored.
    """

    def __init__(self, sample_real: Callable[[int], torch.Tensor]) -> None:
        self.sample_real = sample_real

    def __call__(self, G, D, opt_G, loss_G, z, cond=()):
        with torch.no_grad():  # real features are a fixed target
            f_real = D.features(self.sample_real(z.shape[-2])).mean(-2)
        D.requires_grad_(False)  # gradients flow through D to G only
        f_fake = D.features(G(z)).mean(-2)  # (S, h) or (h,)
        loss = (f_real - f_fake).pow(2).sum(-1).mean()
        opt_G.zero_grad(set_to_none=True)
        loss.backward()
        opt_G.step()
        D.requires_grad_(True)
        return loss.detach()


def unrolled_params(D: nn.Module, loss_D: Callable, x_real: torch.Tensor,
                    x_fake: torch.Tensor, k: int, lr: float
                    ) -> dict[str, torch.Tensor]:
    r"""D's parameters after k SGD steps on loss_D, kept differentiable.

    .. math:: \theta_D^{i+1} = \theta_D^i - \eta \nabla_{\theta_D}
       L_D(\theta_D^i, \theta_G)

    ``create_graph=True`` keeps each step in the autograd graph, so a loss
    evaluated at :math:`\theta_D^k` can be differentiated with respect to
    the generator that made ``x_fake``.
    """
    params = dict(D.named_parameters())
    for _ in range(k):
        loss = loss_D(functional_call(D, params, (x_real,)),
                      functional_call(D, params, (x_fake,)))
        grads = torch.autograd.grad(loss, list(params.values()),
                                    create_graph=True)
        params = {name: p - lr * g
                  for (name, p), g in zip(params.items(), grads)}
    return params


class UnrolledStep:
    r"""Generator step of the unrolled GAN (Metz et al., 2016).

    G descends the surrogate :math:`f_K(\theta_G, \theta_D) =
    L_G(\theta_G, \theta_D^K(\theta_G, \theta_D))`: the generator loss
    against the discriminator as it will be after k more steps, with the
    gradient taken through those steps. D itself is updated as usual.
    """

    def __init__(self, sample_real: Callable[[int], torch.Tensor],
                 k: int = 5, lr: float = 0.01,
                 loss_D: Callable = losses.d_loss) -> None:
        if k < 0:
            raise ValueError(f"need k >= 0 unrolled steps, got {k}")
        self.sample_real, self.k, self.lr = sample_real, k, lr
        self.loss_D = loss_D

    def __call__(self, G, D, opt_G, loss_G, z, cond=()):
        x_real = self.sample_real(z.shape[-2])
        x_fake = G(z, *cond)  # no detach: D^K depends on G through x_fake
        params = unrolled_params(D, self.loss_D, x_real, x_fake, self.k,
                                 self.lr)
        loss = loss_G(functional_call(D, params, (x_fake,)))
        # gradients for G only; D is updated by its own step
        grads = torch.autograd.grad(loss, list(G.parameters()))
        opt_G.zero_grad(set_to_none=True)
        for p, g in zip(G.parameters(), grads):
            p.grad = g
        opt_G.step()
        return loss.detach()


# ------------------------------------------------------------ callbacks


class LRDecay(Callback):
    """Lowers the learning rate of optimizers linearly to ``final`` times
    its start over ``steps`` steps; late small steps sharpen the modes."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer],
                 steps: int, final: float = 0.0) -> None:
        self.optimizers, self.steps, self.final = optimizers, steps, final
        self.every = 1
        self.lr0 = [[g["lr"] for g in opt.param_groups]
                    for opt in optimizers]

    def __call__(self, step, G, D, history) -> None:
        frac = min(1.0, step / max(1, self.steps))
        scale = 1.0 - (1.0 - self.final) * frac
        for opt, lr0 in zip(self.optimizers, self.lr0):
            for group, lr in zip(opt.param_groups, lr0):
                group["lr"] = lr * scale


# -------------------------------------------------- instance noise, GAP


class InstanceNoise(nn.Module):
    """Wraps D so that every input gets Gaussian noise of std ``sigma``.

    Noise on real and fake inputs alike blurs both distributions so that
    they overlap and D's gradient is informative (Sonderby et al., 2017);
    anneal ``sigma`` towards 0 with :class:`AnnealNoise`.
    """

    def __init__(self, D: nn.Module, sigma: float = 0.1) -> None:
        super().__init__()
        self.D, self.sigma = D, sigma

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.D.features(x + self.sigma * torch.randn_like(x))

    def forward(self, x: torch.Tensor, *cond) -> torch.Tensor:
        return self.D(x + self.sigma * torch.randn_like(x), *cond)


class AnnealNoise(Callback):
    """Lowers ``D.sigma`` linearly from sigma0 to 0 over ``steps`` steps."""

    def __init__(self, sigma0: float, steps: int, every: int = 1) -> None:
        self.sigma0, self.steps, self.every = sigma0, max(1, steps), every

    def __call__(self, step, G, D, history) -> None:
        D.sigma = self.sigma0 * max(0.0, 1.0 - step / self.steps)


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
    def __call__(self, step, G, D, history) -> None:
        perm = self.permutation()
        for p in D.parameters():
            p.copy_(p[perm.to(p.device)])
            for value in self.opt_D.state.get(p, {}).values():
                if torch.is_tensor(value) and value.ndim == p.ndim:
                    value.copy_(value[perm.to(value.device)])


# ------------------------------------------ the benchmark, method by method

METHODS = ("vanilla", "non-saturating", "label smoothing", "instance noise",
           "feature matching", "minibatch discrimination", "unrolled",
           "GAP", "WGAN-GP", "spectral norm", "PacGAN")


def build_toy(method: str,
              target: GaussianMixture | Sequence[GaussianMixture],
              n_seeds: int,
              steps: int, latent_dim: int = 16, hidden: Sequence[int] = (64,
              64), lr: float = 2e-3, n_pairs: int = 4, pack: int = 4,
              unroll: int = 5, device=None) -> dict:
    """Models, optimizers and ``train`` arguments of one method.

    Every method but the vanilla GAN starts from the non-saturating loss
    and changes one thing. ``n_seeds`` independent runs train at once;
    GAP trains ``n_pairs`` pairs per seed. ``target`` may be a sequence of
    benchmarks: then ``n_seeds`` runs of each train at once, benchmark by
    benchmark (``toy_samples`` returns the first benchmark's seeds first),
    for about the price of one when the models are tiny. Returns a dict
    with ``G``, ``D``, ``n_per_seed`` (models per seed) and ``kwargs`` for
    :func:`ganlib.train.train`.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of "
                         f"{METHODS}")
    targets = _as_targets(target)
    dim = targets[0].dim
    device = device or targets[0].device
    n_per_seed = n_pairs if method == "GAP" else 1
    n_groups = len(targets) * n_seeds  # independent runs
    M = n_groups * n_per_seed
    sample_real = BatchedSampler(targets, M)
    G = ToyGenerator(M, latent_dim, hidden, dim).to(device)
    D = ToyDiscriminator(
        M, dim, hidden, pack=pack if method == "PacGAN" else 1,
        # 8 kernels of 4 numbers: the layer's cost grows with B^2 K C, and
        # points in the plane need no more
        minibatch_kernels=8 if method == "minibatch discrimination" else 0,
        spectral_norm=method == "spectral norm").to(device)
    # share_fake=False: every method draws fresh noise for its G step, as
    # Algorithm 1 does; the custom steps of feature matching, unrolling and
    # WGAN-GP always do, so the table compares all methods on one protocol
    kwargs: dict = dict(loss_D=losses.d_loss,
                        loss_G=losses.g_loss_nonsaturating, k=1,
                        share_fake=False)
    betas, callbacks = (0.5, 0.999), []
    if method == "vanilla":
        kwargs["loss_G"] = losses.g_loss_minimax
    elif method == "label smoothing":
        kwargs["loss_D"] = d_loss_one_sided
    elif method == "instance noise":
        # std 0.2 (4 grid std) annealed to 0 over the whole run
        D = InstanceNoise(D, sigma=0.2)
        callbacks.append(AnnealNoise(0.2, steps))
    elif method == "feature matching":
        kwargs["step_G"] = FeatureMatchingStep(sample_real)
    elif method == "unrolled":
        kwargs["step_G"] = UnrolledStep(sample_real, k=unroll, lr=0.05)
    elif method == "WGAN-GP":
        kwargs.update(loss_D=d_loss_wgan, loss_G=g_loss_wgan, k=5,
                      step_D=WGANGPStep(lam=10.0))
        betas, lr = (0.5, 0.9), lr / 2
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    if method == "GAP":
        callbacks.append(SwapDiscriminators(D, opt_D, n_groups, n_pairs))
    callbacks.append(LRDecay([opt_G, opt_D], steps))
    z_shape = (M, latent_dim)
    kwargs.update(
        opt_G=opt_G, opt_D=opt_D, callbacks=callbacks, steps=steps,
        sample_z=lambda n: torch.randn(z_shape[0], n, z_shape[1],
                                       device=device))
    return dict(G=G, D=D, sample_real=sample_real, n_per_seed=n_per_seed,
                kwargs=kwargs)


@torch.no_grad()
def toy_samples(G: ToyGenerator, n: int, n_per_seed: int = 1
                ) -> torch.Tensor:
    """n samples of the first generator of each seed: (n_seeds, n, 2)
    (all seeds of each benchmark, benchmark by benchmark)."""
    z = torch.randn(G.n_models, n, G.latent_dim,
                    device=next(G.parameters()).device)
    return G(z)[::n_per_seed].cpu()


# ------------------------------------------ discriminator rejection sampling


def drs_accept_prob(logits: torch.Tensor, max_logit: float | torch.Tensor,
                    gamma: float | torch.Tensor | None = None,
                    eps: float = 1e-6) -> torch.Tensor:
    r"""Acceptance probabilities of discriminator rejection sampling.

    A discriminator trained with the logistic loss has the logit
    :math:`\ell(x) = \log p_{data}(x) / p_g(x)` at its optimum, so keeping a
    sample of G with probability :math:`e^{\ell(x) - M}`, M the largest
    logit, samples :math:`p_{data}` exactly (Azadi et al., 2019). Written
    as a logit, that probability is :math:`F(x) = d - \log(1 - e^{d -
    \epsilon})` with :math:`d = \ell(x) - M` (exact as
    :math:`\epsilon \to 0`); ``gamma`` shifts it,
    :math:`\sigma(F(x) - \gamma)`, to accept more samples than exact
    rejection would, most of all those D rates low. ``gamma=None`` gives
    the exact probabilities :math:`e^{d}`. Logits above ``max_logit``
    are accepted always.
    """
    d = (logits - max_logit).clamp(max=0.0)
    if gamma is None:
        return torch.exp(d)
    return torch.sigmoid(_drs_logit(d, eps) - gamma)


def _drs_logit(d: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """F = d - log(1 - e^(d - eps)): the logit of the acceptance e^d."""
    return d - torch.log1p(-torch.exp(d - eps))


@torch.no_grad()
def rejection_sample(generate: Callable[[int], torch.Tensor],
                     logit: Callable[[torch.Tensor], torch.Tensor], n: int,
                     quantile: float | None = 0.95, burn_in: int = 10000,
                     batch: int = 10000, max_draws: int = 10 ** 6
                     ) -> tuple[torch.Tensor, float]:
    """n samples of ``generate`` kept by discriminator rejection sampling.

    ``generate(k)`` draws k samples (k, ...) of G, ``logit(x)`` gives D's
    logit of each, (k,). A burn-in of ``burn_in`` samples fixes M, the
    largest logit, and gamma, the ``quantile`` of F over the burn-in (so
    that about 1 - quantile of the samples are kept with probability at
    least 1/2; ``quantile=None``: exact rejection, gamma unused). Returns
    the kept samples and the share of draws kept. D must score each
    sample on its own, and its logit should estimate the log density
    ratio (a GAN discriminator with the logistic loss, not a WGAN critic).
    """
    if n < 1 or burn_in < 1 or batch < 1:
        raise ValueError(f"n, burn_in and batch must be positive, got "
                         f"{n}, {burn_in}, {batch}")
    if quantile is not None and not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie in (0, 1) or be None, got "
                         f"{quantile}")
    ell = logit(generate(burn_in)).float()
    M, gamma = ell.max(), None
    if quantile is not None:
        gamma = torch.quantile(_drs_logit(ell - M), quantile)
    kept, n_kept, draws = [], 0, 0
    while n_kept < n:
        if draws >= max_draws:
            raise RuntimeError(
                f"rejection sampling kept {n_kept} of {draws} samples, "
                f"fewer than the {n} asked for: lower `quantile` to accept "
                f"more, or raise `max_draws`")
        x = generate(batch)
        p = drs_accept_prob(logit(x).float(), M, gamma)
        keep = torch.rand_like(p) < p
        kept.append(x[keep])
        n_kept += int(keep.sum())
        draws += batch
    return torch.cat(kept)[:n], n_kept / draws


def toy_rejection_samples(G: ToyGenerator, D: nn.Module, n: int,
                          n_per_seed: int = 1,
                          quantile: float | None = 0.95
                          ) -> tuple[torch.Tensor, list[float]]:
    """:func:`rejection_sample` for each seed of a toy run: n samples of
    the first generator of each seed, (n_seeds, n, 2), filtered by its
    own discriminator, and the share of draws kept for each seed.
    Instance noise is left out of the scores; packed and minibatch
    discriminators, which score samples together, are refused.
    """
    inner = D.D if isinstance(D, InstanceNoise) else D
    if not isinstance(inner, ToyDiscriminator):
        raise TypeError(f"expected a ToyDiscriminator, got "
                        f"{type(inner).__name__}")
    if inner.pack > 1 or inner.minibatch is not None:
        raise ValueError("rejection sampling needs a discriminator that "
                         "scores each sample on its own; this one packs "
                         "samples or compares them within a batch")
    S = G.n_models
    dev = next(G.parameters()).device
    samples, rates = [], []
    for s in range(0, S, n_per_seed):
        def generate(k: int, s: int = s) -> torch.Tensor:
            return G(torch.randn(S, k, G.latent_dim, device=dev))[s]

        def logit(x: torch.Tensor, s: int = s) -> torch.Tensor:
            # every model scores the same points; keep model s's logits
            out = inner(x.unsqueeze(0).expand(S, *x.shape).contiguous())
            return out.view(S, len(x))[s]

        x, rate = rejection_sample(generate, logit, n, quantile)
        samples.append(x.cpu())
        rates.append(rate)
    return torch.stack(samples), rates
