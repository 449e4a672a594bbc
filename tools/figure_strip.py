"""Make one thumbnail per rendered notebook and print a markdown strip of them for the README.

    python tools/figure_strip.py notebooks/*.py                 # writes docs/strip/NN.jpg, prints <p>...</p>
    python tools/figure_strip.py --columns 7 notebooks/*.py     # prints a markdown table, 7 per row

The figures are outputs, so they are read from the rendered ``NN_name.ipynb`` (a source ``NN_name.py``
given on the command line stands for its rendered copy; the links point to the .ipynb). The figure is
the first image output of a code cell tagged ``strip``: put the tag on the cell in the .py source
(``# %% tags=["strip"]``) and ``make sync`` copies it into the .ipynb. Without such a cell, the largest
image output (by pixel count) is used. A notebook without image outputs is skipped with a message.
Thumbnails have a fixed height, are JPEG, and are kept under a byte budget.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
TAG = "strip"
HEIGHT = 160  # px; every thumbnail gets this height so the strip lines up
MAX_WIDTH = 4 * HEIGHT  # a very wide figure is cropped to its centre rather than shrunk to a sliver
QUALITY = 80
MAX_BYTES = 40_000
IMAGE_TYPES = ("image/png", "image/jpeg")


def image_outputs(cell: dict) -> list[Image.Image]:
    """Decode the PNG/JPEG outputs of one code cell, in order."""
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for mime in IMAGE_TYPES:
            if mime in data:
                raw = data[mime]
                raw = "".join(raw) if isinstance(raw, list) else raw
                found.append(Image.open(io.BytesIO(base64.b64decode(raw))))
                break
    return found


def pick_figure(nb: dict) -> tuple[int, Image.Image] | None:
    """Return (cell index, image): the first image of a cell tagged ``strip``, else the largest image; None if none."""
    candidates = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        imgs = image_outputs(cell)
        if imgs and TAG in cell.get("metadata", {}).get("tags", []):
            return index, imgs[0]
        candidates += [(index, img) for img in imgs]
    if not candidates:
        return None
    # max() keeps the first of equal sizes, so ties go to the earlier figure
    return max(candidates, key=lambda pair: pair[1].width * pair[1].height)


def thumbnail(img: Image.Image, height: int = HEIGHT, max_bytes: int = MAX_BYTES) -> bytes:
    """Return JPEG bytes of ``img`` scaled to ``height`` px (RGB, white behind transparency), at most ``max_bytes``."""
    img = img.convert("RGBA")
    flat = Image.new("RGB", img.size, "white")
    flat.paste(img, mask=img.getchannel("A"))
    width = max(1, round(flat.width * height / flat.height))
    small = flat.resize((width, height), Image.LANCZOS)
    if width > MAX_WIDTH:
        left = (width - MAX_WIDTH) // 2
        small = small.crop((left, 0, left + MAX_WIDTH, height))
    for quality in range(QUALITY, 20, -10):  # lower the quality only when the budget needs it
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue()
    raise ValueError(f"cannot fit a {small.size} thumbnail in {max_bytes} bytes")


def snippet(entries: list[tuple[Path, Path]], root: Path, columns: int = 0, shown_height: int = 80) -> str:
    """Markdown linking each thumbnail to its notebook: one ``<p>`` (columns=0) or a table ``columns`` wide."""

    def rel(p: Path) -> str:
        return Path(os.path.relpath(p.resolve(), root.resolve())).as_posix()

    cells = [
        f'<a href="{rel(nb)}"><img src="{rel(jpg)}" height="{shown_height}" alt="{nb.stem}" title="{nb.stem}"></a>'
        for nb, jpg in entries
    ]
    if columns <= 0:
        return "<p>\n" + "\n".join(cells) + "\n</p>"
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    rows[-1] += [""] * (columns - len(rows[-1]))
    # GitHub needs a header row; the first row of thumbnails serves as one
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " :---: |" * columns]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "strip", help="folder for NN.jpg (default docs/strip)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="links in the snippet are relative to this folder")
    parser.add_argument("--columns", type=int, default=0, help="table with this many columns; 0 = one <p> of images")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in args.notebooks:
        path = path.with_suffix(".ipynb")  # outputs live in the rendered copy of a source
        picked = pick_figure(json.loads(path.read_text(encoding="utf-8")))
        if picked is None:
            print(f"skipped {path}: no image outputs (render it first)", file=sys.stderr)
            continue
        index, img = picked
        jpg = args.out / f"{path.name.split('_')[0]}.jpg"  # NN_topic.ipynb -> NN.jpg
        jpg.write_bytes(thumbnail(img))
        print(f"{path.name}: cell {index} ({img.width}x{img.height}) -> {jpg}", file=sys.stderr)
        entries.append((path, jpg))
    if entries:
        print(snippet(entries, args.root, args.columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
