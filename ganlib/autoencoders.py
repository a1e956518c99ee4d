r"""Autoencoders X -> Z -> X' for 28x28 digits, and a small VAE.

* :class:`LinearAutoencoder`: x' = D (E x + b) + c, the neural twin of PCA.
* :class:`MLPAutoencoder`: fully connected encoder and decoder.
* :class:`ConvAutoencoder`: strided convolutions down, transposed
  convolutions up (the shape of a DCGAN generator as the decoder).
* :class:`VAE`: the variational autoencoder of Kingma & Welling (2014),
  with :func:`reparameterize`, :func:`kl_divergence` and :func:`vae_loss`.

Images are (B, 1, 28, 28) in [-1, 1]; decoders end in tanh, except the
linear one, which must stay linear to match PCA.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from ganlib import data, losses, train

IMAGE_SHAPE = (1, 28, 28)
N_PIXELS = 28 * 28


def check_images(x: torch.Tensor, who: str) -> None:
    """A clear error unless x is a batch of digits (B, 1, 28, 28)."""
    if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"{who} expects images of shape (B, 1, 28, 28), "
                         f"got {tuple(x.shape)}")


def check_latent(z: torch.Tensor, latent_dim: int, who: str) -> None:
    """A clear error unless z is a batch of codes (B, latent_dim)."""
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"{who} decodes codes of shape (B, {latent_dim}), "
                         f"got {tuple(z.shape)}")


def check_latent_dim(latent_dim: int) -> None:
    """A clear error unless latent_dim is a positive integer."""
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got "
                         f"{latent_dim!r}")


class Autoencoder(nn.Module):
    """Base class: ``forward(x) = decode(encode(x))``."""

    latent_dim: int

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))  # (B, 1, 28, 28)


class LinearAutoencoder(Autoencoder):
    """x' = W_dec (W_enc x + b_enc) + b_dec: no nonlinearity anywhere.

    Trained with MSE, its decoder columns span the same subspace as the
    top ``latent_dim`` principal components of the data.
    """

    def __init__(self, latent_dim: int = 16) -> None:
        super().__init__()
        check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        self.encoder = nn.Linear(N_PIXELS, latent_dim)
        self.decoder = nn.Linear(latent_dim, N_PIXELS)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "LinearAutoencoder")
        return self.encoder(x.flatten(1))  # (B, 784) -> (B, k)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_latent(z, self.latent_dim, "LinearAutoencoder")
        return self.decoder(z).view(-1, *IMAGE_SHAPE)  # (B, 1, 28, 28)


class MLPAutoencoder(Autoencoder):
    """Fully connected encoder and decoder with ReLU; tanh output."""

    def __init__(self, latent_dim: int = 2,
                 hidden: tuple[int, ...] = (512, 256)) -> None:
        super().__init__()
        check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        sizes = [N_PIXELS, *hidden, latent_dim]
        self.encoder = _mlp(sizes)
        self.decoder = _mlp(sizes[::-1])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "MLPAutoencoder")
        return self.encoder(x.flatten(1))  # (B, k)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_latent(z, self.latent_dim, "MLPAutoencoder")
        return torch.tanh(self.decoder(z)).view(-1, *IMAGE_SHAPE)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def conv_encoder(out_dim: int, width: int = 32) -> nn.Sequential:
    """(B, 1, 28, 28) -> (B, out_dim) with two stride-2 convolutions."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
        nn.Conv2d(width, 2 * width, 4, 2, 1),
        nn.LeakyReLU(0.2),  # (B, 2w, 7, 7)
        nn.Flatten(),
        nn.Linear(2 * width * 7 * 7, out_dim),
    )


def conv_decoder(in_dim: int, width: int = 32) -> nn.Sequential:
    """(B, in_dim) -> (B, 1, 28, 28) in [-1, 1]: project, then up-convolve."""
    return nn.Sequential(
        nn.Linear(in_dim, 2 * width * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (2 * width, 7, 7)),  # (B, 2w, 7, 7)
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
        nn.ReLU(),  # (B, w, 14, 14)
        nn.ConvTranspose2d(width, 1, 4, 2, 1),
        nn.Tanh(),  # (B, 1, 28, 28)
    )


