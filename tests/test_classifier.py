"""The cached MNIST classifier: trains, caches, and rebuilds bad caches."""

import pytest
import torch

from ganlib import classifier


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_CACHE", str(tmp_path))
    return tmp_path


def test_quick_classifier_trains_caches_and_reloads(cache, capsys):
    model = classifier.load_classifier(source="embedded", device="cpu")
    out = capsys.readouterr().out
    assert "Trained the MNIST classifier" in out
    path = cache / "classifier-embedded-quick.pt"
    assert path.exists()
    # weights_only loading of the cache gives the same predictions
    again = classifier.load_classifier(source="embedded", device="cpu")
    assert "Loaded the MNIST classifier" in capsys.readouterr().out
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert torch.equal(model.predict(x)[0], again.predict(x)[0])


def test_corrupt_or_stale_cache_is_rebuilt(cache, capsys):
    path = cache / "classifier-embedded-quick.pt"
    path.write_bytes(b"garbage")
    classifier.load_classifier(source="embedded", device="cpu")
    out = capsys.readouterr().out
    assert "Rebuilding" in out and "Trained" in out
    state = torch.load(path, weights_only=True)
    state["key"]["version"] = -1  # a cache from another recipe
    torch.save(state, path)
    classifier.load_classifier(source="embedded", device="cpu")
    assert "Rebuilding" in capsys.readouterr().out


def test_classifier_shapes_and_input_checks():
    model = classifier.MNISTClassifier()
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    assert model(x).shape == (3, 10)
    assert model.embed(x).shape == (3, model.feature_dim)
    label, conf = model.predict(x)
    assert label.shape == (3,) and ((conf > 0) & (conf <= 1)).all()
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        model.features(torch.rand(3, 1, 28, 28) * 255)
    with pytest.raises(ValueError, match="shape"):
        model.features(torch.rand(3, 28, 28))


def test_augment_keeps_shape_range_and_background():
    x = -torch.ones(4, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1
    out = classifier.augment(x)
    assert out.shape == x.shape
    assert out.min() >= -1.0001 and out.max() <= 1.0001
    assert out[:, :, 0, 0].allclose(torch.full((4, 1), -1.0))
