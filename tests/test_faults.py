"""Faults a reader can run into, each met by a clear error or a repair."""

import struct
import subprocess
import sys
import threading

import pytest
import torch

from ganlib import checkpoint, classifier, data, device, metrics, models
from ganlib import modes


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLIB_CACHE", str(tmp_path))
    return tmp_path


class _Fixed(torch.nn.Module):
    """A stand-in classifier that calls every image a confident 0."""

    def predict(self, x):
        return torch.zeros(len(x), dtype=torch.long), torch.ones(len(x))


# ------------------------------------------------------------------ metrics


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_frechet_distance_rejects_non_finite_features(bad):
    a, b = torch.randn(50, 4), torch.randn(50, 4)
    a[3, 1] = bad
    with pytest.raises(ValueError, match="feat_a holds NaN or inf"):
        metrics.frechet_distance(a, b)
    with pytest.raises(ValueError, match="feat_b holds NaN or inf"):
        metrics.frechet_distance(b, a)


def test_frechet_distance_of_nan_does_not_kill_the_process():
    # NaN used to reach LAPACK, which can abort the interpreter (a notebook
    # kernel dies); a fresh process shows whether it survives and says why
    code = ("import torch; from ganlib import metrics\n"
            "a = torch.randn(50, 4); a[0, 0] = float('nan')\n"
            "try:\n    metrics.frechet_distance(a, torch.randn(50, 4))\n"
            "except ValueError as err:\n    print('refused:', err)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "refused:" in run.stdout and "NaN or inf" in run.stdout
    assert "DGEBAL" not in run.stderr


def test_metrics_say_when_there_are_too_few_samples():
    with pytest.raises(ValueError, match="got 1 and 5; pass more"):
        metrics.frechet_distance(torch.zeros(1, 2), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="at least one dimension"):
        metrics.frechet_distance(torch.zeros(5, 0), torch.zeros(5, 0))
    net = classifier.MNISTClassifier()
    empty, one = torch.zeros(0, 1, 28, 28), torch.zeros(1, 1, 28, 28)
    with pytest.raises(ValueError, match="sample_quality needs at least 1"):
        metrics.sample_quality(net, empty)
    with pytest.raises(ValueError, match="classifier_fd needs at least 2"):
        metrics.classifier_fd(net, one, torch.zeros(4, 1, 28, 28))


def test_mode_scores_say_what_is_missing():
    with pytest.raises(ValueError, match="at least one mode centre"):
        modes.nearest_mode(torch.zeros(4, 2), torch.zeros(0, 2))
    with pytest.raises(ValueError, match=r"N >= 1, got shape \(\)"):
        modes.mode_score(torch.tensor(0.0), data.ring8())
    with pytest.raises(ValueError, match="at least one mode"):
        data.GaussianMixture(torch.zeros(0, 2), [0.1])


def test_sample_quality_rejects_nan_and_out_of_range_images():
    x = torch.zeros(4, 1, 28, 28)
    x[1, 0, 5, 5] = float("nan")
    # NaN compares false with every bound: it used to pass as a digit 0
    with pytest.raises(ValueError, match="NaN or inf"):
        metrics.sample_quality(_Fixed(), x)
    with pytest.raises(ValueError, match=r"\[-1, 1\].*load_mnist"):
        metrics.sample_quality(_Fixed(), torch.full((4, 1, 28, 28), 255.0))
    with pytest.raises(ValueError, match="NaN or inf"):
        metrics.classifier_fd(classifier.MNISTClassifier(), x,
                              torch.zeros(4, 1, 28, 28))
    # images in range still count
    assert metrics.sample_quality(_Fixed(), x.nan_to_num()).confident == 1.0


# --------------------------------------------------------------- classifier


def _short_fit(monkeypatch):
    """Train for 3 steps: enough to draw from every generator a build uses."""
    fit = classifier.fit
    monkeypatch.setattr(classifier, "fit",
                        lambda x, y, steps, **kw: fit(x, y, 3, **kw))


def test_classifier_build_is_seeded_privately(tmp_path, monkeypatch):
    _short_fit(monkeypatch)
    built = []
    for seed, name in ((1, "a"), (2, "b")):
        monkeypatch.setenv("GANLIB_CACHE", str(tmp_path / name))
        torch.manual_seed(seed)
        before = torch.get_rng_state()
        built.append(classifier.load_classifier(device="cpu", verbose=False))
        # the caller's stream is where it was, as if no classifier was built
        assert torch.equal(torch.get_rng_state(), before)
        classifier.load_classifier(device="cpu", verbose=False)  # cached
        assert torch.equal(torch.get_rng_state(), before)
    # built from different global states, yet the same classifier
    a, b = (m.state_dict() for m in built)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("error", [
    OSError(30, "Read-only file system"),
    RuntimeError("File classifier.pt cannot be opened."),  # torch's C++
])
def test_classifier_is_kept_when_the_cache_cannot_be_written(
        cache, monkeypatch, error):
    # tests run as root, where chmod 0o555 stops no write: a failing
    # checkpoint.save stands in for the read-only cache
    _short_fit(monkeypatch)

    def read_only(path, state):
        raise error

    monkeypatch.setattr(classifier.ckpt, "save", read_only)
    with pytest.warns(UserWarning, match="GANLIB_CACHE") as caught:
        model = classifier.load_classifier(device="cpu", verbose=False)
    assert "classifier-embedded-quick.pt" in str(caught[0].message)
    assert str(cache) in str(caught[0].message)
    assert isinstance(model, classifier.MNISTClassifier)
    assert model.predict(torch.zeros(2, 1, 28, 28))[0].shape == (2,)


# --------------------------------------------------------------- checkpoint


def test_many_writers_of_one_checkpoint_do_not_collide(tmp_path):
    path = tmp_path / "run.pt"
    errors, start = [], threading.Barrier(8)

    def write(i):
        start.wait()
        for _ in range(5):
            try:
                checkpoint.save(path, {"w": torch.full((20000,), float(i))})
            except Exception as err:  # noqa: BLE001 - counted below
                errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    w = checkpoint.load(path)["w"]
    assert w.shape == (20000,) and (w == w[0]).all()  # one writer's whole
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]


