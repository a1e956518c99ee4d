"""The website builds in quick mode with Sphinx warnings as errors."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_without_warnings(tmp_path):
    out = tmp_path / "site"
    env = {**os.environ, "GANLIB_QUICK": "1", "TQDM_DISABLE": "1",
           "MPLBACKEND": "Agg"}
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else shutil.which("jupyter-book"),
           "build", str(ROOT), "--path-output", str(out), "-W",
           "--keep-going"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=3000)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    html = out / "_build" / "html"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [c["file"] for part in toc["parts"]
                             for c in part["chapters"]]
    for page in pages:
        assert (html / f"{page}.html").is_file(), f"{page} was not built"
