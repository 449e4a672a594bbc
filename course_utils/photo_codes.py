"""ImageNet codes of the course's photo collection: crops, nearest photos, and what a neighbour shares.

Taught in notebook 04. Each photo is cut into a few 224x224 crops; a photo's distance to a query is
that of its closest crop (so a mirrored or zoomed view can match, in pixel space too).
``PHOTO_KINDS`` gives every photo a coarse hand-made label of what it shows, so that "neighbours share
the query's meaning" becomes a number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .core import check_count
from .images import preprocess
from .samples import SAMPLE_IMAGES

#: What each photo mostly shows, in eight coarse kinds chosen by hand for notebook 04 (not ImageNet classes).
_KIND_LISTS = {
    "animal": "chelsea baboon butterfly dog squirrel ladybird nuthatch dogs_at_window",
    "person": "astronaut camera grace_hopper basketball football",
    "food": "coffee apple fruits orange fig sweets",
    "plant": "flower aloe_left aloe_right leaf_close_up orange_flower marigold meadow_grass raindrops "
    "dandelion_seeds yellow_flower tree_crown dandelions fallen_leaf moss dune_grass",
    "landscape": "storm mountain_pasture forest_stream mountain_trail mountain_sunset lakeside_jetty pier_in_fog "
    "lake_at_dusk rowing_boats forest_path lake_sunset kite bridge_cables water_drop",
    "building": "china aerial_city aerial_city_2 building palace leuven leuven_2 facade",
    "object": "rocket motorcycle_left motorcycle_right coins blocks circuit_board biscuit_box box_in_scene notebook "
    "books_left books_right car_motion_blur toys desk_objects paintbrushes drum_and_wine bird_ornament wall_clock cups",
    "texture": "brick grass gravel wood_grain retina graffiti graffiti_2 starry_night hubble_deep_field",
}
PHOTO_KINDS: dict[str, str] = {name: kind for kind, names in _KIND_LISTS.items() for name in names.split()}


def photo_kind(name: str) -> str:
    """Return the hand-made kind of sample photo ``name`` ('animal', 'plant', ...)."""
    if name not in PHOTO_KINDS:
        known = "a sample photo without a kind yet: add it to PHOTO_KINDS" if name in SAMPLE_IMAGES else "no sample"
        raise KeyError(f"{name!r} is {known} (kinds are known for {len(PHOTO_KINDS)} photos)")
    return PHOTO_KINDS[name]


def photo_crops(names: Sequence[str], size: int = 224, views: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut each photo into crops: pixels (N*C, 3, size, size) in [0,1] and the photo index of each crop (N*C,).

    Crop 0 of each photo is the whole photo (shorter side resized to ``size``, centre square). With
    ``views``, three more follow, all still showing the photo's subject: its mirror image, the middle
    80% of the photo (zoomed to ``size``), and that zoom's mirror image.
    """
    size = check_count(size, "size", 16, 1024, "pixels on the side of a crop")
    if isinstance(names, str) or len(names) == 0:
        raise ValueError(f"names must be a non-empty list of sample photo names, not {names!r}")
    crops, owner = [], []
    for index, name in enumerate(names):
        pieces = [preprocess(name, size)[0]]
        if views:
            big = preprocess(name, round(size / 0.8))[0]
            margin = (big.shape[-1] - size) // 2
            zoom = big[:, margin : margin + size, margin : margin + size]
            pieces += [pieces[0].flip(-1), zoom, zoom.flip(-1)]
        crops += pieces
        owner += [index] * len(pieces)
    return torch.stack(crops), torch.tensor(owner)


def nearest_photos(
    features: torch.Tensor, owner: torch.Tensor, queries: torch.Tensor, k: int = 5
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Find the ``k`` photos nearest (L2) to each query row, never the query's own photo.

    ``features`` (N, ...) holds one row per crop, flattened here (pixels or codes); ``owner`` (N,)
    the photo index of each row; ``queries`` (Q,) the row indices to search from. A photo's distance
    is that of its closest crop. Returns photo indices (Q, k), the row of the crop that matched
    (Q, k), and the distances (Q, k), nearest first.
    """
    x = features.flatten(1).float()
    owner, queries = torch.as_tensor(owner), torch.as_tensor(queries)
    if owner.shape != (len(x),):
        raise ValueError(f"owner needs one photo index per feature row ({len(x)}), got shape {tuple(owner.shape)}")
    if len(queries) == 0 or int(queries.min()) < 0 or int(queries.max()) >= len(x):
        raise ValueError(f"queries must be row indices from 0 to {len(x) - 1}, got {queries.tolist()[:8]}")
    n_photos = int(owner.max()) + 1
    k = check_count(k, "k", 1, n_photos - 1, f"other photos among the {n_photos}")
    dist = torch.cdist(x[queries], x)  # (Q, N)
    per_photo = torch.full((len(queries), n_photos), float("inf"))
    best_row = torch.zeros((len(queries), n_photos), dtype=torch.long)
    for photo in range(n_photos):
        rows = (owner == photo).nonzero()[:, 0]
        if len(rows):
            values, at = dist[:, rows].min(1)
            per_photo[:, photo], best_row[:, photo] = values, rows[at]
    per_photo[torch.arange(len(queries)), owner[queries]] = float("inf")  # the query's own crops do not count
    distances, photos = per_photo.topk(k, dim=1, largest=False)
    return photos, best_row.gather(1, photos), distances


def same_kind_share(neighbours: torch.Tensor, query_photos: torch.Tensor, kinds: Sequence[str]) -> float:
    """Return the share of ``neighbours`` (Q, k photo indices) whose kind is their query photo's (Q,)."""
    kinds_arr, near, query = np.asarray(kinds), np.asarray(neighbours), np.asarray(query_photos)
    if near.ndim != 2 or len(near) != len(query):
        raise ValueError(f"neighbours must be (Q, k) for {len(query)} queries, got shape {near.shape}")
    return float((kinds_arr[near] == kinds_arr[query][:, None]).mean())


def same_kind_chance(kinds: Sequence[str]) -> float:
    """Return the share of same-kind pairs among all pairs of distinct photos: what random neighbours reach."""
    _, counts = np.unique(np.asarray(kinds), return_counts=True)
    n = counts.sum()
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))


def grid_neighbour_pairs(cells: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """Return the pairs (P, 2) of points whose ``cells`` (``codes.grid_assignment``) touch left-right or up-down."""
    cells = np.asarray(cells)
    if len(set(cells.tolist())) != len(cells) or cells.min() < 0 or cells.max() >= n_rows * n_cols:
        raise ValueError(f"cells must be distinct cell numbers from 0 to {n_rows * n_cols - 1}")
    point_at = np.full(n_rows * n_cols, -1)
    point_at[cells] = np.arange(len(cells))
    grid = point_at.reshape(n_rows, n_cols)
    pairs = np.concatenate(
        [np.stack([grid[:, :-1].ravel(), grid[:, 1:].ravel()], 1), np.stack([grid[:-1].ravel(), grid[1:].ravel()], 1)]
    )
    return pairs[(pairs >= 0).all(1)]
