"""Execute notebooks in full mode and save their outputs in place (``make render``).

    python tools/render_notebooks.py notebooks/00_setup_and_tour.ipynb ...

Widget state is dropped (it is large and useless on GitHub); figures stay as PNG outputs.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def render(path: Path, timeout: int = 900) -> float:
    """Run ``path`` top to bottom in its own folder with COURSE_FAST unset; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return seconds


def main(paths: list[str]) -> None:
    os.environ.pop("COURSE_FAST", None)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in paths:
        seconds = render(Path(name))
        size = Path(name).stat().st_size / 2**20
        print(f"{name}: {seconds:.0f} s, {size:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
