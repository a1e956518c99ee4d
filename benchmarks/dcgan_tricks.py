"""Chapter 8's DCGAN comparison: chapter 6's recipe with and without two
tricks on D, at chapter 6's budget.

Both arms train chapter 6's recipe (``recipes.dcgan_recipe()``: its steps,
batch, learning rates, EMA and seed); the trick arm adds spectral
normalisation of every layer of D and one-sided label smoothing
(``tricks.train_dcgan``). Each is scored like chapter 6, on 2,000 samples
of G's moving average against the test digits: the classifier's Frechet
distance, the confident share and class shares, and precision, recall,
density and coverage in the classifier's features. Each arm costs about
chapter 6's training time, more than chapter 8's minutes can hold, so
this script runs them and saves

* ``ganlib/reports/dcgan_tricks.json`` (read by chapter 8), and
* ``benchmarks/dcgan-tricks.md`` (the printed comparison).

An arm is saved as soon as it is scored; a rerun skips saved arms.

    python benchmarks/dcgan_tricks.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from ganlib import classifier, data, device, metrics, recipes, tricks

HERE = Path(__file__).resolve().parent
JSON_OUT = HERE.parent / "ganlib" / "reports" / "dcgan_tricks.json"
MD_OUT = HERE / "dcgan-tricks.md"
ARMS = {"baseline (chapter 6 recipe)": False,
        "+ spectral norm + label smoothing": True}
N_EVAL = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="override the recipe's steps (a smoke test)")
    parser.add_argument("--n-eval", type=int, default=N_EVAL)
    parser.add_argument("--json", type=Path, default=JSON_OUT)
    parser.add_argument("--md", type=Path, default=MD_OUT)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    recipe = recipes.dcgan_recipe()
    if args.steps is not None:
        recipe = dataclasses.replace(recipe, steps=args.steps)
    dev = device.get_device()
    as_dict = dataclasses.asdict(recipe)
    as_dict["betas"] = list(as_dict["betas"])
    report = None
    if args.json.exists() and not args.fresh:
        report = json.loads(args.json.read_text())
        if report.get("recipe") != as_dict or \
                report.get("n_eval") != args.n_eval:
            report = None
    if report is None:
        report = {"recipe": as_dict, "n_eval": args.n_eval, "arms": {}}
    report.update(machine=device.cpu_name(), precision=device.precision(dev),
                  data=data.resolve_source(None))
    clf = classifier.load_classifier(device=dev)
    x_train, _ = data.load_mnist("train", device=dev)
    x_test, _ = data.load_mnist("test", device=dev)
    print(f"{device.describe()}; {recipe}")
    for label, with_tricks in ARMS.items():
        if label in report["arms"]:
            print(f"{label}: saved")
            continue
        t0 = time.perf_counter()
        G_ema = tricks.train_dcgan(recipe, with_tricks, x_train, device=dev)
        seconds = time.perf_counter() - t0
        torch.manual_seed(1)  # the same noise for both arms' samples
        with torch.no_grad():
            z = torch.randn(args.n_eval, recipe.latent_dim, device=dev)
            x_fake = G_ema(z)
        q = metrics.sample_quality(clf, x_fake)
        report["arms"][label] = {
            "seconds": round(seconds, 1),
            "fd": metrics.classifier_fd(clf, x_fake, x_test),
            "confident": q.confident, "class_share": q.class_share,
            "prdc": metrics.classifier_prdc(clf, x_fake, x_test),
            "samples": ((x_fake[:64].cpu() + 1) * 127.5).round().byte()
            .flatten(1).tolist()}
        report["date"] = time.strftime("%Y-%m-%d")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(report) + "\n")
        tmp.replace(args.json)
        print(f"{label}: trained in {seconds:.0f} s")
    lines = [device.describe(), f"recipe: {recipe}",
             f"{args.n_eval} samples of G's moving average per arm, scored "
             "against the test digits", ""]
    for label, r in report["arms"].items():
        m = r["prdc"]
        lines.append(
            f"{label}: FD {r['fd']:.2f}, {r['confident']:.1%} confident, "
            f"class shares {min(r['class_share']):.1%}-"
            f"{max(r['class_share']):.1%}, precision {m['precision']:.3f}, "
            f"recall {m['recall']:.3f}, density {m['density']:.3f}, "
            f"coverage {m['coverage']:.3f}; {r['seconds']:.0f} s")
    print("\n".join(lines))
    args.md.write_text(
        f"Output of `python benchmarks/dcgan_tricks.py` ({report['date']}, "
        f"{report['machine']}, {report['precision']}, {report['data']} "
        "data):\n\n```\n" + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
