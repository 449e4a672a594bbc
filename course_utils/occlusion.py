"""Occlusion sensitivity (Zeiler & Fergus, 2014): hide one patch of the image at a time and
watch the class score drop. Taught in notebook 05.

``occlusion`` gives the same numbers as Captum's ``Occlusion(model).attribute(...)``, but runs
many occluded copies per forward pass and, for models it can cut into stages, recomputes the
early layers only on a crop around each window ("incremental inference", below), which makes a
224-pixel map take seconds on a CPU.

How the windows are placed (as in Captum): along each dimension a window of size ``w`` starts at
``0, s, 2s, ...`` until the whole length ``D`` is covered, i.e. ``ceil((D - w) / s) + 1`` starts; the
last window may stick out past the border and is then cut off. Each pixel's attribution is the
score drop ``score(x) - score(x occluded)`` averaged over all windows that cover that pixel.
"""
from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = ["occlusion", "window_starts", "make_baseline", "Reach", "stage_reach", "model_stages", "split_model",
           "default_prefix"]


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


# --------------------------------------------------------------------------- incremental inference
# An occluder changes only the pixels under it, so after a few layers it has changed only the
# activations whose receptive field touches it. The early layers work on the biggest maps and cost
# most of the time on a CPU; they are recomputed only on a crop around each window, and the result
# is pasted into their output on the clean image, computed once (Nakandala et al., 2019).


