"""First-layer filters without a network: learn them from photo patches by ICA, and measure them.

Olshausen & Field (1996) and Bell & Sejnowski (1997) found that the filters which make natural-image
patches as independent (sparse) as possible are localized, oriented edge detectors, like the Gabor
filters in a trained ConvNet's first layer. ``ica_filters`` reproduces that in seconds with
scikit-learn's FastICA; ``colour_share`` and ``aliased_power`` put numbers on the two things one reads
off a first-layer picture (colour vs gray, and frequencies a strided layer cannot represent).
Taught in notebook 01.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .weights import normalize_filters


def _positive_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def photo_patches(images: Sequence | None = None, size: int = 11, n: int = 30000, seed: int = 0) -> np.ndarray:
    """Return ``n`` random ``size`` x ``size`` RGB patches ``(n, 3, size, size)``, pixels in [0,1], float32.

    ``images``: sample names, paths or PIL images (default: the whole photo collection,
    ``images.sample_image_names()``). Patches are spread evenly over the images, at uniformly random
    positions, reproducibly for one ``seed``.
    """
    from .images import load_image, sample_image_names

    size = _positive_int("size", size, 2)
    n = _positive_int("n", n)
    sources = list(sample_image_names() if images is None else images)
    if not sources:
        raise ValueError("photo_patches needs at least one image (a sample name, a path or a PIL image)")
    rng = np.random.default_rng(seed)
    per_image = -(-n // len(sources))  # ceil: every image gives the same number of patches
    patches = []
    for source in sources:
        img = source if hasattr(source, "convert") else load_image(source)
        pixels = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        h, w, _ = pixels.shape
        if h < size or w < size:
            raise ValueError(f"image {source!r} is {w}x{h} pixels, smaller than one {size}x{size} patch")
        ys = rng.integers(0, h - size + 1, per_image)
        xs = rng.integers(0, w - size + 1, per_image)
        patches += [pixels[y : y + size, x : x + size].transpose(2, 0, 1) for y, x in zip(ys, xs)]
    order = rng.permutation(len(patches))[:n]  # drop the surplus evenly, not from the last images
    return np.stack([patches[i] for i in order])


@dataclass
class IcaFilters:
    """What ``ica_filters`` learned: ``filters`` (n,C,k,k), what a conv layer would compute (s = w . x);
    ``basis`` (n,C,k,k), the image pattern each independent component adds; ``n_iter`` FastICA took."""

    filters: torch.Tensor
    basis: torch.Tensor
    n_iter: int


def ica_filters(patches: np.ndarray, n_filters: int = 64, seed: int = 0, max_iter: int = 400) -> IcaFilters:
    """Learn ``n_filters`` ICA filters from ``patches`` (N,C,k,k) with FastICA; return them smoothest first.

    Each patch's mean (its brightness) is removed first, as a ConvNet's bias and normalization
    make brightness uninteresting. FastICA first projects the patches on their ``n_filters``
    strongest principal components (which keeps the low spatial frequencies, where natural images
    have most of their variance) and whitens them, then rotates to make the outputs as
    non-Gaussian (sparse) as possible. Filters are sorted by ``filter_roughness``, smoothest first.
    """
    from sklearn.decomposition import FastICA

    from .weights import filter_roughness

    x = np.asarray(patches, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"expected patches of shape (N, C, k, k), got {x.shape}; use photo_patches(...)")
    n_filters = _positive_int("n_filters", n_filters)
    dims = int(np.prod(x.shape[1:]))
    if not n_filters <= min(dims, len(x) - 1):
        raise ValueError(
            f"n_filters={n_filters} must be at most the patch dimension ({dims}) and below the number of "
            f"patches ({len(x)}); ask for fewer filters or pass more patches"
        )
    flat = x.reshape(len(x), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    ica = FastICA(n_components=n_filters, whiten="unit-variance", random_state=seed, max_iter=max_iter, tol=1e-3)
    ica.fit(flat)
    shape = (n_filters, *x.shape[1:])
    filters = torch.tensor(ica.components_, dtype=torch.float32).reshape(shape)
    basis = torch.tensor(ica.mixing_.T, dtype=torch.float32).reshape(shape)
    order = torch.argsort(filter_roughness(filters))
    return IcaFilters(filters=filters[order], basis=basis[order], n_iter=int(ica.n_iter_))


def colour_share(w: torch.Tensor) -> torch.Tensor:
    """Return ``(out,)``: the share (0..1) of each RGB filter's energy that is colour, not gray.

    A filter ``w`` (out, 3, k, k) splits into its gray part (the mean over R, G, B, repeated) and
    the rest, which sums to zero over the channels (a colour contrast). 0 = a grayscale filter,
    1 = a pure colour-opponent one (e.g. red minus green).
    """
    if not isinstance(w, torch.Tensor) or w.dim() != 4 or w.shape[1] != 3:
        shape = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(f"expected RGB filters of shape (out, 3, k, k), got {shape}")
    w = w.detach().float().cpu()
    colour = w - w.mean(dim=1, keepdim=True)
    return colour.pow(2).flatten(1).sum(1) / w.pow(2).flatten(1).sum(1).clamp_min(1e-12)


def _power_spectrum(w: torch.Tensor, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return each filter's power spectrum (summed over channels), ``(out, pad, pad)`` and summing to 1,
    and the largest of |fx|, |fy| per frequency bin in cycles per pixel, ``(pad, pad)``."""
    if not isinstance(w, torch.Tensor) or w.dim() != 4:
        shape = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
        raise ValueError(f"expected filters of shape (out, in, k, k), got {shape}")
    pad = _positive_int("pad", pad, max(w.shape[-2:]))
    w = w.detach().float().cpu()
    power = torch.fft.fft2(w, s=(pad, pad)).abs().pow(2).sum(1)
    power = power / power.flatten(1).sum(1).clamp_min(1e-24).view(-1, 1, 1)
    f = torch.fft.fftfreq(pad).abs()
    return power, torch.maximum(f.view(-1, 1), f.view(1, -1))


