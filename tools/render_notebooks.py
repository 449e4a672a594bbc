"""Execute notebooks in full mode and save their outputs in place (``make render``).

    python tools/render_notebooks.py notebooks/00_setup_and_tour.ipynb ...
    python tools/render_notebooks.py --clean notebooks/*.ipynb   # tidy saved outputs only

Widget state is dropped (it is large and useless on GitHub), and so are finished progress
bars (in a live notebook they disappear; saved, they are clutter); figures stay as images.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


_BAR = re.compile(r"\d+%\|.*\| *\d+/\d+")  # tqdm's "40%|████      | 32/80"


def is_progress_bar(output) -> bool:
    """True for a tqdm bar saved as a widget or as stderr text."""
    if output.get("output_type") == "stream":
        return output.get("name") == "stderr" and all(_BAR.search(line) or not line.strip()
                                                       for line in output.get("text", "").split("\r"))
    data = output.get("data", {})
    return "application/vnd.jupyter.widget-view+json" in data and bool(_BAR.search(data.get("text/plain", "")))


def render(path: Path, timeout: int = 900) -> float:
    """Run ``path`` top to bottom in its own folder with COURSE_FAST unset; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    clean(nb)
    nbformat.write(nb, path)
    return seconds


def clean(nb) -> None:
    """Drop widget state and finished progress bars from a notebook's saved outputs, in place."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not is_progress_bar(o)]


def main(paths: list[str]) -> None:
    if paths and paths[0] == "--clean":  # only tidy saved outputs, run nothing
        for name in paths[1:]:
            nb = nbformat.read(name, as_version=4)
            clean(nb)
            nbformat.write(nb, name)
        return
    os.environ.pop("COURSE_FAST", None)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in paths:
        seconds = render(Path(name))
        size = Path(name).stat().st_size / 2**20
        print(f"{name}: {seconds:.0f} s, {size:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
