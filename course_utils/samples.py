"""The sample photos of the course: a registry of names, the file behind each, and its credit.

Two kinds: photos that ship inside pip wheels (scikit-image, scikit-learn, matplotlib), found in the
installed package, and the course's own photo collection in ``data/photos/`` (resized copies of the
natural photos inside Debian packages; ``tools/make_photo_collection.py`` rebuilds it, ``data/README.md``
lists sources and licences). ``images.load_image(name)`` loads any of them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from .data import read_manifest, verified_data_file


@dataclass(frozen=True)
class SampleImage:
    package: str  # the installed package whose wheel ships the file, or COURSE for data/photos/
    path: str  # the file, relative to that package's folder (or to data/)
    credit: str  # author and license, as the package documents them
    shows: str = ""  # what the photo shows, in a few words


#: The ``package`` of the photos the course ships itself, in ``data/photos/``.
COURSE = "course"


SAMPLE_IMAGES = {
    "chelsea": SampleImage("skimage", "data/chelsea.png", "Stefan van der Walt, CC0 (scikit-image)"),
    "coffee": SampleImage("skimage", "data/coffee.png", "Rachel Michetti, CC0 (scikit-image)"),
    "astronaut": SampleImage("skimage", "data/astronaut.png", "NASA, public domain (scikit-image)"),
    "rocket": SampleImage("skimage", "data/rocket.jpg", "SpaceX, public domain (scikit-image)"),
    "motorcycle_left": SampleImage(
        "skimage", "data/motorcycle_left.png", "Middlebury stereo dataset, Scharstein et al. 2014 (scikit-image)"
    ),
    "motorcycle_right": SampleImage(
        "skimage", "data/motorcycle_right.png", "Middlebury stereo dataset, Scharstein et al. 2014 (scikit-image)"
    ),
    "camera": SampleImage("skimage", "data/camera.png", "Lav Varshney, CC0 (scikit-image)"),
    "coins": SampleImage(
        "skimage", "data/coins.png", "Brooklyn Museum, no known copyright restrictions (scikit-image)"
    ),
    "retina": SampleImage("skimage", "data/retina.jpg", "Mikael Häggström, CC0 (scikit-image)"),
    "brick": SampleImage("skimage", "data/brick.png", "CC0Textures, CC0 (scikit-image)"),
    "grass": SampleImage("skimage", "data/grass.png", "CC0Textures, CC0 (scikit-image)"),
    "gravel": SampleImage("skimage", "data/gravel.png", "CC0Textures, CC0 (scikit-image)"),
    "hubble_deep_field": SampleImage("skimage", "data/hubble_deep_field.jpg", "NASA, public domain (scikit-image)"),
    "china": SampleImage("sklearn", "datasets/images/china.jpg", "danielbuechele on Flickr, CC BY 2.0 (scikit-learn)"),
    "flower": SampleImage("sklearn", "datasets/images/flower.jpg", "vultilion on Flickr, CC BY 2.0 (scikit-learn)"),
    "grace_hopper": SampleImage(
        "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "U.S. Navy, public domain (matplotlib)"
    ),
}


def _course_photos() -> dict[str, SampleImage]:
    """The shipped collection, as ``data/MANIFEST.json`` lists it under ``"photos"``."""
    try:
        photos = read_manifest().get("photos", {})
    except (OSError, ValueError, RuntimeError) as err:  # a broken manifest must not break `import images`
        warnings.warn(f"the course's own photos are unavailable: {err}", stacklevel=2)
        return {}
    return {
        name: SampleImage(
            COURSE, p["file"], f"{p['author']}, {p['license']} (Debian package {p['package']})", p["shows"]
        )
        for name, p in photos.items()
    }


SAMPLE_IMAGES.update(_course_photos())


def sample_image_names() -> list[str]:
    """Return the names of the sample photos ``load_image`` accepts: pip packages' photos, then the course's own."""
    return list(SAMPLE_IMAGES)


def sample_image_path(name: str) -> Path:
    """Return the file of sample photo ``name`` inside its installed package."""
    sample = SAMPLE_IMAGES[name]
    if sample.package == COURSE:
        return verified_data_file(sample.path)
    spec = find_spec(sample.package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"sample {name!r} ships with the package {sample.package!r}, which is not installed")
    return Path(spec.origin).parent / sample.path