class ConvAutoencoder(Autoencoder):
    """Convolutional autoencoder: strided convs down, transposed convs up."""

    def __init__(self, latent_dim: int = 32, width: int = 32) -> None:
        super().__init__()
        check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        self.encoder = conv_encoder(latent_dim, width)
        self.decoder = conv_decoder(latent_dim, width)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "ConvAutoencoder")
        return self.encoder(x)  # (B, k)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_latent(z, self.latent_dim, "ConvAutoencoder")
        return self.decoder(z)  # (B, 1, 28, 28)


# ----------------------------------------------------------------------- VAE


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""Draw :math:`z = \mu + \sigma \odot \varepsilon`, with
    :math:`\varepsilon \sim \mathcal N(0, I)` and
    :math:`\sigma = e^{\frac12 \log \sigma^2}`.

    The noise enters as an input, so gradients reach mu and logvar.
    """
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


@losses.in_float32
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""KL of the encoder's Gaussian from the prior, averaged over the batch.

    .. math:: \mathrm{KL}\big(\mathcal N(\mu, \sigma^2 I)\,\|\,
       \mathcal N(0, I)\big) = \tfrac12 \sum_j
       \big(\mu_j^2 + \sigma_j^2 - \log \sigma_j^2 - 1\big)
    """
    kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)  # (B,)
    return kl.mean()


