r"""ALI / BiGAN: a GAN that also learns an encoder (Dumoulin et al., 2016;
Donahue et al., 2016).

An encoder E maps data to codes, a generator G maps codes to data, and the
discriminator D judges *pairs*: :math:`(x, E(x))` with :math:`x \sim q(x)`
against :math:`(G(z), z)` with :math:`z \sim p(z)`:

.. math:: \min_{E, G} \max_D \;
   \mathbb{E}_{q(x)}[\log D(x, E(x))]
   + \mathbb{E}_{p(z)}[\log(1 - D(G(z), z))]

At the optimum the two joint distributions :math:`q(x) q(z|x)` and
:math:`p(z) p(x|z)` match, so E inverts G. Passing ``n_classes`` makes
the conditional version: E(x, y), G(z, y) and D(x, z, y).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganlib import losses, models, train


_check_labels = models._check_labels  # the same label checks as G and D


def _check_image(x: torch.Tensor, who: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(f"{who} expects images of shape (B, 1, 28, 28), "
                         f"got {tuple(x.shape)}")


class Encoder(nn.Module):
    """E: x -> z, strided convolutions (the mirror of the DCGAN generator).

    A conditional encoder reads its label as an extra input channel.
    """

    def __init__(self, latent_dim: int = 32, width: int = 32,
                 n_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.embed = nn.Embedding(n_classes, 28 * 28) if n_classes else None
        c_in = 1 + (1 if n_classes else 0)
        self.net = nn.Sequential(
            *models.dcgan_conv_trunk(c_in, width),  # (B, 2w, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, latent_dim),  # (B, latent_dim)
        )
        models.dcgan_init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        _check_image(x, "Encoder")
        _check_labels(y, self.n_classes, len(x), "Encoder")
        if self.embed is not None:
            x = torch.cat([x, self.embed(y).view(-1, 1, 28, 28)], dim=1)
        return self.net(x)


class JointDiscriminator(nn.Module):
    """D(x, z) -> logit: a conv branch for x, an MLP branch for z, and an
    MLP on their concatenation. Dropout keeps D from winning too fast."""

    def __init__(self, latent_dim: int = 32, width: int = 32,
                 hidden: int = 256, n_classes: int = 0,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.embed = nn.Embedding(n_classes, 16) if n_classes else None
        self.x_branch = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1),
            nn.LeakyReLU(0.2, True),  # (B, w, 14, 14)
            nn.Dropout(dropout),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.LeakyReLU(0.2, True),  # (B, 2w, 7, 7)
            nn.Dropout(dropout),
            nn.Flatten(),
        )
        n_y = 16 if n_classes else 0
        self.z_branch = nn.Sequential(
            nn.Linear(latent_dim + n_y, hidden), nn.LeakyReLU(0.2, True),
            nn.Dropout(dropout),
        )
        self.joint = nn.Sequential(
            nn.Linear(2 * width * 7 * 7 + hidden + n_y, hidden),
            nn.LeakyReLU(0.2, True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor, z: torch.Tensor,
                y: torch.Tensor | None = None) -> torch.Tensor:
        _check_image(x, "JointDiscriminator")
        if z.ndim != 2 or z.shape != (len(x), self.latent_dim):
            raise ValueError(f"JointDiscriminator expects z of shape "
                             f"({len(x)}, {self.latent_dim}) to pair with "
                             f"x, got {tuple(z.shape)}")
        _check_labels(y, self.n_classes, len(x), "JointDiscriminator")
        hx = self.x_branch(x)  # (B, 2w*7*7)
        if self.embed is not None:
            e = self.embed(y)  # (B, 16)
            hz = self.z_branch(torch.cat([z, e], dim=1))
            h = torch.cat([hx, hz, e], dim=1)
        else:
            h = torch.cat([hx, self.z_branch(z)], dim=1)
        return self.joint(h).squeeze(1)  # (B,) logits


class MLPEncoder(nn.Module):
    """E: x -> z with an MLP (cheap on a CPU); labels enter one-hot."""

    def __init__(self, latent_dim: int = 16, hidden: int = 512,
                 n_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = nn.Sequential(
            nn.Linear(784 + n_classes, hidden), nn.LeakyReLU(0.2, True),
            nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden),
            nn.LeakyReLU(0.2, True), nn.Linear(hidden, latent_dim))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None):
        _check_image(x, "MLPEncoder")
        _check_labels(y, self.n_classes, len(x), "MLPEncoder")
        h = x.flatten(1)  # (B, 784)
        if self.n_classes:
            h = torch.cat([h, F.one_hot(y, self.n_classes).float()], 1)
        return self.net(h)


class MLPGenerator(nn.Module):
    """G: z -> x with an MLP, batch norm, tanh output (B, 1, 28, 28)."""

    def __init__(self, latent_dim: int = 16, hidden: int = 512,
                 n_classes: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = nn.Sequential(
            nn.Linear(latent_dim + n_classes, hidden, bias=False),
            nn.BatchNorm1d(hidden), nn.ReLU(True),
            nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden),
            nn.ReLU(True), nn.Linear(hidden, 784), nn.Tanh(),
            nn.Unflatten(1, (1, 28, 28)))

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None):
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"MLPGenerator expects z of shape (B, "
                             f"{self.latent_dim}), got {tuple(z.shape)}")
        _check_labels(y, self.n_classes, len(z), "MLPGenerator")
        if self.n_classes:
            z = torch.cat([z, F.one_hot(y, self.n_classes).float()], 1)
        return self.net(z)


class MLPJointDiscriminator(nn.Module):
    """D(x, z) -> logit: an MLP on the concatenation (x, z[, y])."""

    def __init__(self, latent_dim: int = 16, hidden: int = 512,
                 n_classes: int = 0, dropout: float = 0.2) -> None:
        super().__init__()
        self.latent_dim, self.n_classes = latent_dim, n_classes
        self.net = nn.Sequential(
            nn.Linear(784 + latent_dim + n_classes, hidden),
            nn.LeakyReLU(0.2, True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2, True),
            nn.Dropout(dropout), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, z: torch.Tensor,
                y: torch.Tensor | None = None) -> torch.Tensor:
        _check_image(x, "MLPJointDiscriminator")
        if z.ndim != 2 or z.shape != (len(x), self.latent_dim):
            raise ValueError(f"MLPJointDiscriminator expects z of shape "
                             f"({len(x)}, {self.latent_dim}) to pair with "
                             f"x, got {tuple(z.shape)}")
        _check_labels(y, self.n_classes, len(x), "MLPJointDiscriminator")
        parts = [x.flatten(1), z]  # (B, 784), (B, latent_dim)
        if self.n_classes:
            parts.append(F.one_hot(y, self.n_classes).float())
        return self.net(torch.cat(parts, 1)).squeeze(1)  # (B,) logits


# ---------------------------------------------------------------- the step


def d_loss_pairs(D: nn.Module, x_real: torch.Tensor, z_enc: torch.Tensor,
                 x_fake: torch.Tensor, z: torch.Tensor,
                 cond: tuple[torch.Tensor, ...] = ()) -> torch.Tensor:
    r"""BiGAN discriminator loss on pairs.

    .. math:: L_D = -\mathbb{E}_x \log D(x, E(x))
                    - \mathbb{E}_z \log(1 - D(G(z), z))

    Real pairs are (data, its code); fake pairs are (sample, its noise).
    """
    real_out = D(x_real, z_enc, *cond)
    fake_out = D(x_fake, z, *cond)
    return losses.d_loss(real_out, fake_out)


def eg_loss_pairs(D: nn.Module, x_real: torch.Tensor, z_enc: torch.Tensor,
                  x_fake: torch.Tensor, z: torch.Tensor,
                  cond: tuple[torch.Tensor, ...] = ()) -> torch.Tensor:
    r"""Non-saturating loss of E and G: swap the labels of the pairs.

    .. math:: L_{EG} = -\mathbb{E}_z \log D(G(z), z)
                       - \mathbb{E}_x \log(1 - D(x, E(x)))
    """
    real_out = D(x_real, z_enc, *cond)
    fake_out = D(x_fake, z, *cond)
    # D's loss with the labels swapped: fakes called real, reals fake
    return losses.d_loss(fake_out, real_out)


def update_D(E: nn.Module, G: nn.Module, D: nn.Module,
             opt_D: torch.optim.Optimizer, x_real: torch.Tensor,
             z: torch.Tensor, cond: tuple[torch.Tensor, ...] = ()
             ) -> torch.Tensor:
    """(1) Update D: tell (x, E(x)) from (G(z), z)."""
    with torch.no_grad():  # the D step needs no gradient through E or G
        z_enc, x_fake = E(x_real, *cond), G(z, *cond)
    loss = d_loss_pairs(D, x_real, z_enc, x_fake, z, cond)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.detach()


def update_EG(E: nn.Module, G: nn.Module, D: nn.Module,
              opt_EG: torch.optim.Optimizer, x_real: torch.Tensor,
              z: torch.Tensor, cond: tuple[torch.Tensor, ...] = ()
              ) -> torch.Tensor:
    """(2) Update E and G together: make D swap its answers."""
    with train.frozen(D):  # gradients flow through D to E and G only
        loss = eg_loss_pairs(D, x_real, E(x_real, *cond), G(z, *cond), z,
                             cond)
        opt_EG.zero_grad(set_to_none=True)
        loss.backward()
        opt_EG.step()
    return loss.detach()


class BiGANStep(train.Step):
    """One D step on pairs, then one joint step of E and G.

    ``update_D`` and ``update_EG`` may be replaced by functions of the same
    signature (a chapter passes the ones its cells define).
    """

    def __init__(self, E: nn.Module, G: nn.Module, D: nn.Module,
                 sample_real: Callable, *, batch_size: int = 64,
                 lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 update_D: Callable = update_D,
                 update_EG: Callable = update_EG) -> None:
        if batch_size < 1:
            raise ValueError(f"need batch_size >= 1, got {batch_size}")
        self.E, self.G, self.D = E, G, D
        self.update_D, self.update_EG = update_D, update_EG
        self.sample_real, self.batch_size = sample_real, batch_size
        self.opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
        self.opt_EG = torch.optim.Adam([*E.parameters(), *G.parameters()],
                                       lr=lr, betas=betas)
        self.networks = {"E": E, "G": G, "D": D}
        self.optimizers = {"D": self.opt_D, "EG": self.opt_EG}

    def __call__(self) -> dict[str, torch.Tensor]:
        x_real, cond = train.split_batch(self.sample_real(self.batch_size))
        z = torch.randn(len(x_real), self.G.latent_dim,
                        device=x_real.device)
        loss_D = self.update_D(self.E, self.G, self.D, self.opt_D, x_real,
                               z, cond)
        loss_EG = self.update_EG(self.E, self.G, self.D, self.opt_EG,
                                 x_real, z, cond)
        return {"loss_D": loss_D, "loss_EG": loss_EG}


def fit(E: nn.Module, G: nn.Module, D: nn.Module, sample_real: Callable, *,
        steps: int, batch_size: int = 64, lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        update_D: Callable = update_D, update_EG: Callable = update_EG,
        progress: bool = True, **loop) -> train.History:
    """Train E, G and D for ``steps`` steps; ``sample_real(n)`` returns x or
    (x, y). Returns the history of loss_D and loss_EG; ``update_D`` and
    ``update_EG`` as in :class:`BiGANStep`; other keyword arguments
    (``checkpoint``, ``callbacks``, ...) go to ``train.fit``."""
    step = BiGANStep(E, G, D, sample_real, batch_size=batch_size, lr=lr,
                     betas=betas, update_D=update_D, update_EG=update_EG)
    return train.fit(step, steps, progress=progress, desc="bigan", **loop)


# --------------------------------------------------------------- inspect


@torch.no_grad()
def encode(E: nn.Module, x: torch.Tensor, y: torch.Tensor | None = None,
           batch_size: int = 500) -> torch.Tensor:
    """Codes E(x) in eval mode, in batches, on the CPU."""
    was_training = E.training
    E.eval()
    out = []
    for i in range(0, len(x), batch_size):
        cond = () if y is None else (y[i:i + batch_size],)
        out.append(E(x[i:i + batch_size], *cond).cpu())
    E.train(was_training)
    return torch.cat(out)


def nearest_neighbour_accuracy(f_train: torch.Tensor, y_train: torch.Tensor,
                               f_test: torch.Tensor, y_test: torch.Tensor
                               ) -> float:
    """Test accuracy of 1-nearest-neighbour classification on frozen
    features (Euclidean), the BiGAN paper's measure of its codes."""
    if len(f_train) == 0 or f_train.shape[1:] != f_test.shape[1:]:
        raise ValueError(f"nearest_neighbour_accuracy needs train and test "
                         f"features of one width, got shapes "
                         f"{tuple(f_train.shape)} and {tuple(f_test.shape)}")
    f_train, f_test = f_train.flatten(1).float(), f_test.flatten(1).float()
    nearest = torch.cat([torch.cdist(chunk, f_train).argmin(1)
                         for chunk in f_test.split(500)])
    return (y_train.cpu()[nearest.cpu()] == y_test.cpu()).float().mean().item()


def linear_probe(f_train: torch.Tensor, y_train: torch.Tensor,
                 f_test: torch.Tensor, y_test: torch.Tensor,
                 max_iter: int = 2000) -> float:
    """Test accuracy of a logistic regression fitted on frozen features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(f_train.numpy())
    clf = LogisticRegression(max_iter=max_iter)
    clf.fit(scaler.transform(f_train.numpy()), y_train.cpu().numpy())
    return float(clf.score(scaler.transform(f_test.numpy()),
                           y_test.cpu().numpy()))
