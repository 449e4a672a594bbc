"""Occlusion sensitivity (Zeiler & Fergus, 2014): hide one patch of the image at a time and
watch the class score drop. Taught in notebook 05.

This file is the whole method: where the windows go (``window_starts``), what fills them
(``make_baseline``), the straightforward batched algorithm (``occluded_scores``: occlude each
window, send many occluded copies through the model per forward pass) and the averaging of the
score drops into a map (``average_over_windows``). ``occlusion`` puts them together and gives the
same numbers as Captum's ``Occlusion(model).attribute(...)``.

For the course's models ``occlusion`` hands the forward passes to an accelerator,
``occlusion_crops.crop_scores``, which recomputes the early layers only on a crop around each
window (same numbers, a fraction of the work); read it after this file, if at all.

How the windows are placed (as in Captum): along each dimension a window of size ``w`` starts at
``0, s, 2s, ...`` until the whole length ``D`` is covered, i.e. ``ceil((D - w) / s) + 1`` starts; the
last window may stick out past the border and is then cut off. Each pixel's attribution is the
score drop ``score(x) - score(x occluded)`` averaged over all windows that cover that pixel.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from .core import Target, as_model_input, check_count, check_finite, frozen_eval, resolve_targets
from .images import gaussian_blur
from .occlusion_crops import CannotSplit, crop_scores, default_prefix, split_model

__all__ = [
    "occlusion",
    "window_starts",
    "window_rows",
    "make_baseline",
    "occluded_scores",
    "average_over_windows",
    "default_prefix",
]

Baseline = float | torch.Tensor | str
Rows = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (Gc,C), (Gh,H), (Gw,W): row g is 1 where window g covers


# --------------------------------------------------------------------------- where the windows go
def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Return where the windows start along one dimension of ``length`` (the last one may be cut off)."""
    return [k * stride for k in range(math.ceil((length - window) / stride) + 1)]


def window_rows(
    length: int, window: int, stride: int, dtype: torch.dtype = torch.float32, device: torch.device | None = None
) -> torch.Tensor:
    """Return a ``(windows, length)`` 0/1 tensor: row g is 1 on the positions window g covers along one dimension."""
    starts = torch.tensor(window_starts(length, window, stride), device=device)
    pos = torch.arange(length, device=device)
    return ((pos >= starts[:, None]) & (pos < starts[:, None] + window)).to(dtype)