def aliased_power(w: torch.Tensor, stride: int, pad: int = 64) -> torch.Tensor:
    """Return ``(out,)``: the share of each filter's power above the Nyquist frequency ``1/(2 stride)``.

    A layer that keeps only every ``stride``-th output sample cannot represent frequencies above
    ``1/(2 stride)`` cycles per pixel (in x or y): that part of each response map aliases into false,
    coarser patterns (Zeiler & Fergus 2014, fig. 6). ``pad``: FFT size (zero-padded), >= k.
    """
    stride = _positive_int("stride", stride)
    power, freq = _power_spectrum(w, pad)
    return (power * (freq > 0.5 / stride)).flatten(1).sum(1)


def frequency_profile(w: torch.Tensor, bins: int = 16, pad: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(centres, profile)``: each filter's power per frequency band, ``(bins,)`` and ``(out, bins)``.

    Bands split 0..0.5 cycles/pixel (the highest frequency a pixel grid holds, by max(|fx|, |fy|))
    into ``bins`` equal parts; each filter's row sums to 1.
    """
    bins = _positive_int("bins", bins)
    power, freq = _power_spectrum(w, pad)
    edges = np.linspace(0, 0.5 + 1e-9, bins + 1)
    band = torch.bucketize(freq, torch.tensor(edges[1:-1], dtype=freq.dtype))
    profile = torch.zeros(len(power), bins).index_add_(1, band.flatten(), power.flatten(1))
    return (edges[:-1] + edges[1:]) / 2, profile.numpy()


def filter_tiles(w: torch.Tensor, ncols: int = 8, pad: int = 1) -> np.ndarray:
    """Tile filters ``w`` (out, 1 or 3, k, k) into one image ``(H, W, 3)`` in [0,1], each filter on its own scale.

    White gaps of ``pad`` pixels separate the tiles; one image shown at once keeps small filters
    (3x3) and large ones (11x11) readable side by side.
    """
    scaled = normalize_filters(w)  # checks the shape
    if scaled.shape[1] not in (1, 3):
        raise ValueError(f"filters with {scaled.shape[1]} input channels are not images; show slices instead")
    ncols = _positive_int("ncols", ncols)
    pad = _positive_int("pad", pad, 0)
    scaled = scaled.expand(-1, 3, -1, -1)
    n, _, kh, kw = scaled.shape
    nrows = -(-n // ncols)
    out = np.ones((nrows * (kh + pad) + pad, min(n, ncols) * (kw + pad) + pad, 3), dtype=np.float32)
    for i, f in enumerate(scaled.numpy()):
        top, left = pad + (i // ncols) * (kh + pad), pad + (i % ncols) * (kw + pad)
        out[top : top + kh, left : left + kw] = f.transpose(1, 2, 0)
    return out
