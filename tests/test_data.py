"""Data: the shipped Fashion-MNIST subset is balanced and well-formed, and the idx reader
and full-set loader read files written here by hand."""

import gzip
import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.data import FASHION_CLASSES, FashionMNIST, _read_idx, fashion_mnist, load_full


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)


@pytest.fixture(scope="module")
def splits():
    return {"train": fashion_mnist("train"), "test": fashion_mnist("test")}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in LeCun's idx format: 0, 0, type 0x08, ndim, big-endian sizes, data."""
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(idx_bytes(array))
    return path


# --------------------------------------------------------------------------- shipped subset
@pytest.mark.parametrize("split, per_class", [("train", 800), ("test", 400)])
def test_subset_split_is_well_formed_and_balanced(splits, split, per_class):
    ds = splits[split]
    n = len(ds)
    assert n == 10 * per_class  # the documented 800 / 400 images per class
    assert ds.images.shape == (n, 1, 28, 28) and ds.images.dtype == torch.float32
    assert ds.images.min() >= 0 and ds.images.max() <= 1
    assert ds.images.max() == 1  # pixels were scaled by 255, not by something larger
    assert ds.labels.shape == (n,) and ds.labels.dtype == torch.int64
    assert torch.bincount(ds.labels, minlength=10).tolist() == [per_class] * 10


def test_subset_items_are_image_and_int_label(splits):
    ds = splits["train"]
    image, label = ds[5]
    assert image.shape == (1, 28, 28) and isinstance(label, int) and 0 <= label <= 9
    torch.testing.assert_close(image, ds.images[5], rtol=0, atol=0)
    assert label == ds.labels[5].item()
    assert "train" in repr(ds) and str(len(ds)) in repr(ds)


def test_subset_images_are_the_originals_at_their_recorded_indices():
    """The npz records where each image sits in the original files; they must agree."""
    if data._find_idx_dir() is None:
        pytest.skip("the original Fashion-MNIST idx files are not on this machine")
    with np.load(Path(data.data_dir()) / data.SUBSET_FILE) as arrays:
        x, y, index = arrays["x_test"], arrays["y_test"], arrays["index_test"]
    images, labels = load_full("test")
    np.testing.assert_array_equal(x, images[index])
    np.testing.assert_array_equal(y, labels[index])


def test_class_names():
    assert len(FASHION_CLASSES) == 10 == len(set(FASHION_CLASSES))
    assert FASHION_CLASSES[0] == "T-shirt/top" and FASHION_CLASSES[9] == "Ankle boot"
    assert FashionMNIST.classes == FASHION_CLASSES


@pytest.mark.parametrize("split", ["val", "Train", "", "t10k"])
def test_bad_split_raises_valueerror(split):
    with pytest.raises(ValueError, match="split"):
        fashion_mnist(split)


def test_dataset_rejects_images_that_are_not_28x28():
    with pytest.raises(ValueError, match="28"):
        FashionMNIST(np.zeros((2, 32, 32), dtype=np.uint8), np.zeros(2), "bad")


def write_subset(folder: Path, manifest_sha: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A tiny subset file plus a manifest, in a folder used as COURSE_DATA_DIR."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    y = np.array([0, 1, 2, 3, 4, 9], dtype=np.uint8)
    path = folder / data.SUBSET_FILE
    np.savez(path, x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    sha = manifest_sha or hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "MANIFEST.json").write_text(json.dumps({"files": {data.SUBSET_FILE: {"sha256": sha}}}))
    return x, y


def test_subset_is_read_from_course_data_dir(monkeypatch, tmp_path):
    x, y = write_subset(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    ds = fashion_mnist("train")
    assert len(ds) == 6
    torch.testing.assert_close(ds.images[:, 0], torch.from_numpy(x).float() / 255, rtol=0, atol=0)
    assert ds.labels.tolist() == [0, 1, 2, 3, 4, 9]
    assert len(fashion_mnist("test")) == 2


def test_damaged_subset_file_is_refused(monkeypatch, tmp_path):
    write_subset(tmp_path, manifest_sha="0" * 64)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="checksum"):
        fashion_mnist("train")


# --------------------------------------------------------------------------- idx files
@pytest.mark.parametrize("name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_read_idx_round_trips_images(tmp_path, name):
    images = np.random.default_rng(1).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    out = _read_idx(write_idx(tmp_path / name, images))
    assert out.dtype == np.uint8 and out.shape == (3, 28, 28)
    np.testing.assert_array_equal(out, images)


def test_read_idx_round_trips_labels_and_odd_shapes(tmp_path):
    labels = np.array([9, 0, 3, 3, 7], dtype=np.uint8)
    np.testing.assert_array_equal(_read_idx(write_idx(tmp_path / "l.gz", labels)), labels)
    odd = np.arange(2 * 3 * 300, dtype=np.int64).astype(np.uint8).reshape(2, 3, 300)  # a size above 255
    np.testing.assert_array_equal(_read_idx(write_idx(tmp_path / "o.gz", odd)), odd)


def test_read_idx_header_is_big_endian(tmp_path):
    """The hand-written header for one 2x3 image: magic 00 00 08 03, then sizes 1, 2, 3."""
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 10, 11, 12, 13, 14, 15])
    path = tmp_path / "hand"
    path.write_bytes(raw)
    np.testing.assert_array_equal(_read_idx(path), [[[10, 11, 12], [13, 14, 15]]])


@pytest.fixture
def fake_idx_dir(tmp_path, monkeypatch):
    """Tiny train (5 images) and t10k (3 images) idx files in FASHION_MNIST_DIR."""
    rng = np.random.default_rng(2)
    arrays = {
        "train": (rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.array([1, 2, 3, 4, 5], dtype=np.uint8)),
        "t10k": (rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), np.array([9, 8, 7], dtype=np.uint8)),
    }
    for stem, (images, labels) in arrays.items():
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", labels)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    return arrays


def test_load_full_reads_the_folder_in_fashion_mnist_dir(fake_idx_dir):
    for split, stem in (("train", "train"), ("test", "t10k")):
        images, labels = load_full(split)
        np.testing.assert_array_equal(images, fake_idx_dir[stem][0])
        np.testing.assert_array_equal(labels, fake_idx_dir[stem][1])


def test_full_dataset_comes_from_fashion_mnist_dir(fake_idx_dir):
    ds = fashion_mnist("test", full=True)
    assert len(ds) == 3 and ds.images.shape == (3, 1, 28, 28)
    torch.testing.assert_close(ds.images[:, 0], torch.from_numpy(fake_idx_dir["t10k"][0]).float() / 255)
    assert ds.labels.tolist() == [9, 8, 7]
    assert "full" in repr(ds)