@dataclass(frozen=True)
class Reach:
    """Along one axis, output position ``j`` of a stack of layers reads input ``[j*stride - pad, j*stride - pad + size)``."""

    stride: int = 1
    size: int = 1
    pad: int = 0

    def then(self, kernel: int, stride: int, pad: int) -> "Reach":
        """Return the reach after one more layer with this (dilated) ``kernel`` size, ``stride`` and left ``pad``."""
        return Reach(self.stride * stride, self.size + (kernel - 1) * self.stride, self.pad + pad * self.stride)

    def plan(self, lo: int, hi: int, n_in: int, n_out: int) -> tuple[int, int, int, int] | None:
        """Return ``(crop_lo, crop_hi, out_lo, out_hi)`` for a change of the input at ``[lo, hi)``, or None if no output reads it.

        Outputs ``[out_lo, out_hi)`` read the changed input; recomputing them needs the input crop
        ``[crop_lo, crop_hi)``. The crop starts at a multiple of ``stride`` so every layer sees the same
        grid (and the same padding) as on the whole image; crop output ``i`` is output ``crop_lo // stride + i``.
        """
        j, size, pad = self.stride, self.size, self.pad
        out_lo = max(0, -((size - 1 - lo - pad) // j))  # first j with j*stride - pad + size - 1 >= lo
        out_hi = min(n_out, (hi - 1 + pad) // j + 1)  # last j with j*stride - pad <= hi - 1, plus one
        if out_lo >= out_hi:
            return None
        crop_lo = max(0, out_lo * j - pad) // j * j
        crop_hi = min(n_in, -(-((out_hi - 1) * j - pad + size) // j) * j)
        return crop_lo, crop_hi, out_lo, out_hi


class CannotSplit(Exception):
    """Raised when a stage's layers do not allow computing its output on crops."""


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _layer_window(module: nn.Module, dim: int, n_in: int) -> tuple[int, int, int]:
    """Return (dilated kernel, stride, left padding) of a conv or pooling layer along ``dim`` for an input of length ``n_in``."""
    kernel, stride = _pair(module.kernel_size)[dim], _pair(module.stride or module.kernel_size)[dim]
    dilation = _pair(getattr(module, "dilation", 1))[dim]
    span = (kernel - 1) * dilation + 1
    if isinstance(module, nn.Conv2d) and type(module).forward is not nn.Conv2d.forward and "Same" in type(module).__name__:
        # timm's Conv2dSame pads like TensorFlow's "same": from the input length, the extra pixel on the right
        return span, stride, max((math.ceil(n_in / stride) - 1) * stride + span - n_in, 0) // 2
    padding = module.padding
    if padding == "valid":
        return span, stride, 0
    if padding == "same":
        return span, stride, (span - 1) // 2
    return span, stride, _pair(padding)[dim]


def stage_reach(stage: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, tuple[Reach, Reach]]:
    """Run ``stage`` on ``x`` (N,C,H,W); return its output and its (height, width) ``Reach``, traced from the layers it calls.

    Raises ``CannotSplit`` if a layer other than Conv2d / MaxPool2d / AvgPool2d changes the map size.
    """
    calls: list[tuple[nn.Module, torch.Size, torch.Size]] = []

    def record(module: nn.Module, inputs: tuple, out) -> None:
        calls.append((module, inputs[0].shape if inputs and torch.is_tensor(inputs[0]) else None,
                      out.shape if torch.is_tensor(out) else None))

    handles = [m.register_forward_hook(record) for m in stage.modules() if next(m.children(), None) is None]
    try:
        out = stage(x.clone())  # a clone: an in-place first layer must not change the cached map
    finally:
        for handle in handles:
            handle.remove()
    if out.dim() != 4:
        raise CannotSplit(f"it returns a tensor of shape {tuple(out.shape)}, not a map (N,C,H,W)")
    reach = [Reach(), Reach()]
    for module, shape_in, shape_out in calls:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            reach = [reach[d].then(*_layer_window(module, d, shape_in[2 + d])) for d in (0, 1)]
        elif shape_in is None or shape_out is None or len(shape_in) != 4 or shape_in[-2:] != shape_out[-2:]:
            raise CannotSplit(f"its layer {type(module).__name__} changes the map in a way occlusion cannot follow")
    return out, (reach[0], reach[1])


def model_stages(model: nn.Module) -> list[tuple[str, nn.Module]] | None:
    """Return ``model`` as a list of ``(name, stage)`` whose composition is its forward, or None for an unknown model."""
    from .models import EfficientNetLite0, FashionNet

    if isinstance(model, EfficientNetLite0):
        stem = nn.Sequential(model.input_norm, model.conv_stem, model.bn1)
        head = nn.Sequential(model.conv_head, model.bn2, model.global_pool, model.classifier)
        return [("bn1", stem), *[(f"blocks.{i}", block) for i, block in enumerate(model.blocks)], ("classifier", head)]
    if isinstance(model, FashionNet) or type(model) is nn.Sequential:  # forward = the children in order
        return list(model.named_children())
    return None


# the last stage worth computing on crops (bench/occlusion.py): deeper, the crops cover most of the map
DEFAULT_PREFIX = {"EfficientNetLite0": "blocks.2"}


def default_prefix(model: nn.Module) -> str | None:
    """Return the stage after which ``occlusion`` switches from crops to whole maps for ``model`` (None: no crops)."""
    return DEFAULT_PREFIX.get(type(model).__name__)


def split_model(model: nn.Module, prefix: str) -> tuple[list[tuple[str, nn.Module]], list[tuple[str, nn.Module]]]:
    """Return the stages of ``model`` up to and including ``prefix``, and the stages after it."""
    stages = model_stages(model)
    if stages is None:
        raise ValueError(f"occlusion does not know how to cut a {type(model).__name__} into stages; "
                         "use prefix=None (whole images) or pass an nn.Sequential")
    names = [name for name, _ in stages[:-1]]
    if prefix not in names:
        close = difflib.get_close_matches(str(prefix), names, n=3)
        hint = f"did you mean {close}? " if close else ""
        raise ValueError(f"no stage {prefix!r} to split {type(model).__name__} after; {hint}choose one of {names}")
    k = names.index(prefix) + 1
    return stages[:k], stages[k:]


def _paste(canvas: torch.Tensor, patch: torch.Tensor, top: int, left: int) -> None:
    """Copy ``patch`` (..., h, w) into ``canvas`` (..., H, W) with its corner at (top, left), cutting off what falls outside."""
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + patch.shape[-2], canvas.shape[-2]), min(left + patch.shape[-1], canvas.shape[-1])
    if y0 < y1 and x0 < x1:
        canvas[..., y0:y1, x0:x1] = patch[..., y0 - top:y1 - top, x0 - left:x1 - left]


Patch = tuple[int, int, torch.Tensor]  # (top, left, values (N,C,h,w)): where a map differs from the clean one


def _advance(stage: nn.Module, reach: tuple[Reach, Reach], clean_in: torch.Tensor, clean_out: torch.Tensor,
             patches: list[Patch], budget: int, bar) -> list[Patch]:
    """Push each window's changed patch of the stage input through ``stage``; return the changed patch of its output."""
    n = clean_in.shape[0]
    plans = [(reach[0].plan(top, top + p.shape[-2], clean_in.shape[-2], clean_out.shape[-2]),
              reach[1].plan(left, left + p.shape[-1], clean_in.shape[-1], clean_out.shape[-1]))
             if p.numel() else (None, None) for top, left, p in patches]
    empty = (0, 0, clean_out.new_empty(n, clean_out.shape[1], 0, 0))
    result: list[Patch] = [empty] * len(patches)
    groups: dict[tuple[int, int], list[int]] = {}  # windows whose crops have the same size run together
    for i, (rows, cols) in enumerate(plans):
        if rows is None or cols is None:
            bar.update(1)  # nothing downstream reads this change
            continue
        groups.setdefault((rows[1] - rows[0], cols[1] - cols[0]), []).append(i)
    for (h, w), members in groups.items():
        per_pass = max(1, budget // (n * clean_in.shape[1] * h * w))
        for start in range(0, len(members), per_pass):
            chunk = members[start:start + per_pass]
            crops = []
            for i in chunk:
                (a, _, _, _), (c, _, _, _) = plans[i]
                crop = clean_in[:, :, a:a + h, c:c + w].clone()
                top, left, p = patches[i]
                _paste(crop, p, top - a, left - c)
                crops.append(crop)
            out = stage(torch.cat(crops).contiguous(memory_format=torch.channels_last)).unflatten(0, (len(chunk), n))
            for j, i in enumerate(chunk):
                (a, _, o0, o1), (c, _, q0, q1) = plans[i]
                r0, c0 = o0 - a // reach[0].stride, q0 - c // reach[1].stride
                if r0 + o1 - o0 > out.shape[-2] or c0 + q1 - q0 > out.shape[-1]:
                    raise CannotSplit("a crop's output is smaller than the traced reach says")
                result[i] = (o0, q0, out[j, :, :, r0:r0 + o1 - o0, c0:c0 + q1 - q0])
            bar.update(len(chunk))
    return result


class _NoBar:
    """Stand-in for a tqdm bar when nothing should be shown."""

    def update(self, _: int) -> None:
        pass


def _incremental_scores(inc: list[tuple[str, nn.Module]], rest: list[tuple[str, nn.Module]], x: torch.Tensor,
                        patches: list[Patch], score: Callable[[torch.Tensor], torch.Tensor], batch_size: int,
                        progress: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (score of ``x`` (N,), scores of the occluded copies (len(patches), N)), computing ``inc`` on crops only.

    Raises ``CannotSplit`` if the stages cannot be followed, or if recomputing a few unoccluded
    windows on crops does not give back the clean maps (e.g. a model with parallel branches).
    """
    n = x.shape[0]
    budget = batch_size * x[0].numel()  # elements per forward pass: the same memory as batch_size whole images
    clean, reaches = [x], []
    for _, stage in inc:
        out, reach = stage_reach(stage, clean[-1])
        clean.append(out)
        reaches.append(reach)
    last = clean[-1]
    for _, stage in rest:
        last = stage(last)
    original = score(last)

    def run_crops(todo: list[Patch], bar, check: bool = False) -> list[Patch]:
        for k, (_, stage) in enumerate(inc):
            todo = _advance(stage, reaches[k], clean[k], clean[k + 1], todo, budget, bar)
            for top, left, p in todo if check else ():
                ref = clean[k + 1][:, :, top:top + p.shape[-2], left:left + p.shape[-1]]
                if not torch.allclose(p, ref, rtol=1e-4, atol=1e-4 * float(clean[k + 1].abs().max())):
                    raise CannotSplit(f"stage {inc[k][0]!r} on a crop differs from the whole map")
        return todo

    # self-check on three unoccluded windows (first, middle, last): crops must reproduce the clean maps
    probes = [patches[i] for i in sorted({0, len(patches) // 2, len(patches) - 1})]
    probes = [(top, left, x[:, :, top:top + p.shape[-2], left:left + p.shape[-1]]) for top, left, p in probes]
    run_crops(probes, _NoBar(), check=True)

    with tqdm(total=len(patches) * (len(inc) + 1), desc="occlusion", unit="window", disable=not progress,
              leave=False) as bar:
        changed = run_crops(patches, bar)
        scores = torch.empty(len(patches), n, device=x.device, dtype=original.dtype)
        per_pass = max(1, budget // clean[-1].numel())
        for start in range(0, len(changed), per_pass):
            chunk = changed[start:start + per_pass]
            maps = clean[-1].repeat(len(chunk), 1, 1, 1).unflatten(0, (len(chunk), n))
            for j, (top, left, p) in enumerate(chunk):
                _paste(maps[j], p, top, left)
            out = maps.flatten(0, 1).contiguous(memory_format=torch.channels_last)
            for _, stage in rest:
                out = stage(out)
            scores[start:start + len(chunk)] = score(out).reshape(len(chunk), n)
            bar.update(len(chunk))
    return original, scores


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
    prefix: str | None = "auto",
) -> torch.Tensor:
    """Slide an occluding window over ``x`` ``(N,C,H,W)`` and return a map the shape of ``x``.

    ``window``/``stride``: an int or ``(h, w)`` (the window covers all channels) or ``(c, h, w)``
    as in Captum's ``sliding_window_shapes``/``strides``. ``batch_size`` bounds how many occluded
    copies (or the same memory in crops) go through the model at once. ``output``:

    - ``"attribution"``: score drop of the target logit, ``logit(x) - logit(x occluded)``, averaged
      over the windows covering each pixel; equals Captum's ``Occlusion`` on the same settings.
    - ``"probability"``: the target's softmax probability while the pixel is hidden, averaged over
      the windows covering it (the Zeiler & Fergus map; values in [0, 1]).

    ``prefix``: the stage (e.g. ``"blocks.2"`` of EfficientNet-Lite0) up to which each occluded copy
    is computed only on a crop around its window (same numbers, less work); ``"auto"`` picks it for
    the course's models (``DEFAULT_PREFIX``), None always runs whole images. When the crops cannot
    reproduce the whole maps (checked on three windows first: e.g. parallel branches, or TensorFlow
    "same" padding on a size that is not a multiple of the stride) it runs whole images, with a
    ``RuntimeWarning`` if ``prefix`` was given explicitly.
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
    explicit = prefix != "auto"  # warn about a fallback only when the caller asked for this prefix
    if prefix == "auto":
        prefix = default_prefix(model)
    stages = split_model(model, prefix) if prefix is not None else None

    # one 0/1 row per window start and dimension; a window is the outer product of three rows
    rows = []
    for length, size, s in zip((c, h, w), win, step):
        starts = torch.tensor(window_starts(length, size, s), device=device)
        pos = torch.arange(length, device=device)
        rows.append(((pos >= starts[:, None]) & (pos < starts[:, None] + size)).to(x.dtype))
    rows_c, rows_h, rows_w = rows
    grid = (len(rows_c), len(rows_h), len(rows_w))
    corners = torch.cartesian_prod(*(torch.arange(g, device=device) for g in grid)).reshape(-1, 3)

    def score(out: torch.Tensor) -> torch.Tensor:  # (M,classes) logits -> (M,) target logit or probability
        out = out.softmax(dim=1) if output == "probability" else out
        return out.gather(1, classes.repeat(len(out) // n)[:, None])[:, 0]

    modes = {module: module.training for module in model.modules()}  # restored one by one: some may differ
    model.eval()  # dropout off, batch-norm statistics fixed
    try:
        drops = None
        if stages is not None:
            tops, lefts = window_starts(h, win[1], step[1]), window_starts(w, win[2], step[2])
            patches = []  # each window's occluded pixels: the only place where its copy differs from x
            for a, b, d in corners.tolist():
                y0, x0 = tops[b], lefts[d]
                y1, x1 = min(y0 + win[1], h), min(x0 + win[2], w)
                channel = (rows_c[a] > 0)[None, :, None, None]  # the window may cover only some channels
                patches.append((y0, x0, torch.where(channel, fill[:, :, y0:y1, x0:x1], x[:, :, y0:y1, x0:x1])))
            try:
                original, scores = _incremental_scores(*stages, x, patches, score, batch_size, progress)
                drops = original - scores
            except CannotSplit as exc:  # e.g. TensorFlow "same" padding on a size that is not a multiple of the stride
                if explicit:
                    warnings.warn(f"occlusion: cannot compute {type(model).__name__} on crops after {prefix!r} ({exc}); "
                                  "running whole images instead (prefix=None)", RuntimeWarning, stacklevel=2)
        if drops is None:
            original = score(model(x))  # (N,)
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
                drops[i:i + per_pass] = original - score(model(occluded)).reshape(-1, n)
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
