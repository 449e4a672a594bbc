"""tools/figure_strip.py on tiny synthetic notebooks: which figure is picked, thumbnail size, skipping."""

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "figure_strip.py"
sys.path.insert(0, str(ROOT / "tools"))
import figure_strip  # noqa: E402


def png(size: tuple[int, int], color: str, mode: str = "RGB") -> str:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def image_cell(*pngs: str, tags=()) -> dict:
    outputs = [
        {"output_type": "display_data", "data": {"image/png": p, "text/plain": ["<Figure>"]}, "metadata": {}}
        for p in pngs
    ]
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {"tags": list(tags)},
        "outputs": outputs,
        "source": "",
    }


def write_nb(path: Path, cells: list[dict]) -> Path:
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def run_tool(tmp_path: Path, *notebooks: Path) -> subprocess.CompletedProcess:
    args = [sys.executable, str(TOOL), "--out", str(tmp_path / "strip"), "--root", str(tmp_path), *map(str, notebooks)]
    return subprocess.run(args, capture_output=True, text=True)


def test_largest_image_wins_without_a_tag(tmp_path):
    small, large = png((300, 200), "red"), png((800, 400), "blue")
    nb = write_nb(
        tmp_path / "03_demo.ipynb",
        [{"cell_type": "markdown", "metadata": {}, "source": "# hi"}, image_cell(small), image_cell(large)],
    )
    result = run_tool(tmp_path, nb)
    assert result.returncode == 0, result.stderr
    thumb = Image.open(tmp_path / "strip" / "03.jpg")
    assert thumb.height == figure_strip.HEIGHT and thumb.width == 320  # 800x400 scaled to height 160
    r, g, b = thumb.convert("RGB").getpixel((thumb.width // 2, thumb.height // 2))
    assert b > 200 and r < 50  # the blue (larger) figure
    assert '<a href="03_demo.ipynb"><img src="strip/03.jpg"' in result.stdout


def test_tagged_cell_wins_with_its_first_image(tmp_path):
    cells = [
        image_cell(png((900, 900), "blue")),
        image_cell(png((200, 100), "red"), png((1000, 1000), "blue"), tags=["strip"]),
    ]
    index, img = figure_strip.pick_figure({"cells": cells})
    assert index == 1 and img.size == (200, 100)
    run_tool(tmp_path, write_nb(tmp_path / "07_demo.ipynb", cells))
    r, g, b = Image.open(tmp_path / "strip" / "07.jpg").convert("RGB").getpixel((5, 5))
    assert r > 200 and b < 50


def test_thumbnails_stay_small_even_for_noisy_wide_figures(tmp_path):
    noise = Image.effect_noise((3000, 600), 120).convert("RGB")  # hard to compress, 5:1
    data = figure_strip.thumbnail(noise)
    thumb = Image.open(io.BytesIO(data))
    assert thumb.format == "JPEG" and thumb.height == figure_strip.HEIGHT
    assert thumb.width <= figure_strip.MAX_WIDTH and len(data) <= figure_strip.MAX_BYTES
    transparent = Image.open(io.BytesIO(figure_strip.thumbnail(Image.new("RGBA", (100, 100), (0, 0, 0, 0)))))
    assert transparent.getpixel((50, 50)) >= (250, 250, 250)  # white behind transparency, not black


def test_notebook_without_images_is_skipped_with_a_message(tmp_path):
    empty = write_nb(
        tmp_path / "10_empty.ipynb",
        [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "x = 1"}],
    )
    full = write_nb(tmp_path / "11_full.ipynb", [image_cell(png((320, 160), "green"))])
    result = run_tool(tmp_path, empty, full)
    assert result.returncode == 0
    assert "skipped" in result.stderr and "10_empty.ipynb" in result.stderr
    assert not (tmp_path / "strip" / "10.jpg").exists() and (tmp_path / "strip" / "11.jpg").exists()
    assert "10_empty" not in result.stdout and "11_full" in result.stdout


def test_table_layout_has_the_requested_columns(tmp_path):
    entries = [(tmp_path / f"{i:02d}_x.ipynb", tmp_path / f"{i:02d}.jpg") for i in range(9)]
    lines = figure_strip.snippet(entries, tmp_path, columns=7).splitlines()
    assert len(lines) == 3 and lines[1].count(":---:") == 7
    assert all(line.count("|") == 8 for line in lines)


def test_a_source_stands_for_its_rendered_notebook(tmp_path):
    write_nb(tmp_path / "05_demo.ipynb", [image_cell(png((320, 160), "green"))])
    (tmp_path / "05_demo.py").write_text("# %%\nx = 1\n")  # the source: no outputs of its own
    result = run_tool(tmp_path, tmp_path / "05_demo.py")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "strip" / "05.jpg").exists()
    assert '<a href="05_demo.ipynb">' in result.stdout  # the link opens the rendered notebook
