"""Tests of ganlib.inversion: TV, feature loss, layer features, inversion."""

import math

import pytest
import torch
from torch import nn

from ganlib import inversion
from ganlib.classifier import MNISTClassifier


# ------------------------------------------------------------ oracle tests


def test_tv_loss_hand_computed_2x2():
    # only pixel (0, 0) has both neighbours: dx = 1, dy = 2, 1 + 4 = 5
    x = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    assert inversion.tv_loss(x, beta=2.0).item() == pytest.approx(5.0)
    assert inversion.tv_loss(x, beta=1.0).item() == pytest.approx(
        math.sqrt(5.0), rel=1e-6)


def test_tv_loss_hand_computed_3x3():
    x = torch.tensor([[[[0.0, 1.0, 3.0], [1.0, 1.0, 1.0],
                        [0.0, 0.0, 2.0]]]])
    # (dx, dy) at the four pixels with both neighbours:
    # (0,0): (1, 1) -> 2; (0,1): (2, 0) -> 4; (1,0): (0, -1) -> 1;
    # (1,1): (0, -1) -> 1; mean of squares 8 / 4, mean of norms below
    assert inversion.tv_loss(x).item() == pytest.approx(2.0)
    expected = (math.sqrt(2) + 2 + 1 + 1) / 4
    assert inversion.tv_loss(x, beta=1.0).item() == pytest.approx(
        expected, rel=1e-6)


def test_tv_loss_per_image_and_constant():
    x = torch.randn(3, 2, 6, 5)
    per = inversion.tv_loss(x, reduction="none")
    assert per.shape == (3,)
    assert per.mean().item() == pytest.approx(inversion.tv_loss(x).item())
    assert inversion.tv_loss(torch.full((2, 1, 4, 4), 0.7)).item() == 0.0


def test_tv_loss_gradient_finite_at_flat_image_for_beta_1():
    x = torch.zeros(1, 1, 4, 4, requires_grad=True)
    inversion.tv_loss(x, beta=1.0).backward()
    assert torch.isfinite(x.grad).all()


def test_feature_loss_hand_computed_and_mask():
    f = torch.tensor([[1.0, 2.0, 3.0]])
    f0 = torch.tensor([[1.0, 0.0, 1.0]])
    # ||f - f0||^2 = 0 + 4 + 4 = 8, ||f0||^2 = 2
    assert inversion.feature_loss(f, f0).item() == pytest.approx(4.0)
    mask = torch.tensor([[1.0, 0.0, 1.0]])
    # masked: diff 0 + 4 = 4, energy 2
    assert inversion.feature_loss(f, f0, mask).item() == pytest.approx(2.0)
    assert inversion.feature_loss(f0, f0).item() == 0.0


def test_center_mask_positions():
    m = inversion.center_mask((2, 3, 9, 9), 5)
    assert m.shape == (1, 1, 9, 9) and m.sum() == 25
    assert m[0, 0, 2:7, 2:7].all() and m[0, 0, 1].sum() == 0
    m = inversion.center_mask((8, 8), 5)  # odd slack: top-left by one half
    assert m[0, 0, 1:6, 1:6].all() and m.sum() == 25


# --------------------------------------------------------------- shape tests


def test_classifier_features_shapes_and_logits():
    model = MNISTClassifier().eval()
    ext = inversion.classifier_features(model)
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    feats = ext(x)
    shapes = {k: tuple(v.shape) for k, v in feats.items()}
    assert shapes == {
        "conv1": (2, 32, 28, 28), "relu1": (2, 32, 28, 28),
        "pool1": (2, 32, 14, 14), "conv2": (2, 64, 14, 14),
        "relu2": (2, 64, 14, 14), "pool2": (2, 64, 7, 7),
        "fc": (2, 128), "relu_fc": (2, 128), "logits": (2, 10)}
    # the same computation two ways: stage by stage and the model itself
    with torch.no_grad():
        assert torch.allclose(feats["logits"], model(x), atol=1e-5)
        assert torch.allclose(feats["relu_fc"], model.features(x),
                              atol=1e-5)
    assert list(ext(x, upto="pool1")) == ["conv1", "relu1", "pool1"]


def test_sequential_features_names():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1),
                        nn.ReLU())
    ext = inversion.sequential_features(net, preprocess=nn.Identity())
    assert ext.names == ["relu1_1", "relu1_2", "pool1", "relu2_1"]
    out = ext(torch.randn(1, 3, 8, 8))
    assert out["relu2_1"].shape == (1, 8, 4, 4)


# --------------------------------------------------------- the inversion


def _tiny_setup():
    torch.manual_seed(0)
    ext = inversion.classifier_features(MNISTClassifier().eval())
    x0 = torch.rand(2, 1, 28, 28) * 2 - 1
    return ext, x0


