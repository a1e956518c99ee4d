"""Latent-space tools: interpolation, image statistics, directions, kNN."""

import math

import pytest
import torch

from ganlib import latent, models, recipes


def test_lerp_endpoints_midpoint_and_shapes():
    z0, z1 = torch.randn(5, 3), torch.randn(5, 3)
    t = torch.tensor([0.0, 0.5, 1.0])
    path = latent.lerp(z0, z1, t)
    assert path.shape == (3, 5, 3)
    assert torch.allclose(path[0], z0) and torch.allclose(path[2], z1)
    assert torch.allclose(path[1], (z0 + z1) / 2)
    assert latent.lerp(z0[0], z1[0], 0.25).shape == (3,)


def test_slerp_oracle_on_orthonormal_vectors():
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = latent.slerp(e1, e2, 0.5)
    s = 1 / math.sqrt(2)
    assert torch.allclose(mid, torch.tensor([s, s]))
    # along the great circle the norm stays 1; along the chord it dips
    t = torch.linspace(0, 1, 11)
    assert torch.allclose(latent.slerp(e1, e2, t).norm(dim=-1),
                          torch.ones(11), atol=1e-6)
    assert latent.lerp(e1, e2, t).norm(dim=-1).min() < 0.75


def test_slerp_endpoints_batched_and_parallel_fallback():
    z0, z1 = torch.randn(4, 8), torch.randn(4, 8)
    path = latent.slerp(z0, z1, torch.tensor([0.0, 1.0]))
    assert path.shape == (2, 4, 8)
    assert torch.allclose(path[0], z0, atol=1e-5)
    assert torch.allclose(path[1], z1, atol=1e-5)
    z = torch.randn(8)
    out = latent.slerp(z, 2 * z, torch.tensor([0.5]))
    assert torch.isfinite(out).all()
    assert torch.allclose(out[0], 1.5 * z, atol=1e-5)  # lerp fallback


def test_slerp_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        latent.slerp(torch.randn(3), torch.randn(4), 0.5)
    with pytest.raises(ValueError):
        latent.lerp(torch.randn(3), torch.randn(3), torch.zeros(2, 2))


def _bar(lean: int) -> torch.Tensor:
    """A one-pixel stroke from bottom to top, shifted by `lean` per 10 rows."""
    x = -torch.ones(1, 1, 28, 28)
    for r in range(4, 24):
        c = 14 + round(lean * (14 - r) / 10)
        x[0, 0, r, c] = 1.0
    return x


def test_slant_sign_and_ink_oracle():
    right, upright, left = _bar(3), _bar(0), _bar(-3)
    assert latent.slant(right).item() == pytest.approx(0.3, abs=0.05)
    assert latent.slant(upright).item() == pytest.approx(0.0, abs=1e-6)
    assert latent.slant(left).item() < -0.2
    assert latent.ink(upright).item() == pytest.approx(20 / 784)
    assert latent.ink(-torch.ones(2, 1, 28, 28)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        latent.slant(torch.zeros(2, 28, 28))


def test_attribute_direction_oracle():
    z = torch.tensor([[0.0, 1.0], [2.0, 0.0], [4.0, 1.0], [6.0, 3.0]])
    scores = torch.tensor([3.0, 1.0, 0.0, 2.0])
    # frac 0.5: top two rows are 0 and 3, bottom two rows are 2 and 1
    v = latent.attribute_direction(z, scores, frac=0.5)
    assert torch.allclose(v, torch.tensor([3.0 - 3.0, 2.0 - 0.5]))
    v1 = latent.attribute_direction(z, scores, frac=0.1)  # n = 1
    assert torch.allclose(v1, z[0] - z[2])
    with pytest.raises(ValueError):
        latent.attribute_direction(z, scores[:3])


def test_walk_shapes_and_values():
    z, v = torch.zeros(2, 3), torch.tensor([1.0, 0.0, 0.0])
    out = latent.walk(z, v, [-1.0, 0.0, 2.0])
    assert out.shape == (6, 3)
    assert out[:3, 0].tolist() == [-1.0, 0.0, 2.0]


def test_nearest_neighbours_matches_brute_force():
    q, r = torch.randn(7, 1, 4, 4), torch.randn(30, 1, 4, 4)
    dist, idx = latent.nearest_neighbours(q, r, k=3, batch_size=2)
    full = ((q.flatten(1)[:, None] - r.flatten(1)[None]) ** 2).sum(-1).sqrt()
    ref_d, ref_i = full.sort(dim=1)
    assert torch.equal(idx, ref_i[:, :3])
    assert torch.allclose(dist, ref_d[:, :3], atol=1e-4)
    d0, i0 = latent.nearest_neighbours(r[:5], r)  # a copy is its own NN
    assert i0[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert torch.allclose(d0, torch.zeros(5, 1), atol=1e-3)
    with pytest.raises(ValueError):
        latent.nearest_neighbours(q, r, k=31)


def test_interpolation_grid_and_generate_keep_mode():
    G = models.DCGANGenerator(latent_dim=8, width=4, n_classes=10)
    G.train()
    z0, z1 = torch.randn(3, 8), torch.randn(3, 8)
    x = latent.interpolation_grid(G, z0, z1, steps=5, mode="lerp",
                                  y=torch.tensor([1, 2, 3]))
    assert x.shape == (15, 1, 28, 28) and G.training
    x2 = latent.interpolation_grid(G, z0, z1, steps=5,
                                   y=torch.tensor([1, 2, 3]))
    assert torch.allclose(x[0], x2[0], atol=1e-5)  # same endpoints
    assert torch.allclose(x[4], x2[4], atol=1e-5)
    with pytest.raises(ValueError):
        latent.interpolation_grid(G, z0, z1, mode="cubic")


def test_recipes_build_train_save_and_load(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_CACHE", str(tmp_path))
    r = recipes.dcgan_recipe()
    assert r.steps < 100 and r.n_classes == 0  # quick mode in tests
    G, D = r.build()[:2]  # the recipe's extra layers reach both networks
    assert sum(type(m) is torch.nn.Conv2d for m in G.modules()) == 2
    assert D.pack == 2 and D(G(torch.randn(4, r.latent_dim))).shape == (2,)
    small = recipes.GANRecipe(width=4, latent_dim=8, steps=2, batch_size=4,
                              extra_layers=True)
    G, D, opt_G, opt_D, ema = small.build()
    assert G.latent_dim == 8 and ema.decay == small.ema_decay
    assert recipes.load_generator("t", small) is None
    recipes.save_generator(G, small, "t", {"confident": 0.5})
    G2, results = recipes.load_generator("t", small)
    assert results == {"confident": 0.5}
    z = torch.randn(3, 8)
    G.eval()
    assert torch.allclose(G(z), G2(z))
    other = recipes.GANRecipe(width=4, latent_dim=8, steps=3, batch_size=4)
    assert recipes.load_generator("t", other) is None  # another recipe
    # weights trained on an older split of the digits are not reused
    monkeypatch.setattr(recipes.data, "SPLIT_VERSION",
                        recipes.data.SPLIT_VERSION + 1)
    assert recipes.load_generator("t", small) is None
    assert recipes.cgan_recipe().n_classes == 10