def test_a_failed_checkpoint_write_names_the_path(tmp_path, monkeypatch):
    def fail(obj, f):
        open(f, "wb").close()  # half a file, then torch's C++ error
        raise RuntimeError("PytorchStreamWriter failed writing file")

    monkeypatch.setattr(torch, "save", fail)
    path = tmp_path / "run.pt"
    with pytest.raises(OSError, match="run.pt.*writable"):
        checkpoint.save(path, {"w": torch.zeros(2)})
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


# ------------------------------------------------------------ cache, device


def test_a_cache_path_that_is_a_file_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    for root in (blocker, blocker / "below"):
        monkeypatch.setenv("GANLIB_CACHE", str(root))
        with pytest.raises(OSError, match="GANLIB_CACHE") as err:
            data.cache_dir()
        assert str(root) in str(err.value)


def test_unknown_or_missing_devices_say_what_is_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setenv("GANLIB_DEVICE", "gpu")
    with pytest.raises(ValueError, match="not a device name.*available "
                                         "here: cpu;.*GANLIB_DEVICE"):
        device.get_device()
    monkeypatch.setenv("GANLIB_DEVICE", "mps")
    with pytest.raises(RuntimeError, match="'mps'.*available here: cpu;"):
        device.get_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(RuntimeError, match="available here: cpu, cuda;"):
        device.get_device()
    monkeypatch.setenv("GANLIB_DEVICE", "cpu")
    assert device.get_device() == torch.device("cpu")


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize("bad", [10, -1])
def test_conditional_models_reject_labels_out_of_range(bad):
    y = torch.tensor([0, 3, bad, 9])
    G = models.MLPGenerator(latent_dim=2, n_classes=10)
    D = models.DCGANDiscriminator(width=8, n_classes=10)
    with pytest.raises(ValueError, match=r"10 classes.*\[0, 9\].*"
                                         f"from {min(bad, 0)} to"):
        G(torch.randn(4, 2), y)
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        D(torch.zeros(4, 1, 28, 28), y)
    # labels in range give what the embedding gives
    z, y = torch.randn(4, 2), torch.tensor([0, 3, 5, 9])
    assert torch.equal(G(z, y), G.net(torch.cat([z, G.embed(y)], 1)))


