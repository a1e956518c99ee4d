"""The website: it builds in quick mode with warnings as errors, and every
page works in headless Chromium with no network beyond localhost.

With GANLIB_SITE=path/to/_build/html the browser checks run on that site
instead (the full-mode website, built by the README's main command).
"""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--no-first-run"]
# where screenshots go, so a failing run can be inspected afterwards
SHOTS = Path(os.environ.get("GANLIB_SCREENSHOTS",
                            ROOT / "_build" / "screenshots"))


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"]
                            for c in part["chapters"]]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    built = os.environ.get("GANLIB_SITE")
    if built:  # check a site built elsewhere, e.g. the full-mode website
        html = Path(built)
        if not (html / "index.html").is_file():
            pytest.fail(f"GANLIB_SITE={built} holds no built site (no "
                        "index.html); point it at _build/html")
        return html
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "GANLIB_QUICK": "1", "TQDM_DISABLE": "1"}
    env.pop("MPLBACKEND", None)  # Agg would keep figures off the pages
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else shutil.which("jupyter-book"),
           "build", str(ROOT), "--path-output", str(out), "-W",
           "--keep-going"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=3000)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return out / "_build" / "html"


def test_book_builds_every_toc_page(site):
    for page in toc_pages():
        assert (site / f"{page}.html").is_file(), f"{page} was not built"


@pytest.fixture(scope="module")
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        if os.environ.get("GANLIB_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here but not installed")
        pytest.skip("no Chromium on this machine (.ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def visit(browser, url: str) -> dict:
    """Open url offline; return errors, outside requests, links, images."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" else None)

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith("data:") or host == "127.0.0.1":
            return r.continue_()
        outside.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    response = page.goto(url, wait_until="networkidle")
    page.evaluate("""async () => {
        if (window.MathJax && MathJax.startup) {
            await MathJax.startup.promise;
        }}""")
    info = page.evaluate("""() => ({
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
        images: document.querySelectorAll('main img').length,
        broken_images: [...document.querySelectorAll('img')]
            .filter(i => !(i.complete && i.naturalWidth > 0))
            .map(i => i.src),
        // images of the article with neither alt text nor a caption;
        // docutils writes the file's path as alt when none was given
        no_alt: (() => {
            const root = document.querySelector('article')
                || document.querySelector('main');
            if (!root) return [];
            return [...root.querySelectorAll('img')].filter(i => {
                const alt = (i.getAttribute('alt') || '').trim();
                const src = i.getAttribute('src') || '';
                const named = alt !== '' && alt !== src
                    && !/\\.(png|jpe?g|gif|svg|webp)$/i.test(alt);
                const fig = i.closest('figure');
                const cap = fig && fig.querySelector('figcaption');
                return !named && !(cap && cap.textContent.trim());
            }).map(i => i.id ? '#' + i.id : (i.getAttribute('src') || ''));
        })(),
        // prose only: code listings may show TeX inside docstrings
        text: (() => {
            const main = document.querySelector('main');
            if (!main) return '';
            const copy = main.cloneNode(true);
            copy.querySelectorAll('pre, code, .highlight, .output')
                .forEach(e => e.remove());
            return copy.innerText || copy.textContent;
        })(),
        math: document.querySelectorAll('.math').length,
        typeset: document.querySelectorAll('mjx-container').length,
        launch: [...document.querySelectorAll('a[href]')]
            .map(a => a.href).filter(h => h.includes('colab.research')
                                     || h.includes('mybinder.org')),
    })""")
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = urlparse(url).path.strip("/").replace("/", "_") or "index"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    page.close()
    status = response.status if response is not None else None
    return {**info, "errors": errors, "outside": outside, "status": status}


def test_every_page_works_offline(browser, server):
    reached, queue, results = set(), [server + "index.html"], {}
    while queue:  # every chapter must be reachable from the front page
        url = queue.pop().split("#")[0]
        if url in reached or not url.endswith(".html"):
            continue
        reached.add(url)
        results[url] = visit(browser, url)
        queue += [u for u in results[url]["links"] if u.startswith(server)
                  and "/_modules/" not in u and "genindex" not in u
                  and "search.html" not in u]
    broken = [u for u, r in results.items() if r["status"] != 200]
    assert not broken, f"internal links to pages that do not exist: {broken}"
    notebooks = {p.relative_to(ROOT).with_suffix("").as_posix()
                 for p in (ROOT / "chapters").glob("*.ipynb")}
    no_alt = {}  # reported together after the loop, every page at once
    for page in toc_pages():
        url = urljoin(server, f"{page}.html")
        assert url in results, f"{page} is not reachable from the front page"
        r = results[url]
        assert not r["outside"], f"{page}: requests outside the site " \
                                 f"{r['outside'][:3]}"
        assert not r["errors"], f"{page}: JavaScript errors {r['errors']}"
        assert not r["broken_images"], f"{page}: images that do not load " \
                                       f"{r['broken_images'][:3]}"
        if r["no_alt"]:
            no_alt[page] = r["no_alt"]
        for raw in ("$$", "\\frac", "\\begin{", "\\mathbb"):
            assert raw not in r["text"], f"{page}: raw TeX {raw!r} on page"
        assert r["typeset"] >= r["math"], f"{page}: math left untypeset"
        if page in notebooks:
            assert r["images"] > 0, f"{page}: a chapter page with no figure"
            assert any("colab" in u for u in r["launch"]), \
                f"{page}: no Colab launch button"
            assert any("mybinder" in u for u in r["launch"]), \
                f"{page}: no Binder launch button"
    assert not no_alt, (
        "images with neither alt text nor a caption (give the notebook cell "
        "mystnb.image.alt metadata, or pass alt= to the animation):\n"
        + "\n".join(f"  {page}: {len(srcs)} images, e.g. {srcs[:3]}"
                     for page, srcs in no_alt.items()))
