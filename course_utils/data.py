"""Fashion-MNIST: the balanced subset shipped in ``data/`` (offline) or the full set."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .config import data_dir

#: Class names in label order (Xiao et al. 2017).
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
SUBSET_FILE = "fashion_mnist_subset.npz"
MANIFEST_FILE = "MANIFEST.json"
#: Where Debian's ``dataset-fashion-mnist`` package puts the original idx files.
DEBIAN_IDX_DIR = Path("/usr/share/datasets/fashion-mnist")
_IDX_NAMES = {"train": "train", "test": "t10k"}


def sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_error(problem: str) -> ValueError:
    """Return the error for a damaged ``data/MANIFEST.json``: what is wrong, which file, and how to restore it."""
    path = Path(data_dir()) / MANIFEST_FILE
    return ValueError(
        f"{path} {problem}. Restore it with `git checkout -- data/{MANIFEST_FILE}` (or re-clone the course), "
        "or set COURSE_DATA_DIR to a complete data/ folder."
    )


def read_manifest() -> dict:
    """Return ``data/MANIFEST.json``: checksums of shipped files and FashionNet's training record.

    A missing, unreadable or malformed manifest raises an error that names it and says how to restore it.
    """
    path = Path(data_dir()) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        problem = "is missing (it lists the course's data files and their checksums)"
        raise FileNotFoundError(str(manifest_error(problem))) from exc
    except json.JSONDecodeError as exc:
        raise manifest_error(f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise manifest_error(f"cannot be read ({exc.__class__.__name__}: {exc})") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(entry, dict) and isinstance(entry.get("sha256"), str) for entry in files.values()
    ):
        raise manifest_error("does not have the expected layout: a 'files' table giving each file's 'sha256'")
    return manifest


def verified_data_file(name: str) -> Path:
    """Return the path of shipped file ``data/<name>`` after checking its SHA-256 against the manifest."""
    path = Path(data_dir()) / name
    expected = read_manifest()["files"].get(name, {}).get("sha256")
    if expected is None:
        raise FileNotFoundError(str(manifest_error(f"does not list {name!r}")))
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; re-clone the course or re-run `python -m course_utils.train`")
    actual = sha256(path)
    if actual != expected:
        raise RuntimeError(
            f"checksum mismatch for {path}: expected sha256 {expected[:12]}…, got {actual[:12]}…. "
            "The file is damaged or was changed: restore it with `git checkout -- data/` "
            "or re-create it with `python -m course_utils.train`."
        )
    return path


class FashionMNIST(Dataset):
    """Fashion-MNIST images as ``(1,28,28)`` float pixels in [0,1] with integer labels.

    ``images`` (N,1,28,28) and ``labels`` (N,) hold everything in memory, so a whole split
    can go through a model in a few batched calls without a DataLoader.
    """

    classes = FASHION_CLASSES

    def __init__(self, images_u8: np.ndarray, labels: np.ndarray, name: str):
        if images_u8.ndim != 3 or images_u8.shape[1:] != (28, 28):
            raise ValueError(f"expected (N,28,28) uint8 images, got {images_u8.shape}")
        self.images = torch.from_numpy(images_u8.astype(np.float32) / 255.0).unsqueeze(1)
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self.name = name

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], int(self.labels[i])

    def __repr__(self) -> str:
        return f"FashionMNIST({self.name}, {len(self)} images, {len(self.classes)} classes)"


def fashion_mnist(split: str = "train", full: bool = False) -> FashionMNIST:
    """Load Fashion-MNIST ``split`` ("train" or "test").

    By default the balanced subset shipped in ``data/`` (offline, 800 train / 400 test images
    per class). ``full=True`` loads all 60 000 / 10 000 images from the original idx files
    (Debian's ``dataset-fashion-mnist`` or ``$FASHION_MNIST_DIR``), else downloads them with
    torchvision.
    """
    if not isinstance(split, str) or split not in _IDX_NAMES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if full:
        images, labels = load_full(split)
        return FashionMNIST(images, labels, f"{split}, full")
    path = verified_data_file(SUBSET_FILE)
    with np.load(path) as arrays:
        return FashionMNIST(arrays[f"x_{split}"], arrays[f"y_{split}"], f"{split}, subset")


def _read_idx(path: Path) -> np.ndarray:
    """Read one (optionally gzipped) idx file into an array (Y. LeCun's MNIST format)."""
    opener = gzip.open if path.suffix == ".gz" else open
    fix = "download it again, or install Debian's dataset-fashion-mnist"
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path} cannot be read ({exc.__class__.__name__}: {exc}); {fix}") from exc
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":  # magic: two zero bytes, 0x08 (unsigned bytes), ndim
        raise ValueError(f"{path} is not an idx file of unsigned bytes (it starts {raw[:4].hex()}); {fix}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) < header or len(raw) - header != math.prod(shape):
        raise ValueError(
            f"{path} is truncated or damaged: its header promises shape {shape}, "
            f"{math.prod(shape)} bytes, but it holds {max(0, len(raw) - header)}; {fix}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx_dir() -> Path | None:
    for candidate in (os.environ.get("FASHION_MNIST_DIR"), DEBIAN_IDX_DIR):
        if candidate and (Path(candidate) / "t10k-labels-idx1-ubyte.gz").exists():
            return Path(candidate)
    return None


def load_full(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the full ``split`` as (uint8 images (N,28,28), labels (N,)), from idx files or a download."""
    idx_dir = _find_idx_dir()
    if idx_dir is not None:
        stem = _IDX_NAMES[split]
        images = _read_idx(idx_dir / f"{stem}-images-idx3-ubyte.gz")
        labels = _read_idx(idx_dir / f"{stem}-labels-idx1-ubyte.gz")
        return images, labels
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    root = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "datasets"
    try:
        ds = TorchvisionFashionMNIST(root, train=(split == "train"), download=True)
    except Exception as exc:  # network errors come in many types (URLError, HTTPError, OSError)
        raise RuntimeError(
            "the full Fashion-MNIST is not on this machine and could not be downloaded "
            f"({exc.__class__.__name__}: {exc}). Offline, use the shipped subset: "
            "fashion_mnist(split) without full=True, or install Debian's dataset-fashion-mnist."
        ) from exc
    return ds.data.numpy(), ds.targets.numpy()
