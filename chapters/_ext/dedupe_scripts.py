"""Keep one copy of each inline script in every page's head.

sphinx-thebe and sphinx-togglebutton register their inline configuration
scripts (``const THEBE_JS_URL = ...``) each time Sphinx reads the
environment, and Jupyter Book reads it twice, so every page declared the
constants twice and raised a JavaScript error. After the build, this
drops the repeated inline scripts from the written pages.
"""

import re
from pathlib import Path

INLINE = re.compile(r"^\s*<script>.*</script>\s*$")


def dedupe_file(path: Path) -> bool:
    """Remove repeated one-line inline scripts; True if the file changed."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    seen, out = set(), []
    for line in lines:
        if INLINE.match(line):
            if line.strip() in seen:
                continue
            seen.add(line.strip())
        out.append(line)
    if len(out) == len(lines):
        return False
    path.write_text("".join(out), encoding="utf-8")
    return True


def _dedupe_site(app, exception):
    if exception is None and app.builder.format == "html":
        for page in Path(app.outdir).rglob("*.html"):
            dedupe_file(page)


def setup(app):
    app.connect("build-finished", _dedupe_site)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
