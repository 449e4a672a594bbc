"""tools/make_photo_collection.py without Debian's packages: licence lookup and resizing."""

import importlib.util
import io
from pathlib import Path

import numpy as np
from PIL import Image

TOOL = Path(__file__).resolve().parent.parent / "tools" / "make_photo_collection.py"
spec = importlib.util.spec_from_file_location("make_photo_collection", TOOL)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020, Everyone
License: GPL-2+

Files: nature/Aqua.jpg
       nature/LadyBird.jpg
Copyright: 2008, Charles Barbin <barbinch@free.fr>
           2009, Someone Else
License: CC-BY-4.0
 The licence text follows here.
"""


def test_the_last_matching_stanza_gives_author_and_licence_without_e_mail(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "copyright").write_text(COPYRIGHT)
    found = tool.dep5_stanza("pkg", "/usr/share/backgrounds/mate/nature/LadyBird.jpg", doc_root=str(tmp_path))
    assert found == ("2008, Charles Barbin; 2009, Someone Else", "CC-BY-4.0")
    found = tool.dep5_stanza("pkg", "/usr/share/backgrounds/other.jpg", doc_root=str(tmp_path))
    assert found == ("2020, Everyone", "GPL-2+")


def test_photos_are_shrunk_to_the_short_side_and_small_ones_kept(tmp_path):
    big = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (600, 900, 3), dtype=np.uint8)).save(big)
    data, original = tool.resized_jpeg(str(big), 384)
    out = Image.open(io.BytesIO(data))
    assert original == (900, 600) and out.format == "JPEG" and out.size == (576, 384)
    small = tmp_path / "small.png"
    Image.new("L", (300, 200), 128).save(small)
    data, _ = tool.resized_jpeg(str(small), 384)
    out = Image.open(io.BytesIO(data))
    assert out.size == (300, 200) and out.mode == "RGB"


def test_every_listed_photo_has_a_unique_name_and_a_description():
    assert len(tool.PHOTOS) >= 60
    assert all(what for _, what in tool.PHOTOS.values())
    assert len({source for source, _ in tool.PHOTOS.values()}) == len(tool.PHOTOS)
