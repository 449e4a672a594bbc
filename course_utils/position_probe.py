"""How much position a network keeps: paste objects at random places, read the place back with a linear probe.

Islam, Jia & Bruce (2020) asked whether a CNN's features know *where* in the image something is,
even after the spatial layout has been averaged away. The recipe (notebook 14): put each
Fashion-MNIST garment at a random position on a larger black canvas (``paste_on_canvas``), take a
layer's activations either **pooled** (the mean of each channel over all positions: no layout
left) or **unpooled** (the map itself, average-pooled to a coarse grid), and fit a ridge
regression from them to the garment's centre (``ridge_probe``). Its test error, against the error
of always guessing the average position, says how much position the layer holds in a form a
linear read-out can use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .core import check_count, frozen_eval
from .hooks import Layer, StopForward, capture_activations, get_layer, hooked, layer_list

__all__ = ["ProbeResult", "layer_features", "paste_on_canvas", "ridge_probe"]


def paste_on_canvas(images: torch.Tensor, canvas: int = 56, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste each image ``(N,C,h,w)`` at a random place on a black ``canvas`` x ``canvas`` square.

    Returns ``(canvases (N,C,canvas,canvas), centres (N,2))``: each image's centre (x, y) in pixels of
    the canvas. The top-left corner is uniform over every place where the whole image fits.
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or not len(images):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a batch (N,C,h,w) with N >= 1, got {shape}")
    n, c, h, w = images.shape
    canvas = check_count(canvas, "canvas", max(h, w), 4096, f"the canvas side in pixels, at least the image's {h}x{w}")
    gen = torch.Generator().manual_seed(seed)
    tops = torch.randint(0, canvas - h + 1, (n,), generator=gen)
    lefts = torch.randint(0, canvas - w + 1, (n,), generator=gen)
    out = images.new_zeros(n, c, canvas, canvas)
    for i, (top, left) in enumerate(zip(tops.tolist(), lefts.tolist())):
        out[i, :, top : top + h, left : left + w] = images[i]
    centres = torch.stack([lefts + (w - 1) / 2, tops + (h - 1) / 2], dim=1).float()
    return out, centres


@torch.no_grad()
def layer_features(
    model: nn.Module,
    x: torch.Tensor,
    layers: Layer | Iterable[Layer],
    grid: int = 7,
    batch_size: int = 250,
    prepare=None,
) -> dict[str, dict[Layer, torch.Tensor]]:
    """Return ``{"pooled": {layer: (N,C)}, "unpooled": {layer: (N, C*g*g)}}`` for images ``x`` (N,C,H,W).

    Pooled: each channel's mean over all positions. Unpooled: the map average-pooled to
    ``g = min(grid, map side)`` cells a side (the layout kept, at that resolution). ``prepare``
    (optional) turns a batch into the model's input, e.g. gray to RGB and resized.
    """
    keys = layer_list(layers)
    grid = check_count(grid, "grid", 1, what="cells a side of the unpooled map")
    batch_size = check_count(batch_size, "batch_size", 1)
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not len(x):
        raise ValueError(f"x must be a batch of images (N,C,H,W), got {getattr(x, 'shape', type(x).__name__)}")
    pooled: dict[Layer, list] = {key: [] for key in keys}
    unpooled: dict[Layer, list] = {key: [] for key in keys}

    def stop_when_all_seen(_module, _inputs, _output):  # layers after the deepest one need not run (nor fit)
        if all(key in acts for key in keys):
            raise StopForward

    stops = [(get_layer(model, key), stop_when_all_seen) for key in keys]
    with frozen_eval(model) as device, capture_activations(model, keys) as acts, hooked(forward=stops):
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size].to(device)
            acts.clear()
            try:
                model(prepare(batch) if prepare is not None else batch)
            except StopForward:
                pass
            for key in keys:
                a = acts[key].float()
                if a.dim() != 4:
                    raise ValueError(
                        f"layer {key!r} gives shape {tuple(a.shape)}, not maps (N,C,h,w): pick a conv layer"
                    )
                pooled[key].append(a.mean((2, 3)).cpu())
                g = (min(grid, a.shape[-2]), min(grid, a.shape[-1]))
                unpooled[key].append(F.adaptive_avg_pool2d(a, g).flatten(1).cpu())
    return {
        "pooled": {key: torch.cat(v) for key, v in pooled.items()},
        "unpooled": {key: torch.cat(v) for key, v in unpooled.items()},
    }


@dataclass(frozen=True)
class ProbeResult:
    """A linear probe's test error, next to the error of always guessing the mean."""

    error: float  # mean Euclidean distance (pixels) between predicted and true positions on the test set
    chance: float  # the same for the training set's mean position
    alpha: float  # the ridge penalty picked on a held-out part of the training set
    predictions: torch.Tensor  # (N_test, 2)

    @property
    def relative(self) -> float:
        """Error as a share of chance: 0 is perfect, 1 no better than guessing the mean."""
        return self.error / self.chance