@losses.in_float32
def vae_loss(x_rec: torch.Tensor, x: torch.Tensor, mu: torch.Tensor,
             logvar: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    r"""Negative ELBO per image (a Gaussian decoder with variance 1/2).

    .. math:: L = \mathbb{E}_{x}\Big[\lVert x - g(z) \rVert^2
       + \beta\, \mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal N(0, I)\big)\Big],
       \quad z = \mu(x) + \sigma(x) \odot \varepsilon

    The squared error is summed over the pixels and averaged over the batch;
    beta = 1 is the VAE of Kingma & Welling (2014).
    """
    if x_rec.shape != x.shape:
        raise ValueError(f"reconstruction {tuple(x_rec.shape)} and input "
                         f"{tuple(x.shape)} must have the same shape")
    recon = (x_rec - x).pow(2).flatten(1).sum(dim=1).mean()
    return recon + beta * kl_divergence(mu, logvar)


class VAE(nn.Module):
    """A convolutional VAE: q(z|x) = N(mu(x), diag sigma^2(x)), prior N(0, I).

    ``forward(x)`` returns ``(x_rec, mu, logvar)``; ``sample(n)`` decodes
    n draws from the prior.
    """

    def __init__(self, latent_dim: int = 2, width: int = 32) -> None:
        super().__init__()
        check_latent_dim(latent_dim)
        self.latent_dim = latent_dim
        self.encoder = conv_encoder(2 * latent_dim, width)  # mu and logvar
        self.decoder = conv_decoder(latent_dim, width)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean and log-variance (B, k) each of q(z | x)."""
        check_images(x, "VAE")
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        check_latent(z, self.latent_dim, "VAE")
        return self.decoder(z)  # (B, 1, 28, 28)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """n images decoded from z ~ N(0, I)."""
        device = next(self.parameters()).device
        return self.decode(torch.randn(n, self.latent_dim, device=device))


# ------------------------------------------------------------------ training


class AutoencoderStep(train.Step):
    """One Adam step on ``loss(model, x)`` for a minibatch x of x_train."""

    def __init__(self, model: nn.Module, x_train: torch.Tensor,
                 loss: Callable[[nn.Module, torch.Tensor], torch.Tensor],
                 batch_size: int = 128, lr: float = 1e-3,
                 name: str = "autoencoder") -> None:
        if batch_size < 1:
            raise ValueError(f"need batch_size >= 1, got {batch_size}")
        check_images(x_train, name)
        self.model, self.loss, self.batch_size = model, loss, batch_size
        self.sample = data.TensorSampler(x_train)
        self.opt = torch.optim.Adam(model.to(x_train.device).parameters(),
                                    lr=lr)
        self.networks, self.optimizers = {"model": model}, {"model": self.opt}
        self.name = name

    def __call__(self) -> dict[str, torch.Tensor]:
        x = self.sample(self.batch_size)
        loss = self.loss(self.model, x)      # forward
        self.opt.zero_grad(set_to_none=True)
        loss.backward()                      # backward
        self.opt.step()                      # update
        return {"loss": loss.detach()}

    def settings(self) -> dict:
        return {**super().settings(), "loss": train.describe(self.loss)}


class _Reconstruction:
    """loss_fn(model(x), x): the autoencoder's objective."""

    def __init__(self, loss_fn: Callable) -> None:
        self.loss_fn = loss_fn

    def __call__(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(model(x), x)

    def __repr__(self) -> str:
        return f"reconstruction({train.describe(self.loss_fn)})"


class _VAELoss:
    """The negative ELBO of a VAE on x (:func:`vae_loss` by default)."""

    def __init__(self, beta: float, loss_fn: Callable = vae_loss) -> None:
        self.beta, self.loss_fn = beta, loss_fn

    def __call__(self, model: "VAE", x: torch.Tensor) -> torch.Tensor:
        x_rec, mu, logvar = model(x)
        return self.loss_fn(x_rec, x, mu, logvar, self.beta)


def fit_autoencoder(model: nn.Module, x_train: torch.Tensor,
                    loss_fn: Callable[[torch.Tensor, torch.Tensor],
                                      torch.Tensor] = F.mse_loss,
                    steps: int = 1000, batch_size: int = 128,
                    lr: float = 1e-3, progress: bool = True,
                    **loop) -> list[float]:
    """Train ``model`` to reconstruct x_train; returns the loss per step.

    ``loss_fn(x_rec, x)`` returns a scalar (MSE by default). Runs on the
    device of ``x_train``; leaves the model in eval mode. Other keyword
    arguments (``checkpoint``, ``callbacks``, ...) go to ``train.fit``.
    """
    step = AutoencoderStep(model, x_train, _Reconstruction(loss_fn),
                           batch_size, lr)
    history = train.fit(step, steps, progress=progress, desc="autoencoder",
                        **loop)
    model.eval()
    return history["loss"] if steps else []


def fit_vae(model: VAE, x_train: torch.Tensor, steps: int = 1000,
            batch_size: int = 128, lr: float = 1e-3, beta: float = 1.0,
            progress: bool = True, loss_fn: Callable = vae_loss,
            **loop) -> list[float]:
    """Train a VAE on x_train with :func:`vae_loss`; returns the loss per
    step.

    ``loss_fn(x_rec, x, mu, logvar, beta)`` replaces :func:`vae_loss`
    (a chapter passes its own); other keyword arguments go to
    ``train.fit``.
    """
    step = AutoencoderStep(model, x_train, _VAELoss(beta, loss_fn),
                           batch_size, lr, name="vae")
    history = train.fit(step, steps, progress=progress, desc="vae", **loop)
    model.eval()
    return history["loss"] if steps else []


@torch.no_grad()
def reconstruction_mse(model: nn.Module, x: torch.Tensor,
                       batch_size: int = 1000) -> float:
    """Mean squared error per pixel of the reconstructions of x (eval mode).

    A VAE is scored on the decoded mean code, with no sampling noise.
    """
    model.eval()
    total = 0.0
    for xb in x.split(batch_size):
        if isinstance(model, VAE):
            x_rec = model.decode(model.encode(xb)[0])
        else:
            x_rec = model(xb)
        total += (x_rec - xb).pow(2).sum().item()
    return total / x.numel()
