"""Correspondence from conv features: match points between two views by nearest neighbours (notebook 14).

Long, Zhang & Darrell (2014) asked whether the features of a classification network know *where*
things are precisely enough to find the same point in another photo. Describe every position of
both images by a feature vector (a layer's activations, or the raw pixel patch around it), and
match a point of image A to the position of image B whose vector is most similar:

    match(p) = argmax_q  cos( f_A(p), f_B(q) )

A layer of stride s gives one vector per s x s pixels; its cosine-similarity map is computed on
that grid and bilinearly upsampled to the image (the same as comparing bilinearly interpolated,
normalised features), so the match is a pixel. ``load_disparity`` reads the ground truth that
ships for the ``aloe_left``/``aloe_right`` stereo pair, ``stereo_targets`` turns it into where
each point must land, and ``correct_share`` scores the matches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from .core import as_model_input, check_count, frozen_eval
from .data import verified_data_file
from .hooks import Layer, capture_activations, layer_list

__all__ = [
    "DISPARITY_FILE",
    "Matches",
    "correct_share",
    "feature_map",
    "feature_maps",
    "load_disparity",
    "match_points",
    "patch_map",
    "sample_points",
    "similarity_map",
    "stereo_targets",
]

#: Ground-truth disparity of ``aloe_left`` (pixels of the shipped 444x384 photo), 16-bit PNG: value / 256, 0 = unknown.
DISPARITY_FILE = "aloe_left_disparity.png"


def _one_image(x: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[0] != 1 or not x.is_floating_point():
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be one image (1,C,H,W) of float pixels in [0,1], got {shape}")
    return x


def _normalised(fmap: torch.Tensor) -> torch.Tensor:
    """Each position's vector scaled to unit length (a zero vector stays zero)."""
    return fmap / fmap.norm(dim=0, keepdim=True).clamp_min(1e-12)


@torch.no_grad()
def feature_maps(model: nn.Module, x: torch.Tensor, layers: Layer | Iterable[Layer]) -> dict:
    """Return ``{layer: (C,h,w)}`` activations of one image ``x`` (1,3,H,W), each position of unit length (one pass)."""
    x = _one_image(x, "x")
    keys = layer_list(layers)
    with frozen_eval(model), capture_activations(model, keys) as acts:
        model(as_model_input(x, model))
        maps = {key: acts[key][0].float().cpu() for key in keys}
    for key, fmap in maps.items():
        if fmap.dim() != 3:
            raise ValueError(
                f"layer {key!r} gives shape {tuple(fmap.shape)}, not a feature map (C,h,w): pick a conv layer"
            )
    return {key: _normalised(fmap) for key, fmap in maps.items()}


def feature_map(model: nn.Module, x: torch.Tensor, layer: Layer) -> torch.Tensor:
    """Return ``layer``'s activations for one image ``x`` (1,3,H,W) as ``(C,h,w)``, each position of unit length."""
    return feature_maps(model, x, [layer])[layer]


def patch_map(x: torch.Tensor, size: int = 9) -> torch.Tensor:
    """Return the raw-pixel descriptor of each pixel of ``x`` (1,C,H,W): its ``size``-square patch ``(C*size², H, W)``.

    Each patch has its mean removed and unit length, so the cosine similarity of two patches is
    their normalised cross-correlation (brightness and contrast do not matter). Borders are
    reflected. ``size`` is odd.
    """
    x = _one_image(x, "x").detach().float().cpu()
    size = check_count(size, "size", 1, 63, "the patch side in pixels")
    if size % 2 == 0:
        raise ValueError(f"size must be odd (a patch centred on its pixel), got {size}; use {size + 1}")
    r = size // 2
    if min(x.shape[-2:]) <= r:
        raise ValueError(f"the image ({x.shape[-1]}x{x.shape[-2]}) is too small for {size}x{size} patches")
    padded = F.pad(x, (r, r, r, r), mode="reflect")
    patches = F.unfold(padded, size)[0]  # (C*size², H*W)
    patches = patches - patches.mean(0, keepdim=True)
    return _normalised(patches.reshape(-1, *x.shape[-2:]))


def _check_points(points: torch.Tensor, size: tuple[int, int], name: str = "points") -> torch.Tensor:
    if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[1] != 2 or not len(points):
        shape = tuple(points.shape) if isinstance(points, torch.Tensor) else type(points).__name__
        raise ValueError(f"{name} must be a tensor (N,2) of (x, y) pixel positions, N >= 1; got {shape}")
    points = points.float()
    h, w = size
    if not torch.isfinite(points).all():
        raise ValueError(f"{name} holds NaN or infinite positions")
    outside = (points[:, 0] < 0) | (points[:, 0] > w - 1) | (points[:, 1] < 0) | (points[:, 1] > h - 1)
    if outside.any():
        first = points[outside][0].tolist()
        raise ValueError(
            f"{int(outside.sum())} of the {name} lie outside the {w}x{h} image (the first at x, y = {first}); "
            f"positions go from 0 to {w - 1} in x and 0 to {h - 1} in y"
        )
    return points


