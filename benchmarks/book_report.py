"""Run every chapter and report its wall time and peak memory.

Each notebook runs in its own process (nbclient with a fresh kernel), in
quick mode, full mode or both; the table is printed and written as
Markdown to ``benchmarks/report-<mode>.md``, which the teachers' guide
shows.

    python benchmarks/book_report.py --mode quick
    python benchmarks/book_report.py --mode full chapters/06_dcgan.ipynb
    python benchmarks/book_report.py --mode full --save /tmp/executed
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from ganlib import device

ROOT = Path(__file__).resolve().parents[1]
# seconds per notebook on the reference machine (2 cores), with margin:
# a machine 1.8x slower still runs every chapter within SLOW_LIMIT
LIMITS = {"quick": 60, "full": 150}
LONGER = {"06_dcgan": 240, "08_training_tricks": 240,
          "10_semi_supervised": 240}  # full-mode allowances
SLOW_LIMIT = 300  # seconds per chapter on a machine 1.8x slower
BOOK_LIMITS = {"quick": 600, "full": 1200}  # seconds for the whole book
MEMORY_LIMIT_MB = 4096

RUNNER = r"""
import json, re, resource, sys, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=1800, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
wall = time.perf_counter() - start
if len(sys.argv) > 3:  # keep the executed notebook, outputs and all
    nbformat.write(nb, sys.argv[3])
# every printed verdict on a target, as the chapter printed it
targets = [line.strip() for cell in nb.cells if cell.cell_type == "code"
           for out in cell.get("outputs", []) if out.get("name") == "stdout"
           for line in out.get("text", "").splitlines()
           if re.search(r"\b(reached|missed)\b", line)]
# the kernel is this process's child: its peak resident memory in KiB
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "peak_mb": peak, "targets": targets}))
"""


def run_notebook(path: Path, mode: str, save: Path | None = None) -> dict:
    env = {**os.environ, "GANLIB_QUICK": "1" if mode == "quick" else "0",
           "TQDM_DISABLE": "1"}
    env.setdefault("GANLIB_DATA", "embedded")
    argv = [sys.executable, "-c", RUNNER, str(path), str(path.parent)]
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        argv.append(str(save / path.name))
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--mode", choices=("quick", "full", "both"),
                        default="quick")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="write the report here instead of "
                             "benchmarks/report-<mode>.md")
    parser.add_argument("--save", type=Path, metavar="DIR",
                        help="also write the executed notebooks to "
                             "DIR/<mode>/")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    modes = ("quick", "full") if args.mode == "both" else (args.mode,)
    for mode in modes:
        header = (f"Measured {time.strftime('%Y-%m-%d')} on {device.cpu_name()} "
                  f"({platform.machine()}, {os.cpu_count()} CPU cores), "
                  f"torch {torch.__version__}, {device.get_device().type}, {device.precision()}, {mode} mode, "
                  "embedded data.")
        rows, total, targets = [], 0.0, []
        for path in paths:
            r = run_notebook(path, mode,
                             args.save / mode if args.save else None)
            limit = LIMITS[mode] if mode == "quick" else \
                LONGER.get(path.stem, LIMITS["full"])
            if "error" in r:
                rows.append(f"| {path.stem} | failed | | {r['error']} |")
                print(rows[-1], flush=True)
                continue
            total += r["wall"]
            targets += [f"- {path.stem}: {t}" for t in r["targets"]]
            ok = r["wall"] <= limit and r["peak_mb"] <= MEMORY_LIMIT_MB
            slow = "" if mode == "quick" else \
                f" {'within' if r['wall'] <= SLOW_LIMIT else 'over'} " \
                f"{SLOW_LIMIT} s |"
            rows.append(f"| {path.stem} | {r['wall']:.0f} s | "
                        f"{r['peak_mb']:.0f} MB | "
                        f"{'within' if ok else 'over'} {limit} s, 4 GB |"
                        + slow)
            print(rows[-1], flush=True)
        book_limit = BOOK_LIMITS[mode]
        columns = "| chapter | wall time | peak memory | target |" + (
            "" if mode == "quick" else " allowance of a 1.8x slower machine |")
        rule = "|" + " --- |" * (columns.count("|") - 1)
        lines = [header, "", columns, rule, *rows, "",
                 f"Whole book: {total / 60:.1f} minutes (target: at most "
                 f"{book_limit // 60} minutes).", "",
                 "Every verdict on a target the chapters printed"
                 + (" (quick mode's tiny budgets test the code paths, "
                    "not the targets):" if mode == "quick" else ":"), "",
                 *targets]
        text = "\n".join(lines) + "\n"
        print("\n" + text)
        out = args.report or ROOT / "benchmarks" / f"report-{mode}.md"
        out.write_text(text)


if __name__ == "__main__":
    main()
