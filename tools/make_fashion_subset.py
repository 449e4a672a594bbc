"""Make data/fashion_mnist_subset.npz: a balanced, seeded subset of the original Fashion-MNIST.

    python tools/make_fashion_subset.py            # 800 train + 400 test images per class

Reads the original idx files (Debian's dataset-fashion-mnist, $FASHION_MNIST_DIR, or a
torchvision download). Fashion-MNIST is (c) Zalando SE, MIT license (see data/README.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from course_utils.data import SUBSET_FILE, load_full


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Pick ``per_class`` random indices of every label, returned in a shuffled order."""
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)]
    return rng.permutation(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-per-class", type=int, default=800)
    parser.add_argument("--test-per-class", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / SUBSET_FILE)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    arrays = {}
    for split, per_class in (("train", args.train_per_class), ("test", args.test_per_class)):
        images, labels = load_full(split)
        keep = balanced_indices(labels, per_class, rng)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images[keep], labels[keep].astype(np.uint8)
        arrays[f"index_{split}"] = keep.astype(np.int32)  # positions in the original files
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