@dataclass(frozen=True)
class Matches:
    """Where each point of image A found its nearest neighbour in image B."""

    points: torch.Tensor  # (N,2) the query positions (x, y) in A, pixels
    found: torch.Tensor  # (N,2) the best-matching positions (x, y) in B, pixels
    similarity: torch.Tensor  # (N,) the cosine similarity of each match, in [-1, 1]


def _similarities(queries: list[torch.Tensor], maps_b: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
    """Mean cosine similarity ``(n,1,H,W)`` of query descriptors (each ``(C,n)``) to every pixel of image B."""
    sims = torch.zeros(queries[0].shape[1], 1, *size)
    for q, b in zip(queries, maps_b):
        sim = (q.T @ b.float().flatten(1)).reshape(-1, 1, *b.shape[1:])
        if sim.shape[-2:] != size:  # a coarse layer: interpolate the similarities between its grid positions
            sim = F.interpolate(sim, size=size, mode="bilinear", align_corners=False)
        sims += sim / len(maps_b)
    return sims


def _queries(maps_a: list[torch.Tensor], points: torch.Tensor, size: tuple[int, int]) -> list[torch.Tensor]:
    """Each map's descriptor ``(C,N)`` at ``points`` (N,2) (x, y), bilinearly interpolated, of unit length."""
    h, w = size
    # grid_sample's coordinates: -1 and 1 are the outer edges of the image (align_corners=False)
    grid = torch.stack([(points[:, 0] + 0.5) / w * 2 - 1, (points[:, 1] + 0.5) / h * 2 - 1], dim=1)
    return [
        _normalised(F.grid_sample(a[None].float(), grid[None, None], mode="bilinear", align_corners=False)[0, :, 0])
        for a in maps_a
    ]


def _as_maps(maps, name: str) -> list[torch.Tensor]:
    maps = [maps] if isinstance(maps, torch.Tensor) else list(maps)
    for fmap in maps:
        if not isinstance(fmap, torch.Tensor) or fmap.dim() != 3:
            shape = tuple(fmap.shape) if isinstance(fmap, torch.Tensor) else type(fmap).__name__
            raise ValueError(f"{name} must be a descriptor map (C,h,w) or a list of them, got {shape}")
    if not maps:
        raise ValueError(f"{name} is an empty list: pass at least one descriptor map (C,h,w)")
    return maps


def _paired_maps(map_a, map_b) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Both images' descriptor maps as lists, checked to come from the same layers."""
    maps_a, maps_b = _as_maps(map_a, "map_a"), _as_maps(map_b, "map_b")
    if len(maps_a) != len(maps_b):
        raise ValueError(f"map_a holds {len(maps_a)} maps and map_b {len(maps_b)}: pass the same layers for both")
    for a, b in zip(maps_a, maps_b):
        if a.shape[0] != b.shape[0]:
            raise ValueError(
                f"map_a has {a.shape[0]} channels and map_b {b.shape[0]}: describe both images with the same "
                "layer (or the same patch size)"
            )
    return maps_a, maps_b


def match_points(
    map_a: torch.Tensor | Sequence[torch.Tensor],
    map_b: torch.Tensor | Sequence[torch.Tensor],
    points: torch.Tensor,
    image_size: tuple[int, int],
    band: int | None = None,
    chunk: int = 64,
) -> Matches:
    """Match each point of image A to the most similar position of image B (cosine similarity, whole image searched).

    ``map_a``, ``map_b``: descriptors ``(C,h,w)`` from ``feature_map`` or ``patch_map`` (unit length
    per position), of two images of ``image_size`` = (H, W) pixels; ``points``: ``(N,2)`` positions
    (x, y) in A. A point's descriptor is read from ``map_a`` by bilinear interpolation, its
    similarity to every grid position of ``map_b`` is upsampled bilinearly to H x W, and the
    pixel with the highest similarity is the match. Lists of maps (several layers, in the same
    order for A and B) are compared by the mean of their similarities: the cosine similarity of
    the concatenated descriptors (a *hypercolumn*, each layer weighted equally). ``band`` limits
    the search to rows within ``band`` pixels of the point's own row (for a rectified stereo
    pair, the epipolar line: ``band=0``).
    """
    maps_a, maps_b = _paired_maps(map_a, map_b)
    h, w = (check_count(v, "image_size", 1) for v in image_size)
    points = _check_points(points, (h, w))
    chunk = check_count(chunk, "chunk", 1)
    if band is not None:
        band = check_count(band, "band", 0, what="rows searched above and below each point; None searches all")
    queries = _queries(maps_a, points, (h, w))
    found, best = [], []
    for start in range(0, len(points), chunk):
        sims = _similarities([q[:, start : start + chunk] for q in queries], maps_b, (h, w))
        if band is not None:  # rows further than `band` from the point's own row are out of the search
            rows = torch.arange(h, dtype=torch.float32)
            far = (rows[None, :] - points[start : start + chunk, 1:2]).abs() > band + 0.5
            sims = sims.masked_fill(far[:, None, :, None], -math.inf)
        value, index = sims.flatten(1).max(dim=1)
        found.append(torch.stack([index % w, index // w], dim=1).float())
        best.append(value)
    return Matches(points, torch.cat(found), torch.cat(best))


def similarity_map(
    map_a: torch.Tensor | Sequence[torch.Tensor],
    map_b: torch.Tensor | Sequence[torch.Tensor],
    point: tuple[float, float],
    image_size: tuple[int, int],
) -> torch.Tensor:
    """Return the cosine similarity ``(H,W)`` of the descriptor at ``point`` (x, y) of image A to every pixel of B.

    The map ``match_points`` takes the maximum of (same arguments, one point).
    """
    maps_a, maps_b = _paired_maps(map_a, map_b)
    h, w = (check_count(v, "image_size", 1) for v in image_size)
    points = _check_points(torch.tensor([list(point)], dtype=torch.float32), (h, w), "point")
    return _similarities(_queries(maps_a, points, (h, w)), maps_b, (h, w))[0, 0]


def correct_share(found: torch.Tensor, expected: torch.Tensor, tolerance: float) -> float:
    """Return the share of matches within ``tolerance`` pixels (Euclidean) of where they should be."""
    if not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a distance in pixels >= 0, got {tolerance!r}")
    if found.shape != expected.shape or found.dim() != 2 or found.shape[1] != 2:
        raise ValueError(
            f"found {tuple(found.shape)} and expected {tuple(expected.shape)} must both be (N,2) positions (x, y)"
        )
    return float(((found.float() - expected.float()).norm(dim=1) <= tolerance).float().mean())


def load_disparity(name: str = DISPARITY_FILE) -> torch.Tensor:
    """Return the shipped ground-truth disparity ``(H,W)`` in pixels (NaN where unknown), checked against the manifest.

    The file is a 16-bit PNG holding 256 x the disparity (0 = unknown, the KITTI convention); a
    point (x, y) of the left view is seen at (x - d, y) in the right view.
    """
    with Image.open(verified_data_file(name)) as img:
        raw = np.asarray(img).astype(np.float32)
    disparity = torch.from_numpy(raw / 256.0)
    disparity[raw == 0] = float("nan")
    return disparity


def stereo_targets(disparity: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Return where the left-view ``points`` (N,2) (x, y) appear in the right view: ``(x - d(x, y), y)``."""
    if not isinstance(disparity, torch.Tensor) or disparity.dim() != 2:
        raise ValueError("disparity must be an (H,W) tensor (see load_disparity)")
    points = _check_points(points, (int(disparity.shape[0]), int(disparity.shape[1])))
    d = disparity[points[:, 1].round().long(), points[:, 0].round().long()]
    if torch.isnan(d).any():
        raise ValueError(
            f"{int(torch.isnan(d).sum())} points have no ground truth (occluded or unknown): pick points with "
            "sample_points(disparity, ...), which only returns points that have one"
        )
    return torch.stack([points[:, 0] - d, points[:, 1]], dim=1)


def sample_points(disparity: torch.Tensor, n: int, margin: int = 8, seed: int = 0) -> torch.Tensor:
    """Draw ``n`` left-view points (N,2) (x, y) with a known disparity whose match lies inside the right view.

    Points stay ``margin`` pixels from the border in both views (where patches and features are
    least affected by padding).
    """
    if not isinstance(disparity, torch.Tensor) or disparity.dim() != 2:
        raise ValueError("disparity must be an (H,W) tensor (see load_disparity)")
    n = check_count(n, "n", 1, what="points to draw")
    margin = check_count(margin, "margin", 0, what="pixels kept free along the border")
    h, w = disparity.shape
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    target_x = xs - disparity
    ok = ~torch.isnan(disparity) & (xs >= margin) & (xs < w - margin) & (ys >= margin) & (ys < h - margin)
    ok &= (target_x >= margin) & (target_x <= w - 1 - margin)
    candidates = ok.flatten().nonzero()[:, 0]
    if len(candidates) < n:
        raise ValueError(f"only {len(candidates)} pixels have a usable ground truth; ask for at most that many")
    pick = candidates[torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed))[:n]]
    return torch.stack([pick % w, pick // w], dim=1)
