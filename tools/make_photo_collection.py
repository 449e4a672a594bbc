"""Make data/photos/: the course's photo collection, resized copies of natural photos inside Debian packages.

    apt-get install opencv-doc mate-backgrounds lomiri-wallpapers plasma-workspace-wallpapers
    python tools/make_photo_collection.py            # writes data/photos/*.jpg and their MANIFEST.json entries

Each photo below is a file of an installed Debian package. The tool reads the author and licence
of each from the package itself (its DEP-5 ``copyright`` file, or a KDE wallpaper's ``metadata.json``),
shrinks the photo so its short side is at most ``SHORT_SIDE`` pixels, saves it as JPEG, and records
name, source, author, licence and checksum under ``"photos"`` and ``"files"`` in data/MANIFEST.json.
It also rewrites the photo table of data/README.md. Logos, diagrams, chessboards, renders, cartoons and
text pages of the same packages are left out on purpose.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from course_utils.data import MANIFEST_FILE, sha256

ROOT = Path(__file__).resolve().parent.parent
SHORT_SIDE = 384
OPENCV = "/usr/share/doc/opencv-doc/examples/data/"
MATE = "/usr/share/backgrounds/mate/nature/"
BACKGROUNDS = "/usr/share/backgrounds/"
PLASMA = "/usr/share/wallpapers/"

#: name -> (file in a Debian package, what it shows). KDE wallpapers are named by their folder.
PHOTOS: dict[str, tuple[str, str]] = {
    # opencv-doc: the images of OpenCV's samples/data folder
    "aerial_city": (OPENCV + "aero1.jpg", "a city from the air (view 1 of 2)"),
    "aerial_city_2": (OPENCV + "aero3.jpg", "the same city from the air (view 2 of 2)"),
    "aloe_left": (OPENCV + "aloeL.jpg", "an aloe in a pot, left view of a stereo pair (Middlebury)"),
    "aloe_right": (OPENCV + "aloeR.jpg", "the aloe, right view of the stereo pair"),
    "apple": (OPENCV + "apple.jpg", "a red apple"),
    "baboon": (OPENCV + "baboon.jpg", "a mandrill's face (the classic 'baboon' test image)"),
    "basketball": (OPENCV + "basketball1.png", "two men passing a basketball, grayscale"),
    "blocks": (OPENCV + "blox.jpg", "wooden blocks on a table, grayscale"),
    "circuit_board": (OPENCV + "board.jpg", "a printed circuit board"),
    "biscuit_box": (OPENCV + "box.png", "a biscuit box, grayscale"),
    "box_in_scene": (OPENCV + "box_in_scene.png", "the biscuit box among other objects, grayscale"),
    "building": (OPENCV + "building.jpg", "a hotel building behind trees"),
    "butterfly": (OPENCV + "butterfly.jpg", "a swallowtail butterfly on a leaf"),
    "dog": (OPENCV + "chicky_512.png", "a small long-haired dog"),
    "notebook": (OPENCV + "ela_original.jpg", "a notebook with an elastic band"),
    "fruits": (OPENCV + "fruits.jpg", "an orange, a lime, a lemon and a kiwi"),
    "graffiti": (OPENCV + "graf1.png", "a graffiti wall (view 1 of the Oxford 'graf' pair)"),
    "graffiti_2": (OPENCV + "graf3.png", "the graffiti wall seen at an angle (view 3)"),
    "palace": (OPENCV + "home.jpg", "a palace tower and birds against a blue sky"),
    "books_left": (OPENCV + "left.jpg", "books on a floor, left view of a pair"),
    "books_right": (OPENCV + "right.jpg", "the books, right view of the pair"),
    "leuven": (OPENCV + "leuvenA.jpg", "a street of brick houses in Leuven (view A)"),
    "leuven_2": (OPENCV + "leuvenB.jpg", "the Leuven street (view B)"),
    "car_motion_blur": (OPENCV + "licenseplate_motion.jpg", "the back of a car, blurred by motion"),
    "football": (OPENCV + "messi5.jpg", "a footballer kicking a ball on a pitch"),
    "orange": (OPENCV + "orange.jpg", "an orange"),
    "toys": (OPENCV + "rubberwhale1.png", "toys in front of a lattice (Middlebury 'RubberWhale')"),
    "sweets": (OPENCV + "smarties.png", "coloured sugar-coated sweets on white"),
    "squirrel": (OPENCV + "squirrel_cls.jpg", "a red squirrel on a branch"),
    "starry_night": (OPENCV + "starry_night.jpg", "Vincent van Gogh, The Starry Night (1889), a reproduction"),
    "desk_objects": (OPENCV + "stuff.jpg", "a pen, a lighter and caps on a desk"),
    # mate-backgrounds: the nature/ folder
    "water_drop": (MATE + "Aqua.jpg", "a drop falling into water"),
    "leaf_close_up": (MATE + "Blinds.jpg", "the veins of a green leaf"),
    "dune_grass": (MATE + "Dune.jpg", "dune grass against the sea"),
    "orange_flower": (MATE + "FreshFlower.jpg", "an orange flower, close up"),
    "marigold": (MATE + "Garden.jpg", "a red and yellow marigold"),
    "meadow_grass": (MATE + "GreenMeadow.jpg", "blades of young grass"),
    "ladybird": (MATE + "LadyBird.jpg", "a ladybird among forget-me-nots"),
    "raindrops": (MATE + "RainDrops.jpg", "raindrops on grass blades"),
    "storm": (MATE + "Storm.jpg", "storm clouds over a road"),
    "dandelion_seeds": (MATE + "TwoWings.jpg", "two dandelion seeds before an orange flower"),
    "wood_grain": (MATE + "Wood.jpg", "weathered wooden planks"),
    "yellow_flower": (MATE + "YellowFlower.jpg", "a yellow flower"),
    # lomiri-wallpapers-16.04 / -20.04: Ubuntu wallpaper-contest photographs
    "bridge_cables": (BACKGROUNDS + "Bridge_by_Sander_Klootwijk.jpg", "the cables of a bridge over a beach"),
    "tree_crown": (BACKGROUNDS + "Dragonfly_by_Bolly.jpg", "the leaves of a tree against the sky"),
    "nuthatch": (BACKGROUNDS + "Kleiber_by_Lukas_Baubkus.jpg", "a nuthatch on a tree trunk"),
    "fig": (BACKGROUNDS + "Picture_0B_by_freespace.jpg", "a halved fig on a red plate"),
    "paintbrushes": (BACKGROUNDS + "Picture_1A_by_freespace.jpg", "coloured paintbrushes"),
    "drum_and_wine": (BACKGROUNDS + "Wine_by_Jakkub_Mede.jpg", "a drum, a bottle of wine and loudspeakers"),
    "mountain_pasture": (BACKGROUNDS + "aitzgorri_by_Aitzol_Berasategi.jpg", "a mountain pasture in autumn"),
    "bird_ornament": (BACKGROUNDS + "free_by_Peter_Nerlich.jpg", "a wooden bird hanging under lamps"),
    "dogs_at_window": (BACKGROUNDS + "friends_by_Aitzol_Berasategi.jpg", "two spaniels looking out of a window"),
    "wall_clock": (BACKGROUNDS + "greentock_by_Peter_Nerlich.jpg", "a wall clock seen from the side"),
    "forest_stream": (BACKGROUNDS + "life_by_Aitzol_Berasategi.jpg", "a stream over rocks in a forest"),
    "mountain_trail": (BACKGROUNDS + "picosdeeuropa_by_Aitzol_Berasategi.jpg", "a trail in the Picos de Europa"),
    "dandelions": (BACKGROUNDS + "seeding_by_Clements_Engelhardt.jpg", "dandelion clocks in a meadow"),
    "mountain_sunset": (BACKGROUNDS + "sunset_by_Aitzol_Berasategi.jpg", "the sun setting over mountains"),
    # plasma-workspace-wallpapers: KDE wallpapers that are photographs
    "lakeside_jetty": (PLASMA + "BytheWater", "a wooden jetty by a lake"),
    "pier_in_fog": (PLASMA + "ColdRipple", "a pier in fog, grayscale"),
    "cups": (PLASMA + "ColorfulCups", "stacked coloured cups from above"),
    "lake_at_dusk": (PLASMA + "DarkestHour", "a lake at dusk"),
    "rowing_boats": (PLASMA + "EveningGlow", "rowing boats on a shore at sunset"),
    "fallen_leaf": (PLASMA + "FallenLeaf", "a fallen maple leaf"),
    "facade": (PLASMA + "Grey", "a curved building facade, grayscale"),
    "kite": (PLASMA + "Kite", "a kite in a blue sky"),
    "moss": (PLASMA + "OneStandsOut", "moss from above, one orange shoot"),
    "forest_path": (PLASMA + "Path", "a path through a pine forest"),
    "lake_sunset": (PLASMA + "summer_1am", "a lake under a summer-night sky"),
}

#: The aloe pair's ground truth (Middlebury): aloeL's disparity, resized with the photo (correspondence, notebook 14).
DISPARITY = ("aloe_left", OPENCV + "aloeGT.png", "aloe_left_disparity.png")

README_BEGIN = "<!-- photo table: written by tools/make_photo_collection.py -->"
README_END = "<!-- end of photo table -->"


def package_of(path: str) -> str:
    """The Debian package that installed ``path`` (``dpkg -S``)."""
    out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=True).stdout
    return out.split(":", 1)[0].strip()


def dep5_stanza(package: str, path: str, doc_root: str = "/usr/share/doc") -> tuple[str, str]:
    """Return (copyright, licence) of ``path`` from the package's DEP-5 copyright file.

    A stanza's ``Files:`` patterns are matched on the file's basename or the end of its path; the
    last matching stanza wins, as DEP-5 says. ``*`` matches everything.
    """
    text = Path(doc_root, package, "copyright").read_text(errors="replace")
    found = ("", "")
    for block in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^(Files|Copyright|License):[ \t]*((?:.*)(?:\n[ \t]+.*)*)", block, re.M))
        if "Files" not in fields:
            continue
        patterns = fields["Files"].split()
        if any(p == "*" or path.endswith("/" + p.split("/")[-1]) or path.endswith(p) for p in patterns):
            copyright_ = re.sub(r"\s*<[^>]*>|´", "", fields.get("Copyright", ""))  # no e-mail addresses
            copyright_ = "; ".join(line.strip() for line in copyright_.splitlines() if line.strip())
            found = (copyright_, fields.get("License", "").splitlines()[0].strip())
    return found


def kde_wallpaper(folder: str) -> tuple[str, str, str]:
    """Return (image file, author, licence) of a KDE wallpaper folder: its largest image and its metadata."""
    meta = json.loads(Path(folder, "metadata.json").read_text())["KPlugin"]
    author = ", ".join(a["Name"] for a in meta.get("Authors", []))
    images = sorted(Path(folder, "contents", "images").iterdir(), key=lambda p: p.stat().st_size)
    return str(images[-1]), author, meta.get("License", "")


def resized_jpeg(path: str, short_side: int) -> tuple[bytes, tuple[int, int]]:
    """The photo as RGB JPEG bytes with its short side at most ``short_side``, and its original size."""
    with Image.open(path) as img:
        original = img.size
        img.draft("RGB", (short_side * 2, short_side * 2))  # JPEG: decode at reduced size, far faster
        img = img.convert("RGB")
        scale = short_side / min(img.size)
        if scale < 1:
            img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=90, optimize=True)
    return buffer.getvalue(), original


def resized_disparity(path: str, size: tuple[int, int]) -> bytes:
    """An 8-bit disparity map (pixels, 0 = unknown) resized to ``size`` (W, H), as a 16-bit PNG of 256 x disparity.

    Each new pixel takes the median of the known values in its footprint (unknown if under half are
    known), and disparities shrink with the width, so they stay in pixels of the resized photo.
    """
    src = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    src[src == 0] = np.nan
    (h_in, w_in), (w, h) = src.shape, size
    spans = [np.floor(np.arange(n + 1) * n_in / n).astype(int) for n, n_in in ((h, h_in), (w, w_in))]
    k = max(int(np.diff(s).max()) for s in spans)
    rows, cols = (s[:-1, None] + np.arange(k) for s in spans)  # footprint indices, (n, k)
    block = src[np.minimum(rows, h_in - 1)[:, None, :, None], np.minimum(cols, w_in - 1)[None, :, None, :]]
    inside = (rows < spans[0][1:, None])[:, None, :, None] & (cols < spans[1][1:, None])[None, :, None, :]
    block[~np.broadcast_to(inside, block.shape)] = np.nan
    known = (~np.isnan(block)).sum((2, 3))
    block[known == 0] = 0  # nothing known there: no all-NaN median
    disparity = np.nanmedian(block.reshape(h, w, -1), axis=2) * (w / w_in)
    disparity[known < 0.5 * inside.sum((2, 3))] = 0
    buffer = io.BytesIO()
    Image.fromarray(np.round(disparity * 256).astype(np.uint16)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-side", type=int, default=SHORT_SIDE)
    args = parser.parse_args()
    out_dir = ROOT / "data" / "photos"
    out_dir.mkdir(exist_ok=True)
    manifest_path = ROOT / "data" / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["files"] = {k: v for k, v in manifest["files"].items() if not k.startswith("photos/")}
    catalogue = {}
    for name, (source, what) in PHOTOS.items():
        if source.startswith(PLASMA):
            source, author, licence = kde_wallpaper(source)
            package = package_of(source)
        else:
            package = package_of(source)
            author, licence = dep5_stanza(package, source)
        if package == "opencv-doc":  # samples/data falls under the package's `Files: *` stanza
            author = "OpenCV sample data (authors not recorded)"
        if not licence:
            raise SystemExit(f"no licence found for {source} in {package}; leave it out or add it by hand")
        data, original = resized_jpeg(source, args.short_side)
        target = out_dir / f"{name}.jpg"
        target.write_bytes(data)
        manifest["files"][f"photos/{name}.jpg"] = {"sha256": sha256(target), "bytes": len(data)}
        catalogue[name] = {
            "file": f"photos/{name}.jpg",
            "shows": what,
            "package": package,
            "source": source,
            "author": author,
            "license": licence,
            "original_size": list(original),
        }
    for stale in set(p.stem for p in out_dir.glob("*.jpg")) - set(PHOTOS):
        (out_dir / f"{stale}.jpg").unlink()
    disparity = ROOT / "data" / DISPARITY[2]
    disparity.write_bytes(resized_disparity(DISPARITY[1], Image.open(out_dir / f"{DISPARITY[0]}.jpg").size))
    manifest["files"][DISPARITY[2]] = {"sha256": sha256(disparity), "bytes": disparity.stat().st_size}
    manifest["photos"] = catalogue
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    write_readme_table(catalogue)
    total = sum(v["bytes"] for k, v in manifest["files"].items() if k.startswith("photos/"))
    print(f"wrote {len(catalogue)} photos to {out_dir} ({total / 2**20:.1f} MB) and their manifest entries")


def write_readme_table(catalogue: dict) -> None:
    rows = ["| name | shows | package: file | author | licence |", "| --- | --- | --- | --- | --- |"]
    for name, p in catalogue.items():
        rows.append(f"| `{name}` | {p['shows']} | `{p['package']}`: `{p['source']}` | {p['author']} | {p['license']} |")
    readme = ROOT / "data" / "README.md"
    text = readme.read_text()
    table = README_BEGIN + "\n" + "\n".join(rows) + "\n" + README_END
    if README_BEGIN in text:
        text = re.sub(re.escape(README_BEGIN) + ".*?" + re.escape(README_END), lambda _: table, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## The photo collection (`data/photos/`)\n\n" + table + "\n"
    readme.write_text(text)


if __name__ == "__main__":
    main()