def test_invert_layers_lowers_the_feature_loss():
    ext, x0 = _tiny_setup()
    layers = ["relu1", "pool2"]
    x_init = 0.1 * torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        feats = ext(x_init, upto="pool2")
        target = ext(x0, upto="pool2")
    before = torch.cat([
        inversion.feature_loss(feats[n][j * 2:(j + 1) * 2], target[n],
                               reduction="none")
        for j, n in enumerate(layers)])
    res = inversion.invert_layers(ext, x0, layers, x_init, lam=0.01,
                                  steps=25, lr=0.05)
    assert res.x.shape == (4, 1, 28, 28)
    assert res.objective.shape == (26, 4)
    assert len(res.losses) == 26
    assert (res.feature_loss < 0.5 * before).all()
    assert res.x.min() >= -1 and res.x.max() <= 1  # clamped


def test_batched_inversion_equals_one_by_one():
    ext, x0 = _tiny_setup()
    phi = lambda x: ext(x, upto="pool1")["pool1"]  # noqa: E731
    with torch.no_grad():
        phi_0 = phi(x0)
    x_init = 0.1 * torch.randn(2, 1, 28, 28)
    both = inversion.invert(phi, phi_0, x_init, lam=0.05, steps=10)
    one = inversion.invert(phi, phi_0[:1], x_init[:1], lam=0.05, steps=10)
    assert torch.allclose(both.x[:1], one.x, atol=1e-5)


def test_invert_lambda_per_image_and_no_clamp():
    ext, x0 = _tiny_setup()
    phi = lambda x: ext(x, upto="relu1")["relu1"]  # noqa: E731
    with torch.no_grad():
        phi_0 = phi(x0)
    res = inversion.invert(phi, phi_0, torch.zeros(2, 1, 28, 28),
                           lam=torch.tensor([0.0, 10.0]), steps=15,
                           clamp=False)
    tv = inversion.tv_loss(res.x, reduction="none")
    assert tv[1] < tv[0]  # a strong prior gives a smoother image


def test_inversion_does_not_touch_the_weights():
    ext, x0 = _tiny_setup()
    before = [p.clone() for p in ext.parameters()]
    inversion.invert_layers(ext, x0, ["conv2"], torch.zeros(2, 1, 28, 28),
                            steps=3)
    assert all(p.grad is None for p in ext.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, ext.parameters()))


def test_masked_inversion_uses_only_the_window():
    ext, x0 = _tiny_setup()
    mask = inversion.center_mask((28, 28), 5)
    res = inversion.invert_layers(ext, x0, ["relu1"],
                                  torch.zeros(2, 1, 28, 28), steps=10,
                                  masks={"relu1": mask})
    # relu1 neurons see 5x5 pixels: the central window sees rows 10..17;
    # far corners receive no gradient and stay at their starting value
    assert (res.x[:, :, :8, :8] == 0).all()
    assert (res.x[:, :, 12:16, 12:16] != 0).any()


# ------------------------------------------------------------ clear errors


def test_errors_on_bad_input():
    with pytest.raises(ValueError, match="B, C, H, W"):
        inversion.tv_loss(torch.zeros(28, 28))
    with pytest.raises(ValueError, match="2x2"):
        inversion.tv_loss(torch.zeros(1, 1, 1, 5))
    with pytest.raises(ValueError, match="beta"):
        inversion.tv_loss(torch.zeros(1, 1, 3, 3), beta=0)
    with pytest.raises(ValueError, match="same shape"):
        inversion.feature_loss(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="broadcast"):
        inversion.feature_loss(torch.zeros(2, 3), torch.zeros(2, 3),
                               torch.ones(5))
    with pytest.raises(ValueError, match="does not fit"):
        inversion.center_mask((7, 7), 9)
    with pytest.raises(ValueError, match="MNISTClassifier"):
        inversion.classifier_features(nn.Linear(2, 2))
    ext, x0 = _tiny_setup()
    with pytest.raises(KeyError, match="unknown"):
        inversion.invert_layers(ext, x0, ["conv9"], torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="x_init"):
        inversion.invert_layers(ext, x0, ["conv1", "conv2"],
                                torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="lam"):
        inversion.invert_layers(ext, x0, ["conv1"],
                                torch.zeros(2, 1, 28, 28), lam=[1.0, 2.0])
    phi = lambda x: ext(x, upto="conv1")["conv1"]  # noqa: E731
    with pytest.raises(ValueError, match="phi_0 has shape"):
        inversion.invert(phi, torch.zeros(2, 5), torch.zeros(2, 1, 28, 28),
                         steps=1)
    with pytest.raises(ValueError, match="steps"):
        inversion.invert(phi, torch.zeros(2, 32, 28, 28),
                         torch.zeros(2, 1, 28, 28), steps=0)
