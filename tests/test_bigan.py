"""ALI / BiGAN: encoder, joint discriminator, the pair losses, the probe."""

import pytest
import torch
import torch.nn.functional as F

from ganlib import bigan, models


def test_shapes_plain_and_conditional():
    x = torch.randn(4, 1, 28, 28)
    y = torch.tensor([0, 1, 2, 3])
    E, D = bigan.Encoder(8, 8), bigan.JointDiscriminator(8, 8, hidden=16)
    assert E(x).shape == (4, 8)
    assert D(x, torch.randn(4, 8)).shape == (4,)
    Ec = bigan.Encoder(8, 8, n_classes=10)
    Dc = bigan.JointDiscriminator(8, 8, hidden=16, n_classes=10)
    assert Ec(x, y).shape == (4, 8)
    assert Dc(x, torch.randn(4, 8), y).shape == (4,)
    with pytest.raises(ValueError, match="conditional"):
        Ec(x)
    with pytest.raises(ValueError, match="pair with"):
        D(x, torch.randn(3, 8))


def test_pair_losses_by_hand():
    # a D that ignores x and returns z[:, 0]
    D = lambda x, z: z[:, 0]  # noqa: E731
    x = torch.zeros(2, 1, 28, 28)
    z_enc, z = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [-1.0]])
    exp_D = (F.softplus(-z_enc[:, 0]).mean() + F.softplus(z[:, 0]).mean())
    assert bigan.d_loss_pairs(D, x, z_enc, x, z).item() == \
        pytest.approx(exp_D.item())
    exp_EG = (F.softplus(z_enc[:, 0]).mean() + F.softplus(-z[:, 0]).mean())
    assert bigan.eg_loss_pairs(D, x, z_enc, x, z).item() == \
        pytest.approx(exp_EG.item())


def test_update_D_leaves_E_and_G_alone_and_update_EG_leaves_D():
    E, G = bigan.Encoder(8, 8), models.DCGANGenerator(8, 8)
    D = bigan.JointDiscriminator(8, 8, hidden=16)
    x, z = torch.randn(4, 1, 28, 28), torch.randn(4, 8)
    eg = [p.detach().clone() for p in [*E.parameters(), *G.parameters()]]
    opt_D = torch.optim.Adam(D.parameters(), 1e-2)
    bigan.update_D(E, G, D, opt_D, x, z)
    assert all(torch.equal(a, b) for a, b in
               zip(eg, [*E.parameters(), *G.parameters()]))
    d = [p.detach().clone() for p in D.parameters()]
    opt_EG = torch.optim.Adam([*E.parameters(), *G.parameters()], 1e-2)
    bigan.update_EG(E, G, D, opt_EG, x, z)
    assert all(torch.equal(a, b) for a, b in zip(d, D.parameters()))
    assert all(p.requires_grad for p in D.parameters())


def test_fit_smoke_conditional():
    x, y = torch.randn(20, 1, 28, 28).clamp(-1, 1), torch.arange(20) % 10
    E = bigan.Encoder(8, 8, n_classes=10)
    G = models.DCGANGenerator(8, 8, n_classes=10)
    D = bigan.JointDiscriminator(8, 8, hidden=16, n_classes=10)

    def sample(n):
        i = torch.randint(20, (n,))
        return x[i], y[i]

    hist = bigan.fit(E, G, D, sample, steps=2, batch_size=4)
    assert len(hist["loss_D"]) == 2
    codes = bigan.encode(E, x, y, batch_size=7)
    assert codes.shape == (20, 8)


def test_linear_probe_separable_and_random():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 2
    f = torch.randn(200, 3, generator=g) + 4 * y[:, None].float()
    assert bigan.linear_probe(f[:100], y[:100], f[100:], y[100:]) > 0.95
    noise = torch.randn(200, 3, generator=g)
    assert bigan.linear_probe(noise[:100], y[:100], noise[100:],
                              y[100:]) < 0.75


def test_nearest_neighbour_accuracy_by_hand():
    f_train = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    y_train = torch.tensor([0, 1, 2])
    f_test = torch.tensor([[1.0, 1.0], [9.0, 1.0], [1.0, 9.0], [8.0, 0.0]])
    # the nearest train points are 0, 1, 2 and 1: three of four labels right
    y_test = torch.tensor([0, 1, 2, 0])
    assert bigan.nearest_neighbour_accuracy(f_train, y_train, f_test,
                                            y_test) == 0.75
    # images are flattened, and a test point equal to a train point is its
    # own neighbour
    x = torch.randn(5, 1, 4, 4)
    assert bigan.nearest_neighbour_accuracy(x, torch.arange(5), x,
                                            torch.arange(5)) == 1.0
    with pytest.raises(ValueError, match="one width"):
        bigan.nearest_neighbour_accuracy(f_train, y_train,
                                         torch.randn(2, 3), y_test[:2])


def test_mlp_versions_shapes_and_smoke():
    x, y = torch.randn(6, 1, 28, 28).clamp(-1, 1), torch.arange(6)
    E = bigan.MLPEncoder(4, 32, n_classes=10)
    G = bigan.MLPGenerator(4, 32, n_classes=10)
    D = bigan.MLPJointDiscriminator(4, 32, n_classes=10)
    assert E(x, y).shape == (6, 4) and G(E(x, y), y).shape == (6, 1, 28, 28)
    assert D(x, E(x, y), y).shape == (6,)
    hist = bigan.fit(E, G, D, lambda n: (x[:n], y[:n]), steps=2,
                     batch_size=4)
    assert len(hist["loss_EG"]) == 2
    with pytest.raises(ValueError, match="pair with"):
        bigan.MLPJointDiscriminator(4, 32)(x, torch.randn(6, 5))
