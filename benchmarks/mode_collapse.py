"""Chapter 8's mode-collapse table: every method under one protocol.

Every method of ``tricks.METHODS``, the vanilla GAN included, trains with
the same steps, widths, batch, learning-rate schedule and seeds
(``tricks.PROTOCOL``) on ring-8 and grid-25, and is scored on 2,500
samples per seed: modes captured, high-quality share and reverse KL to
the uniform mode histogram. Methods whose discriminator supports it
(``tricks.DRS_METHODS``) get a second row, the same generators sampled
through discriminator rejection sampling; the two rows are never merged
into a best-of. The best row of each benchmark is chosen by the table's
rule (``tricks.rank_key``) on these seeds, and chapter 8 re-runs it and
the vanilla GAN on fresh seeds as a check.

The table costs far more than a chapter's minutes (unrolling, a 5-step
critic, GAP's four pairs and minibatch discrimination's pairwise layer
multiply a step's cost), so this script runs it and saves

* ``ganlib/reports/mode_collapse.json`` (read by chapter 8 through
  ``tricks.load_report()``, shipped with ganlib), and
* ``benchmarks/mode-collapse.md`` (the printed table).

Results are written after every method: an interrupted run resumes where
it stopped (``--fresh`` starts over).

    python benchmarks/mode_collapse.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ganlib import data, device, tricks

HERE = Path(__file__).resolve().parent
JSON_OUT = HERE.parent / "ganlib" / "reports" / "mode_collapse.json"
MD_OUT = HERE / "mode-collapse.md"
N_FIGURE = 500  # samples of seed 0 kept per row, for the chapter's figures


def _score_dict(score) -> dict:
    return {"modes": score.modes, "high_quality": round(score.high_quality,
                                                        4),
            "kl": round(score.kl, 4), "counts": score.counts}


def _mean(rows: list[dict], field: str) -> float:
    return float(np.mean([r[field] for r in rows]))


def choose(report: dict) -> dict:
    """The best row per benchmark by the table's rule, and its verdict."""
    chosen = {}
    for name, (need, hq_need) in tricks.GOALS.items():
        rows = [(m, how, s[name]) for m, how, s in tricks.table_rows(report)]
        m, how, scores = max(rows, key=lambda r: tricks.rank_key(
            _mean(r[2], "modes"), _mean(r[2], "high_quality"), need))
        n_modes, hq = _mean(scores, "modes"), _mean(scores, "high_quality")
        chosen[name] = {"method": m, "sampling": how, "modes": n_modes,
                        "high_quality": hq,
                        "reached": n_modes >= need and hq >= hq_need}
    return chosen


def _save(report: dict, path: Path) -> None:
    report["chosen"] = choose(report)
    report["date"] = time.strftime("%Y-%m-%d")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report) + "\n")
    tmp.replace(path)  # a crash never leaves half a file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="override the protocol's steps (a smoke test)")
    parser.add_argument("--methods", nargs="*", default=None,
                        help="run only these methods")
    parser.add_argument("--json", type=Path, default=JSON_OUT)
    parser.add_argument("--md", type=Path, default=MD_OUT)
    parser.add_argument("--fresh", action="store_true",
                        help="discard saved results and start over")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="saved tables of the same protocol (e.g. from "
                             "a second process) whose methods to take over")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (matrices this small gain "
                             "little from more)")
    args = parser.parse_args()
    protocol = tricks.PROTOCOL
    if args.steps is not None:
        protocol = dataclasses.replace(protocol, steps=args.steps)
    methods = args.methods or list(tricks.METHODS)
    unknown = set(methods) - set(tricks.METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from "
                     f"{list(tricks.METHODS)}")
    torch.set_num_threads(args.threads)
    dev = device.get_device()
    targets = {"ring-8": data.ring8(device=dev),
               "grid-25": data.grid25(device=dev)}
    proto = dataclasses.asdict(protocol)
    proto["hidden"] = list(protocol.hidden)
    report = None
    if args.json.exists() and not args.fresh:
        report = json.loads(args.json.read_text())
        if report.get("protocol") != proto:
            print(f"{args.json} holds another protocol; starting over")
            report = None
    if report is None:
        report = {"protocol": proto, "methods": {}}
    for other in args.merge:
        theirs = json.loads(other.read_text())
        if theirs.get("protocol") != proto:
            parser.error(f"{other} was run with another protocol")
        report["methods"].update(theirs["methods"])
    report.update(machine=device.cpu_name(), precision=device.precision(dev),
                  threads=torch.get_num_threads(), torch=torch.__version__,
                  device=str(dev))
    todo = [m for m in methods if m not in report["methods"]]
    print(f"{device.describe()}; protocol {proto}; "
          f"{len(methods) - len(todo)} of {len(methods)} methods saved")
    if args.merge:
        _save(report, args.json)
    for method in tqdm(todo, desc="methods"):
        res = tricks.run_method(method, targets, protocol, device=dev)
        entry = {"seconds": round(res["seconds"], 1), "scores": {},
                 "kept": {}, "samples": {}}
        for name in targets:
            entry["scores"][name] = {
                how: None if sc is None else [_score_dict(s) for s in sc]
                for how, sc in res["scores"][name].items()}
            entry["kept"][name] = res["kept"][name]
            entry["samples"][name] = {
                how: None if x is None else
                np.round(x[0, :N_FIGURE].numpy(), 3).tolist()
                for how, x in res["samples"][name].items()}
        report["methods"][method] = entry
        _save(report, args.json)
        tqdm.write(f"{method}: {entry['seconds']:.0f} s")
    lines = [device.describe(),
             f"protocol: {proto}", "mean ± std over "
             f"{protocol.seeds} seeds; HQ = high-quality share, KL = "
             "reverse KL to the uniform mode histogram", ""]
    lines += tricks.format_table(report)
    lines.append("")
    for name, c in report.get("chosen", {}).items():
        need, hq_need = tricks.GOALS[name]
        label = c["method"] + (" + DRS" if c["sampling"] == "drs" else "")
        lines.append(f"best row on {name} (table rule): {label}, "
                     f"{c['modes']:.1f} modes, {c['high_quality']:.1%} HQ; "
                     f"target >= {need} modes and >= {hq_need:.0%}: "
                     f"{'reached' if c['reached'] else 'missed'}")
    secs = {m: e["seconds"] for m, e in report["methods"].items()}
    lines.append("")
    lines.append("seconds per method (both benchmarks, all seeds): "
                 + ", ".join(f"{m} {s:.0f}" for m, s in secs.items()))
    print("\n".join(lines))
    missing = [m for m in tricks.METHODS if m not in report["methods"]]
    note = (f"\n\nNot yet run: {', '.join(missing)}." if missing else "")
    args.md.write_text(
        f"Output of `python benchmarks/mode_collapse.py` "
        f"({report['date']}, {report['machine']}, {report['precision']}, "
        f"{report['threads']} thread(s)):\n\n```\n" + "\n".join(lines)
        + "\n```" + note + "\n")


if __name__ == "__main__":
    main()