def _whole(value: object) -> int | None:
    """Return ``value`` as an int if it is a whole number (int, NumPy int), else None (floats, bools, strings)."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def _as_3d(value: int | Sequence[int], name: str, channels: int) -> tuple[int, int, int]:
    """Turn an int, ``(h, w)`` or ``(c, h, w)`` into ``(c, h, w)``; a window without a channel size spans them all."""
    whole = _whole(value)
    if whole is not None:
        value = whole
        # an int stride applies to every dimension (as in Captum); an int window is a square over all channels
        return (channels, value, value) if name == "window" else (value, value, value)
    parts = [_whole(v) for v in value] if isinstance(value, Sequence) and not isinstance(value, str) else [None]
    if any(v is None for v in parts):
        raise ValueError(f"{name} must be a whole number of pixels, (h, w) or (c, h, w); got {value!r}")
    dims = tuple(int(v) for v in parts)  # type: ignore[arg-type]
    if len(dims) == 2:
        return (channels if name == "window" else 1, dims[0], dims[1])
    if len(dims) == 3:
        return (dims[0], dims[1], dims[2])
    raise ValueError(f"{name} must be an int, (h, w) or (c, h, w); got {dims}")


def _check_geometry(shape: Sequence[int], window: Sequence[int], stride: Sequence[int]) -> None:
    """Raise a ValueError a learner can act on when the windows cannot tile the ``(C,H,W)`` input."""
    for dim, length, w, s in zip(("channels", "height", "width"), shape, window, stride):
        if w <= 0 or s <= 0:
            raise ValueError(f"window and stride must be positive, got window {tuple(window)}, stride {tuple(stride)}")
        if w > length:
            raise ValueError(
                f"the window ({w}) is larger than the input's {dim} ({length}); use a window of at most {length}"
            )
        if s > w and w < length:
            raise ValueError(
                f"stride {s} is larger than the window {w} along {dim}: some pixels would never be "
                f"occluded; use a stride of at most {w}"
            )


# --------------------------------------------------------------------------- what fills them
def make_baseline(x: torch.Tensor, baseline: Baseline, window: Sequence[int] = (0, 0, 0)) -> torch.Tensor:
    """Return the fill for occluded pixels, broadcastable to ``x`` ``(N,C,H,W)`` pixels in [0,1].

    ``baseline`` is a number (a pixel value: 0.0, the default as in Captum, is black; 0.5 mid-gray),
    a tensor (e.g. a blurred copy of ``x``), ``"mean"`` (each image's average colour, per channel)
    or ``"blur"`` (``images.gaussian_blur`` of ``x`` with sigma = window / 4, so detail at the
    window's scale disappears but colour and rough shape stay).
    """
    if isinstance(baseline, str):
        if baseline == "mean":
            return x.mean(dim=(2, 3), keepdim=True)
        if baseline == "blur":
            return gaussian_blur(x, max(window[1], window[2], 2) / 4)
        raise ValueError(f"unknown baseline {baseline!r}; use a number, a tensor, 'mean' or 'blur'")
    if isinstance(baseline, torch.Tensor):
        try:
            torch.broadcast_shapes(baseline.shape, x.shape)
        except RuntimeError:
            raise ValueError(
                f"baseline of shape {tuple(baseline.shape)} does not broadcast to the input's shape {tuple(x.shape)}"
            ) from None
        check_finite(baseline, "baseline")
        return baseline.to(device=x.device, dtype=x.dtype)
    if isinstance(baseline, bool) or not isinstance(baseline, (int, float)):
        raise TypeError(f"baseline must be a number, a tensor, 'mean' or 'blur', not {type(baseline).__name__}")
    check_finite(torch.tensor(float(baseline)), "baseline")
    return torch.tensor(float(baseline), device=x.device, dtype=x.dtype)


# --------------------------------------------------------------------------- the algorithm
def occluded_scores(
    model: nn.Module,
    x: torch.Tensor,
    fill: torch.Tensor,
    rows: Rows,
    score: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int = 8,
    progress: bool = False,
) -> torch.Tensor:
    """Return ``score`` of every occluded copy of ``x`` ``(N,C,H,W)``: ``(windows, N)``, windows in ``rows`` order.

    Window ``(a, b, d)`` replaces ``x`` by ``fill`` (shape of ``x``) where ``rows[0][a]``,
    ``rows[1][b]`` and ``rows[2][d]`` are all 1. About ``batch_size`` occluded images go through the
    model per forward pass (one window of every image at least); ``score`` maps the model's
    ``(M,classes)`` output for M = windows * N images, window-major, to ``(M,)``.
    """
    n, c, h, w = x.shape
    rows_c, rows_h, rows_w = rows
    corners = torch.cartesian_prod(*(torch.arange(len(r), device=x.device) for r in rows)).reshape(-1, 3)
    per_pass = max(1, batch_size // n)  # windows per forward pass, each gives N occluded images
    scores = []
    for i in tqdm(range(0, len(corners), per_pass), desc="occlusion", unit="batch", disable=not progress, leave=False):
        a, b, d = corners[i : i + per_pass].unbind(1)
        # a window is the outer product of its three rows: (J,1,C,H,W), broadcast over the N images
        mask = (rows_c[a, None, :, None, None] * rows_h[b, None, None, :, None] * rows_w[d, None, None, None, :]).bool()
        occluded = torch.where(mask, fill, x)  # (J,N,C,H,W)
        # channels_last makes the convolutions of a big batch about 1.5-2x faster on CPUs
        occluded = occluded.reshape(-1, c, h, w).contiguous(memory_format=torch.channels_last)
        scores.append(score(model(occluded)).reshape(-1, n))
    return torch.cat(scores)


def average_over_windows(values: torch.Tensor, rows: Rows) -> torch.Tensor:
    """Spread each window's ``values`` ``(windows, N)`` over the pixels it covers; return their mean ``(N,C,H,W)``."""
    rows_c, rows_h, rows_w = rows
    values = values.reshape(len(rows_c), len(rows_h), len(rows_w), -1).to(rows_c.dtype)
    total = torch.einsum("abdn,ac,bh,dw->nchw", values, rows_c, rows_h, rows_w)
    count = torch.einsum("ac,bh,dw->chw", rows_c, rows_h, rows_w)  # >= 1: the geometry check leaves no gaps
    return total / count


@torch.no_grad()
def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    target: Target,
    window: int | Sequence[int],
    stride: int | Sequence[int],
    baseline: Baseline = 0.0,
    batch_size: int = 8,  # fastest on a 2-core CPU for EfficientNet-Lite0 at 224 px (bench/occlusion.py)
    progress: bool = True,
    output: str = "attribution",
    prefix: str | nn.Module | None = "auto",
) -> torch.Tensor:
    """Slide an occluding window over ``x`` ``(N,C,H,W)`` pixels in [0,1]; return a map the shape of ``x``.

    ``window``/``stride``: an int or ``(h, w)`` (the window covers all channels) or ``(c, h, w)``
    as in Captum's ``sliding_window_shapes``/``strides``. ``baseline``: the fill (see
    ``make_baseline``; 0.0 = black). ``batch_size`` bounds how many occluded copies (or the same
    memory in crops) go through the model at once. ``output``:

    - ``"attribution"``: score drop of the target logit, ``logit(x) - logit(x occluded)``, averaged
      over the windows covering each pixel; equals Captum's ``Occlusion`` on the same settings.
    - ``"probability"``: the target's softmax probability while the pixel is hidden, averaged over
      the windows covering it (the Zeiler & Fergus map; values in [0, 1]).

    ``prefix``: the stage (e.g. ``"blocks.2"`` of EfficientNet-Lite0) up to which each occluded copy
    is computed only on a crop around its window (``occlusion_crops``: same numbers, less work);
    ``"auto"`` picks it for the course's models, None always runs whole images. When the crops
    cannot reproduce the whole maps (checked on three windows first) it runs whole images, with a
    ``RuntimeWarning`` if ``prefix`` was given explicitly.
    """
    if output not in ("attribution", "probability"):
        raise ValueError(f"output must be 'attribution' or 'probability', got {output!r}")
    x = as_model_input(x, model)  # (N,C,H,W) floats without NaN, in the model's dtype (float64 -> float32)
    batch_size = check_count(batch_size, "batch_size", what="occluded images per forward pass")
    n, c, h, w = x.shape
    win, step = _as_3d(window, "window", c), _as_3d(stride, "stride", c)
    _check_geometry((c, h, w), win, step)
    explicit = prefix != "auto"  # warn about a fallback only when the caller asked for this prefix
    if prefix == "auto":
        prefix = default_prefix(model)
    stages = split_model(model, prefix) if prefix is not None else None  # a bad prefix fails before any work

    with frozen_eval(model) as device:  # dropout off, batch-norm statistics fixed; modes restored after
        x = x.detach().to(device)
        fill = make_baseline(x, baseline, win).expand_as(x)
        rows_c, rows_h, rows_w = (
            window_rows(length, size, s, x.dtype, device) for length, size, s in zip((c, h, w), win, step)
        )
        rows = (rows_c, rows_h, rows_w)
        logits = model(x)  # (N,classes): the unoccluded scores, and how many classes there are
        classes = resolve_targets(target, n, num_classes=logits.shape[1], model=model).to(device)  # before the windows

        def score(out: torch.Tensor) -> torch.Tensor:  # (M,classes) logits, window-major -> (M,) target's score
            out = out.softmax(dim=1) if output == "probability" else out
            return out.gather(1, classes.repeat(len(out) // n)[:, None])[:, 0]

        scores = None
        if stages is not None:
            try:
                scores = crop_scores(stages, x, fill, rows, score, batch_size, progress)
            except CannotSplit as exc:  # e.g. TensorFlow "same" padding on a size that is not a multiple of the stride
                if explicit:
                    name = type(model).__name__
                    warnings.warn(
                        f"occlusion: cannot compute {name} on crops after {prefix!r} ({exc}); "
                        "running whole images instead (prefix=None)",
                        RuntimeWarning,
                        stacklevel=2,
                    )
        if scores is None:
            scores = occluded_scores(model, x, fill, rows, score, batch_size, progress)
        # probability: p(target) while each window is hidden; attribution: the score drops
        values = scores if output == "probability" else score(logits) - scores
    return average_over_windows(values, rows)
