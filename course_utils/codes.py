"""Codes: a network's penultimate activations as a feature space. Taught in notebook 04.

The "code" of an image is the activation vector of a late layer (FashionNet's ``relu4``,
128 numbers). Images the network finds similar have close codes, which shows in nearest
neighbours, in k-NN accuracy, and in 2-D maps (PCA, t-SNE) of the codes.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

from .core import check_count, frozen_eval
from .hooks import Layer, capture_activations


@torch.no_grad()
def compute_codes(model: nn.Module, layer: Layer, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Return the flattened outputs of ``layer`` (a name or the submodule) for ``images`` (N,...), (N, D) on the CPU."""
    if len(images) == 0:
        raise ValueError("compute_codes needs at least one image")
    batch_size = check_count(batch_size, "batch_size")
    codes = []
    with frozen_eval(model) as device, capture_activations(model, layer) as acts:  # eval: no dropout, same code
        for start in range(0, len(images), batch_size):
            model(images[start : start + batch_size].to(device))
            codes.append(acts[layer].flatten(1).cpu())
    return torch.cat(codes)


def nearest_neighbours(
    database: torch.Tensor, queries: torch.Tensor, k: int = 5, exclude_self: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return indices and L2 distances (Q, k) of each query's ``k`` nearest rows of ``database`` (N, D).

    Rows are flattened first, so images (N,1,28,28) work as they are (pixel space).
    ``exclude_self`` skips distance-zero matches (when the queries are taken from the database).
    """
    db, q = database.flatten(1).float(), queries.flatten(1).float()
    if db.shape[1] != q.shape[1]:
        raise ValueError(f"database rows have {db.shape[1]} numbers but queries have {q.shape[1]}")
    k = check_count(k, "k", 1, len(db), f"neighbours among the {len(db)} database rows")
    dist = torch.cdist(q, db)
    if exclude_self:
        dist = dist.masked_fill(dist < 1e-6, float("inf"))
    values, indices = dist.topk(k, dim=1, largest=False)
    return indices, values


def knn_accuracy(
    train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, k: int = 5
) -> float:
    """Return the fraction of ``test_x`` whose majority label among the ``k`` L2-nearest ``train_x`` is right.

    Ties between labels go to the label of the nearest neighbour among the tied ones.
    """
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise ValueError("each x needs one label: lengths of x and y differ")
    k = check_count(k, "k", 1, len(train_x), f"neighbours among the {len(train_x)} training rows")
    for name, y in (("train_y", train_y), ("test_y", test_y)):
        if y.dtype.is_floating_point or y.dtype == torch.bool or (len(y) and int(y.min()) < 0):
            raise ValueError(f"{name} must hold integer class labels 0, 1, 2, ..., got {y.dtype} values")
    indices, _ = nearest_neighbours(train_x, test_x, k)
    labels = train_y[indices]  # (Q, k), nearest first
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    votes = torch.zeros(len(test_x), n_classes).scatter_add_(1, labels, torch.ones_like(labels, dtype=torch.float))
    # break ties towards nearer neighbours: each vote also gets a tiny bonus that falls with rank
    bonus = torch.zeros_like(votes).scatter_reduce_(
        1, labels, (k - torch.arange(k, dtype=torch.float)).expand_as(labels) / (k * (k + 1)), reduce="amax"
    )
    predicted = (votes + bonus).argmax(1)
    return float((predicted == test_y).float().mean())


def grid_assignment(xy: np.ndarray | torch.Tensor, n_rows: int, n_cols: int) -> np.ndarray:
    """Snap 2-D points (N, 2) onto an ``n_rows`` x ``n_cols`` grid, one point per cell; return each point's cell (N,).

    Cell ``c`` is row ``c // n_cols``, column ``c % n_cols``; row 0 is at the top (largest y).
    The points are scaled to fill the unit square, then the assignment minimizing the total
    squared distance between points and their cells is found exactly (Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``), so neighbours on the map stay neighbours.
    """
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"expected points of shape (N, 2), got {xy.shape}")
    if len(xy) > n_rows * n_cols:
        raise ValueError(f"{len(xy)} points do not fit in a {n_rows}x{n_cols} grid")
    span = xy.max(0) - xy.min(0)
    unit = (xy - xy.min(0)) / np.where(span > 0, span, 1.0)
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    centres = np.stack([(cols + 0.5) / n_cols, 1 - (rows + 0.5) / n_rows], axis=1)
    cost = ((unit[:, None, :] - centres[None, :, :]) ** 2).sum(-1)  # (N, cells)
    point_idx, cell_idx = linear_sum_assignment(cost)
    cells = np.empty(len(xy), dtype=np.int64)
    cells[point_idx] = cell_idx
    return cells


def thumbnail_mosaic(
    images: torch.Tensor, cells: np.ndarray, n_rows: int, n_cols: int, fill: float = 1.0
) -> np.ndarray:
    """Paste images (N,1,h,w) in [0,1] into their grid ``cells``; return one (n_rows*h, n_cols*w) array.

    Colour images (N,3,h,w) give an (n_rows*h, n_cols*w, 3) array (the photo grid of notebook 04).
    """
    _, channels, h, w = images.shape
    if channels not in (1, 3):
        raise ValueError(f"thumbnail_mosaic takes gray (N,1,h,w) or colour (N,3,h,w) images, got {tuple(images.shape)}")
    pixels = images[:, 0].numpy() if channels == 1 else images.permute(0, 2, 3, 1).numpy()
    mosaic = np.full((n_rows * h, n_cols * w) + pixels.shape[3:], fill, dtype=np.float32)
    for img, cell in zip(pixels, cells):
        r, c = divmod(int(cell), n_cols)
        mosaic[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
    return mosaic


def tsne_map(codes: torch.Tensor | np.ndarray, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """Return a 2-D t-SNE map (N, 2) of ``codes`` (N, D); PCA start and a fixed seed make it reproducible."""
    from sklearn.manifold import TSNE  # imported here: it takes a second, and only notebook 04 needs it

    codes = np.asarray(codes, dtype=np.float32)
    if not 0 < perplexity < len(codes):
        raise ValueError(f"perplexity must be between 0 and the number of points ({len(codes)}), got {perplexity}")
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
