"""Set two full-mode book reports side by side: one run in float32, one
under bfloat16 autocast (``GANLIB_AMP=0`` / ``GANLIB_AMP=1``).

    python benchmarks/compare_precisions.py FP32.md BF16.md \\
        > benchmarks/precision-report.md

Each chapter's wall time, then every target line it printed, in the order
printed, from both runs.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path


def parse(path: Path) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """The report's header, wall time per chapter, target lines per
    chapter."""
    lines = path.read_text().splitlines()
    times: dict[str, str] = {}
    targets: dict[str, list[str]] = {}
    for line in lines:
        row = re.match(r"\| (\d\d_\w+) \| ([^|]+) \|", line)
        if row:
            times[row[1]] = row[2].strip()
        item = re.match(r"- (\d\d_\w+): (.*)", line)
        if item:
            targets.setdefault(item[1], []).append(item[2])
    return lines[0], times, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fp32", type=Path)
    parser.add_argument("bf16", type=Path)
    args = parser.parse_args()
    head_a, time_a, tgt_a = parse(args.fp32)
    head_b, time_b, tgt_b = parse(args.bf16)
    print("# Every chapter's targets in float32 and in bfloat16\n")
    print(f"Written by `python benchmarks/compare_precisions.py` from two "
          f"full-mode runs of `benchmarks/book_report.py`:\n\n- float32: "
          f"{head_a}\n- bfloat16: {head_b}\n")
    for chapter in sorted(set(time_a) | set(time_b)):
        print(f"## {chapter}: {time_a.get(chapter, '-')} in float32, "
              f"{time_b.get(chapter, '-')} in bfloat16\n")
        a, b = tgt_a.get(chapter, []), tgt_b.get(chapter, [])
        for i in range(max(len(a), len(b))):
            print(f"- float32:  {a[i] if i < len(a) else '(none)'}")
            print(f"  bfloat16: {b[i] if i < len(b) else '(none)'}")
        if not (a or b):
            print("(no target lines)")
        print()


if __name__ == "__main__":
    main()