def _standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(0), train.std(0)
    std = torch.where(std > 1e-8 * (std.max() + 1e-30), std, torch.ones_like(std))  # constant features stay 0
    return (train - mean) / std, (test - mean) / std


def _ridge_fit_predict(x: torch.Tensor, y: torch.Tensor, queries: torch.Tensor, alpha: float) -> torch.Tensor:
    """Ridge regression (x, y centred outside), solved in whichever of the primal or dual form is smaller."""
    n, d = x.shape
    if d <= n:
        w = torch.linalg.solve(x.T @ x + alpha * torch.eye(d, dtype=x.dtype), x.T @ y)
        return queries @ w
    coef = torch.linalg.solve(x @ x.T + alpha * torch.eye(n, dtype=x.dtype), y)
    return queries @ (x.T @ coef)


def ridge_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    alphas: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0),
    holdout: float = 0.2,
) -> ProbeResult:
    """Fit a linear map from features (N,D) to positions (N,2) by ridge regression; return its test error.

    Features are standardised with the training set's statistics. The penalty is
    ``alpha x D`` (D features, each of unit variance), with ``alpha`` picked among ``alphas`` on the
    last ``holdout`` share of the training set, then refitted on all of it.
    """
    for name, t in (("train_x", train_x), ("test_x", test_x), ("train_y", train_y), ("test_y", test_y)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2:
            raise ValueError(f"{name} must be a 2-D tensor (N, D), got {getattr(t, 'shape', type(t).__name__)}")
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise ValueError(
            f"features and positions must pair up: train {len(train_x)} vs {len(train_y)}, "
            f"test {len(test_x)} vs {len(test_y)}"
        )
    if train_x.shape[1] != test_x.shape[1]:
        raise ValueError(f"train and test features differ in size: {train_x.shape[1]} vs {test_x.shape[1]}")
    if not 0 < holdout < 1 or not alphas or any(not math.isfinite(a) or a <= 0 for a in alphas):
        raise ValueError(f"holdout must be in (0, 1) and alphas positive numbers, got {holdout!r} and {alphas!r}")
    n_fit = len(train_x) - max(1, round(holdout * len(train_x)))
    if n_fit < 2:
        raise ValueError(f"{len(train_x)} training examples are too few for a probe: use at least 10")
    xtr, xte = (t.double() for t in _standardise(train_x.double(), test_x.double()))
    ytr, yte = train_y.double(), test_y.double()
    d = xtr.shape[1]

    def fit_predict(rows: slice, queries: torch.Tensor, alpha: float) -> torch.Tensor:
        x, y = xtr[rows], ytr[rows]
        xm, ym = x.mean(0), y.mean(0)
        return _ridge_fit_predict(x - xm, y - ym, queries - xm, alpha * d) + ym

    def error(pred: torch.Tensor, truth: torch.Tensor) -> float:
        return float((pred - truth).norm(dim=1).mean())

    fit, held = slice(0, n_fit), slice(n_fit, None)
    best = min(alphas, key=lambda a: error(fit_predict(fit, xtr[held], a), ytr[held]))
    predictions = fit_predict(slice(None), xte, best)
    chance = error(ytr.mean(0).expand_as(yte), yte)
    return ProbeResult(error(predictions, yte), chance, float(best), predictions.float())
