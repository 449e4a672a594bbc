"""Occlusion sensitivity (Zeiler & Fergus, 2014): hide one patch of the image at a time and
watch the class score drop. Taught in notebook 05.

``occlusion`` gives the same numbers as Captum's ``Occlusion(model).attribute(...)``, but runs
many occluded copies per forward pass, which makes a 224-pixel map take seconds on a CPU.

How the windows are placed (as in Captum): along each dimension a window of size ``w`` starts at
``0, s, 2s, ...`` until the whole length ``D`` is covered, i.e. ``ceil((D - w) / s) + 1`` starts; the
last window may stick out past the border and is then cut off. Each pixel's attribution is the
score drop ``score(x) - score(x occluded)`` averaged over all windows that cover that pixel.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = ["occlusion", "window_starts", "make_baseline"]


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Return where the windows start along one dimension of ``length`` (the last one may be cut off)."""
    return [k * stride for k in range(math.ceil((length - window) / stride) + 1)]


def _as_3d(value: int | Sequence[int], name: str, channels: int) -> tuple[int, int, int]:
    """Turn an int, ``(h, w)`` or ``(c, h, w)`` into ``(c, h, w)``; a window without a channel size covers all channels."""
    if isinstance(value, int):
        # an int stride applies to every dimension (as in Captum); an int window is a square over all channels
        return (channels, value, value) if name == "window" else (value, value, value)
    value = tuple(int(v) for v in value)
    if len(value) == 2:
        return (channels if name == "window" else 1, *value)
    if len(value) == 3:
        return value  # type: ignore[return-value]
    raise ValueError(f"{name} must be an int, (h, w) or (c, h, w); got {value}")


def _check_geometry(shape: Sequence[int], window: Sequence[int], stride: Sequence[int]) -> None:
    """Raise a ValueError a learner can act on when the windows cannot tile the ``(C,H,W)`` input."""
    for dim, length, w, s in zip(("channels", "height", "width"), shape, window, stride):
        if w <= 0 or s <= 0:
            raise ValueError(f"window and stride must be positive, got window {tuple(window)}, stride {tuple(stride)}")
        if w > length:
            raise ValueError(f"the window ({w}) is larger than the input's {dim} ({length}); "
                             f"use a window of at most {length}")
        if s > w and w < length:
            raise ValueError(f"stride {s} is larger than the window {w} along {dim}: some pixels would never be "
                             f"occluded; use a stride of at most {w}")


def make_baseline(x: torch.Tensor, baseline: float | torch.Tensor | str, window: Sequence[int] = (0, 0, 0)) -> torch.Tensor:
    """Return the fill for occluded pixels, broadcastable to ``x`` ``(N,C,H,W)``.

    ``baseline`` is a number, a tensor (e.g. a blurred copy of ``x``), ``"mean"`` (each image's
    average colour, per channel) or ``"blur"`` (a Gaussian blur of ``x`` with sigma = window / 4, so
    detail at the window's scale disappears but colour and rough shape stay).
    """
    if isinstance(baseline, str):
        if baseline == "mean":
            return x.mean(dim=(2, 3), keepdim=True)
        if baseline == "blur":
            sigma = max(window[1], window[2], 2) / 4
            # the kernel needs padding smaller than the image (reflect padding)
            size = min(2 * math.ceil(3 * sigma) + 1, 2 * min(x.shape[-2:]) - 1)
            size -= 1 - size % 2
            from torchvision.transforms.functional import gaussian_blur

            return gaussian_blur(x, kernel_size=[size, size], sigma=[sigma, sigma])
        raise ValueError(f"unknown baseline {baseline!r}; use a number, a tensor, 'mean' or 'blur'")
    if isinstance(baseline, torch.Tensor):
        try:
            torch.broadcast_shapes(baseline.shape, x.shape)
        except RuntimeError:
            raise ValueError(f"baseline of shape {tuple(baseline.shape)} does not broadcast to the input's "
                             f"shape {tuple(x.shape)}") from None
        return baseline.to(device=x.device, dtype=x.dtype)
    return torch.tensor(float(baseline), device=x.device, dtype=x.dtype)