# -------------------------------------------------------------- full MNIST


@pytest.fixture
def raw(cache):
    """An empty raw folder of full MNIST in a private cache."""
    data.resolve_source.cache_clear()
    data._full_split.cache_clear()
    folder = cache / "torchvision" / "MNIST" / "raw"
    folder.mkdir(parents=True)
    yield folder
    data.resolve_source.cache_clear()
    data._full_split.cache_clear()


def _idx_file(path, magic, n, item, cut=0):
    """An idx file with the right header and size (sparse), less ``cut``."""
    header = struct.pack(">II", magic, n) + b"\0" * (8 if magic == 2051 else 0)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + n * item - cut)


# torchvision's four files: idx magic number, items, bytes per item
_MNIST_FILES = {"train-images-idx3-ubyte": (2051, 60000, 784),
                "train-labels-idx1-ubyte": (2049, 60000, 1),
                "t10k-images-idx3-ubyte": (2051, 10000, 784),
                "t10k-labels-idx1-ubyte": (2049, 10000, 1)}


def _all_files(raw, cut_test_images=0):
    for name, (magic, n, item) in _MNIST_FILES.items():
        cut = cut_test_images if name.startswith("t10k-images") else 0
        _idx_file(raw / name, magic, n, item, cut)


def test_only_a_complete_full_mnist_folder_counts_as_on_disk(raw):
    assert not data._full_on_disk()
    _all_files(raw, cut_test_images=1)  # one byte short
    assert not data._full_on_disk()
    assert data._broken_full_files() == [raw / "t10k-images-idx3-ubyte"]
    _all_files(raw)
    assert data._full_on_disk() and data._broken_full_files() == []


def test_half_finished_download_offline_falls_back_naming_the_folder(
        raw, monkeypatch, capsys):
    monkeypatch.setattr(data, "_network_reachable", lambda timeout=3: False)
    _idx_file(raw / "t10k-images-idx3-ubyte", 2051, 10000, 784, cut=5000)
    assert data.resolve_source("auto") == "embedded"
    out = capsys.readouterr().out
    assert str(raw) in out and "incomplete" in out
    assert "t10k-images-idx3-ubyte" in out and "using the embedded" in out
    with pytest.raises(ConnectionError, match="rerun with a network"):
        data.load_mnist("test", "full")


def test_half_finished_download_online_is_downloaded_again(
        raw, monkeypatch, capsys):
    import torchvision.datasets

    monkeypatch.setattr(data, "_network_reachable", lambda timeout=3: True)
    _all_files(raw, cut_test_images=5000)
    seen = {}

    class FakeMNIST:  # stands in for torchvision's download, no network
        def __init__(self, root, train, download):
            seen["download"] = download
            seen["left"] = sorted(p.name for p in raw.iterdir())
            self.data = torch.zeros(3, 28, 28, dtype=torch.uint8)
            self.targets = torch.tensor([1, 2, 3])

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    images, labels = data._full_split("test")
    assert seen["download"] is True
    assert "t10k-images-idx3-ubyte" not in seen["left"]  # removed first
    assert len(seen["left"]) == 3
    assert images.shape == (3, 784) and labels.tolist() == [1, 2, 3]
    out = capsys.readouterr().out
    assert str(raw) in out and "downloading them again" in out
