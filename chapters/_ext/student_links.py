"""Link every chapter page to its student notebook: a download and Colab.

The website's pages are the teacher's notebooks, solutions included, so
the theme's Colab launch button is off (``_config.yml``). Instead, under
the title of every chapter made from a notebook, this puts a box with two
links to the student version that ``python -m ganlib.student`` makes:

- a download of ``<student_site_dir>/<chapter>.ipynb``, which the
  website workflow publishes beside the pages;
- Colab, which opens notebooks from GitHub: the workflow pushes the same
  notebooks to the branch ``student_branch`` of the book's repository
  (``repository: url:`` in ``_config.yml``).
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlparse

from docutils import nodes

COLAB = "https://colab.research.google.com"


def github_repo(url: str) -> tuple[str, str] | None:
    """(owner, name) of a GitHub repository address, else None."""
    parts = urlparse(url or "")
    path = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.hostname != "github.com" or len(path) != 2 or not all(path):
        return None
    return path[0], path[1]


def student_links(docname: str, config) -> dict[str, str]:
    """The student notebook's download and Colab addresses for a page.

    ``docname`` is the page's Sphinx name, e.g. ``chapters/06_dcgan``; the
    download address is relative to that page. Colab is left out when the
    book's repository is not on GitHub.
    """
    name = posixpath.basename(docname) + ".ipynb"
    target = posixpath.join(config.student_site_dir, name)
    links = {"download": posixpath.relpath(
        target, posixpath.dirname(docname) or ".")}
    repo = github_repo(config.html_theme_options.get("repository_url", ""))
    if repo:
        owner, project = repo
        links["colab"] = (f"{config.student_colab_url.rstrip('/')}/github/"
                          f"{owner}/{project}/blob/{config.student_branch}/"
                          f"{name}")
    return links


def links_box(links: dict[str, str]) -> nodes.admonition:
    """The box under a chapter's title: download it, or open it in Colab."""
    para = nodes.paragraph()
    para += nodes.Text("The exercises without their solutions, for "
                       "homework: ")
    para += nodes.reference("", "download the student notebook",
                            refuri=links["download"])
    if "colab" in links:
        para += nodes.Text(" or ")
        para += nodes.reference("", "open it in Colab",
                                refuri=links["colab"])
    para += nodes.Text(".")
    box = nodes.admonition(classes=["tip", "student-version"])
    box += nodes.title("", "Student version")
    box += para
    return box


def is_chapter_notebook(app, docname: str) -> bool:
    """True for pages made from a notebook (the chapters)."""
    return str(app.env.doc2path(docname)).endswith(".ipynb")


def add_student_links(app, doctree: nodes.document, docname: str) -> None:
    """Put the student-version box under the first title of a chapter."""
    if not is_chapter_notebook(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children \
            or not isinstance(section[0], nodes.title):
        return  # a page without a title has no place for the box
    section.insert(1, links_box(student_links(docname, app.config)))


def setup(app):
    app.add_config_value("student_site_dir", "student", "html")
    app.add_config_value("student_branch", "student", "html")
    app.add_config_value("student_colab_url", COLAB, "html")
    app.connect("doctree-resolved", add_student_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