def _targets(target: int | Sequence[int] | torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    """Return one class index per image, ``(N,)`` long."""
    t = torch.as_tensor(target, device=device).long().reshape(-1)
    if t.numel() == 1:
        return t.expand(n)
    if t.numel() != n:
        raise ValueError(f"target has {t.numel()} entries but the batch has {n} images; give one class or one per image")
    return t


@torch.no_grad()
def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    target: int | Sequence[int] | torch.Tensor,
    window: int | Sequence[int],
    stride: int | Sequence[int],
    baseline: float | torch.Tensor | str = 0.0,
    batch_size: int = 8,  # fastest on a 2-core CPU for EfficientNet-Lite0 at 224 px (bench/occlusion.py)
    progress: bool = True,
    output: str = "attribution",
) -> torch.Tensor:
    """Slide an occluding window over ``x`` ``(N,C,H,W)`` and return a map the shape of ``x``.

    ``window``/``stride``: an int or ``(h, w)`` (the window covers all channels) or ``(c, h, w)``
    as in Captum's ``sliding_window_shapes``/``strides``. ``batch_size`` bounds how many occluded
    copies go through the model at once. ``output``:

    - ``"attribution"``: score drop of the target logit, ``logit(x) - logit(x occluded)``, averaged
      over the windows covering each pixel; equals Captum's ``Occlusion`` on the same settings.
    - ``"probability"``: the target's softmax probability while the pixel is hidden, averaged over
      the windows covering it (the Zeiler & Fergus map; values in [0, 1]).
    """
    if output not in ("attribution", "probability"):
        raise ValueError(f"output must be 'attribution' or 'probability', got {output!r}")
    if x.dim() != 4:
        raise ValueError(f"x must be a batch of images (N,C,H,W), got shape {tuple(x.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    param = next(model.parameters(), None)
    device = param.device if param is not None else x.device
    x = x.detach().to(device)
    n, c, h, w = x.shape
    win = _as_3d(window, "window", c)
    step = _as_3d(stride, "stride", c)
    _check_geometry((c, h, w), win, step)
    fill = make_baseline(x, baseline, win).expand_as(x)
    classes = _targets(target, n, device)

    # one 0/1 row per window start and dimension; a window is the outer product of three rows
    rows = []
    for length, size, s in zip((c, h, w), win, step):
        starts = torch.tensor(window_starts(length, size, s), device=device)
        pos = torch.arange(length, device=device)
        rows.append(((pos >= starts[:, None]) & (pos < starts[:, None] + size)).to(x.dtype))
    rows_c, rows_h, rows_w = rows
    grid = (len(rows_c), len(rows_h), len(rows_w))
    corners = torch.cartesian_prod(*(torch.arange(g, device=device) for g in grid)).reshape(-1, 3)

    def score(batch: torch.Tensor) -> torch.Tensor:  # (M,C,H,W) -> (M,) target logit or probability
        out = model(batch)
        out = out.softmax(dim=1) if output == "probability" else out
        return out.gather(1, classes.repeat(len(batch) // n)[:, None])[:, 0]

    modes = {module: module.training for module in model.modules()}  # restored one by one: some may differ
    model.eval()  # dropout off, batch-norm statistics fixed
    try:
        original = score(x)  # (N,)
        drops = torch.empty(len(corners), n, device=device, dtype=x.dtype)
        per_pass = max(1, batch_size // n)  # windows per forward pass, each gives N occluded images
        chunks = range(0, len(corners), per_pass)
        for i in tqdm(chunks, desc="occlusion", unit="batch", disable=not progress, leave=False):
            a, b, d = corners[i:i + per_pass].unbind(1)
            mask = (rows_c[a, None, :, None, None] * rows_h[b, None, None, :, None]
                    * rows_w[d, None, None, None, :]).bool()  # (J,1,C,H,W)
            occluded = torch.where(mask, fill, x)  # (J,N,C,H,W)
            # channels_last makes the convolutions of a big batch about 1.5-2x faster on CPUs
            occluded = occluded.reshape(-1, c, h, w).contiguous(memory_format=torch.channels_last)
            drops[i:i + per_pass] = original - score(occluded).reshape(-1, n)
    finally:
        for module, mode in modes.items():
            module.train(mode)

    # spread each window's drop over the pixels it covers, then divide by how many windows cover each pixel
    drops = drops.reshape(*grid, n)
    total = torch.einsum("abdn,ac,bh,dw->nchw", drops, rows_c, rows_h, rows_w)
    count = torch.einsum("ac,bh,dw->chw", rows_c, rows_h, rows_w)
    attribution = total / count
    if output == "probability":
        return original[:, None, None, None] - attribution
    return attribution
