"""The photo collection: every photo is listed with its source and licence, loads, and is checked."""

import json
import shutil

import pytest

from course_utils import samples
from course_utils.data import read_manifest
from course_utils.images import load_image, sample_image_names


def test_the_collection_holds_at_least_80_distinct_photos():
    names = sample_image_names()
    assert len(names) == len(set(names)) >= 80
    course = [n for n in names if samples.SAMPLE_IMAGES[n].package == samples.COURSE]
    assert len(course) == len(read_manifest()["photos"]) >= 60


def test_every_shipped_photo_has_its_source_author_and_licence_and_a_checksum():
    manifest = read_manifest()
    for name, photo in manifest["photos"].items():
        assert photo["package"] and photo["source"].startswith("/usr/share/"), name
        assert photo["author"] and photo["license"] and photo["shows"], name
        assert manifest["files"][photo["file"]]["sha256"], name


def test_every_shipped_photo_loads_as_rgb_with_a_short_side_of_at_most_384():
    for name, sample in samples.SAMPLE_IMAGES.items():
        if sample.package != samples.COURSE:
            continue
        img = load_image(name)
        assert img.mode == "RGB" and min(img.size) <= 384 and min(img.size) >= 200, (name, img.size)


def test_the_readme_lists_every_shipped_photo():
    readme = (samples.Path(samples.__file__).parent.parent / "data" / "README.md").read_text()
    for name in read_manifest()["photos"]:
        assert f"| `{name}` |" in readme, name


def test_a_damaged_photo_is_caught_by_its_checksum(tmp_path, monkeypatch):
    data = samples.Path(samples.__file__).parent.parent / "data"
    (tmp_path / "photos").mkdir()
    shutil.copy(data / "MANIFEST.json", tmp_path / "MANIFEST.json")
    damaged = bytearray((data / "photos" / "squirrel.jpg").read_bytes())
    damaged[1000] ^= 0xFF
    (tmp_path / "photos" / "squirrel.jpg").write_bytes(bytes(damaged))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        load_image("squirrel")
    assert json.loads((tmp_path / "MANIFEST.json").read_text())["photos"]["squirrel"]["license"]


def test_a_broken_manifest_leaves_the_pip_photos_usable(tmp_path, monkeypatch):
    (tmp_path / "MANIFEST.json").write_text("{ not json")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.warns(UserWarning, match="photos are unavailable"):
        assert samples._course_photos() == {}
