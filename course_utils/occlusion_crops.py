"""The accelerator behind ``occlusion.occlusion``: compute the early layers only on a crop around each window.

An occluder changes only the pixels under it, so after a few layers it has changed only the
activations whose receptive field touches it. The early layers work on the biggest maps and cost
most of the time on a CPU; they are recomputed only on a crop around each window, and the result
is pasted into their output on the clean image, computed once ("incremental inference",
Nakandala et al., 2019). The numbers are those of ``occlusion.occluded_scores`` up to float rounding.

The steps: cut the model into stages (``model_stages``, ``split_model``); trace how far each
stage's outputs reach back into its input (``stage_reach`` -> ``Reach``); push each window's
changed patch through the early stages on crops (``_advance``); paste the last patch into the
clean map and run the remaining stages on whole maps (``crop_scores``). Before the real run,
``crop_scores`` checks on three unoccluded windows that crops give back the clean maps, and
raises ``CannotSplit`` when they do not (e.g. parallel branches); ``occlusion`` then runs whole images.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn
from tqdm.auto import tqdm

from .hooks import hooked, layer_name
from .models import EfficientNetLite0, FashionNet

__all__ = ["Reach", "CannotSplit", "stage_reach", "model_stages", "split_model", "default_prefix", "crop_scores"]

Stages = list[tuple[str, nn.Module]]
Patch = tuple[int, int, torch.Tensor]  # (top, left, values (N,C,h,w)): where a map differs from the clean one


@dataclass(frozen=True)
class Reach:
    """Along one axis, output ``j`` of a stack of layers reads input ``[j*stride - pad, j*stride - pad + size)``."""

    stride: int = 1
    size: int = 1
    pad: int = 0

    def then(self, kernel: int, stride: int, pad: int) -> Reach:
        """Return the reach after one more layer with this (dilated) ``kernel`` size, ``stride`` and left ``pad``."""
        return Reach(self.stride * stride, self.size + (kernel - 1) * self.stride, self.pad + pad * self.stride)

    def plan(self, lo: int, hi: int, n_in: int, n_out: int) -> tuple[int, int, int, int] | None:
        """Return ``(crop_lo, crop_hi, out_lo, out_hi)`` for a change of input ``[lo, hi)`` (None: no output reads it).

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


# --------------------------------------------------------------------------- tracing a stage's reach
def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _layer_window(module: nn.Module, dim: int, n_in: int) -> tuple[int, int, int]:
    """Return (dilated kernel, stride, left pad) of a conv or pooling layer along ``dim`` for an input ``n_in`` long."""
    kernel, stride = _pair(module.kernel_size)[dim], _pair(module.stride or module.kernel_size)[dim]
    dilation = _pair(getattr(module, "dilation", 1))[dim]
    span = (kernel - 1) * dilation + 1
    own_forward = type(module).forward is not nn.Conv2d.forward
    if isinstance(module, nn.Conv2d) and own_forward and "Same" in type(module).__name__:
        # timm's Conv2dSame pads like TensorFlow's "same": from the input length, the extra pixel on the right
        return span, stride, max((math.ceil(n_in / stride) - 1) * stride + span - n_in, 0) // 2
    padding = module.padding
    if padding == "valid":
        return span, stride, 0
    if padding == "same":
        return span, stride, (span - 1) // 2
    return span, stride, _pair(padding)[dim]


def stage_reach(stage: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, tuple[Reach, Reach]]:
    """Run ``stage`` on ``x`` (N,C,H,W); return its output and its (height, width) ``Reach``, traced from its layers.

    Raises ``CannotSplit`` if a layer other than Conv2d / MaxPool2d / AvgPool2d changes the map size.
    """
    calls: list[tuple[nn.Module, torch.Size | None, torch.Size | None]] = []

    def record(module: nn.Module, inputs: tuple, out: Any) -> None:
        calls.append(
            (
                module,
                inputs[0].shape if inputs and torch.is_tensor(inputs[0]) else None,
                out.shape if torch.is_tensor(out) else None,
            )
        )

    leaves = [m for m in stage.modules() if next(m.children(), None) is None]
    with hooked(forward=[(m, record) for m in leaves]):
        out = stage(x.clone())  # a clone: an in-place first layer must not change the cached map
    if out.dim() != 4:
        raise CannotSplit(f"it returns a tensor of shape {tuple(out.shape)}, not a map (N,C,H,W)")
    reach = [Reach(), Reach()]
    for module, shape_in, shape_out in calls:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) and shape_in is not None:
            reach = [reach[d].then(*_layer_window(module, d, shape_in[2 + d])) for d in (0, 1)]
        elif shape_in is None or shape_out is None or len(shape_in) != 4 or shape_in[-2:] != shape_out[-2:]:
            raise CannotSplit(f"its layer {type(module).__name__} changes the map in a way occlusion cannot follow")
    return out, (reach[0], reach[1])


# --------------------------------------------------------------------------- cutting a model into stages
def model_stages(model: nn.Module) -> Stages | None:
    """Return ``model`` as a list of ``(name, stage)`` whose composition is its forward (None: an unknown model)."""
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


def split_model(model: nn.Module, prefix: str | nn.Module) -> tuple[Stages, Stages]:
    """Return the stages of ``model`` up to and including ``prefix`` (a name or the stage itself), and the rest."""
    if isinstance(prefix, nn.Module):
        prefix = layer_name(model, prefix)
    stages = model_stages(model)
    if stages is None:
        raise ValueError(
            f"occlusion does not know how to cut a {type(model).__name__} into stages; "
            "use prefix=None (whole images) or pass an nn.Sequential"
        )
    names = [name for name, _ in stages[:-1]]
    if prefix not in names:
        close = difflib.get_close_matches(str(prefix), names, n=3)
        hint = f"did you mean {close}? " if close else ""
        raise ValueError(f"no stage {prefix!r} to split {type(model).__name__} after; {hint}choose one of {names}")
    k = names.index(prefix) + 1
    return stages[:k], stages[k:]


# --------------------------------------------------------------------------- running crops
class _Bar(Protocol):
    def update(self, n: int) -> Any: ...


class _NoBar:
    """Stand-in for a tqdm bar when nothing should be shown."""

    def update(self, n: int) -> None:
        pass


def _paste(canvas: torch.Tensor, patch: torch.Tensor, top: int, left: int) -> None:
    """Copy ``patch`` (..., h, w) into ``canvas`` (..., H, W) with its corner at (top, left), cut to the canvas."""
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + patch.shape[-2], canvas.shape[-2]), min(left + patch.shape[-1], canvas.shape[-1])
    if y0 < y1 and x0 < x1:
        canvas[..., y0:y1, x0:x1] = patch[..., y0 - top : y1 - top, x0 - left : x1 - left]


def _span(row: torch.Tensor) -> tuple[int, int]:
    """Return ``[lo, hi)`` where a 0/1 window row is 1 (a window is one contiguous run)."""
    covered = row.nonzero().flatten()
    return int(covered[0]), int(covered[-1]) + 1


def window_patches(x: torch.Tensor, fill: torch.Tensor, rows: Sequence[torch.Tensor]) -> list[Patch]:
    """Return each window's occluded pixels of ``x`` (N,C,H,W), in the window order of ``occluded_scores``."""
    rows_c, rows_h, rows_w = rows
    patches = []
    for a, b, d in itertools.product(range(len(rows_c)), range(len(rows_h)), range(len(rows_w))):
        (y0, y1), (x0, x1) = _span(rows_h[b]), _span(rows_w[d])
        channel = (rows_c[a] > 0)[None, :, None, None]  # the window may cover only some channels
        patches.append((y0, x0, torch.where(channel, fill[:, :, y0:y1, x0:x1], x[:, :, y0:y1, x0:x1])))
    return patches


def _advance(
    stage: nn.Module,
    reach: tuple[Reach, Reach],
    clean_in: torch.Tensor,
    clean_out: torch.Tensor,
    patches: list[Patch],
    budget: int,
    bar: _Bar,
) -> list[Patch]:
    """Push each window's changed patch of the stage input through ``stage``; return the changed patch of its output."""
    n = clean_in.shape[0]
    empty = (0, 0, clean_out.new_empty(n, clean_out.shape[1], 0, 0))
    result: list[Patch] = [empty] * len(patches)
    plans = {}  # window -> (rows plan, columns plan) of Reach.plan
    groups: dict[tuple[int, int], list[int]] = {}  # windows whose crops have the same size run together
    for i, (top, left, p) in enumerate(patches):
        rows = reach[0].plan(top, top + p.shape[-2], clean_in.shape[-2], clean_out.shape[-2]) if p.numel() else None
        cols = reach[1].plan(left, left + p.shape[-1], clean_in.shape[-1], clean_out.shape[-1]) if p.numel() else None
        if rows is None or cols is None:
            bar.update(1)  # nothing downstream reads this change
            continue
        plans[i] = rows, cols
        groups.setdefault((rows[1] - rows[0], cols[1] - cols[0]), []).append(i)
    for (h, w), members in groups.items():
        per_pass = max(1, budget // (n * clean_in.shape[1] * h * w))
        for start in range(0, len(members), per_pass):
            chunk = members[start : start + per_pass]
            crops = []
            for i in chunk:
                a, c = plans[i][0][0], plans[i][1][0]
                crop = clean_in[:, :, a : a + h, c : c + w].clone()
                top, left, p = patches[i]
                _paste(crop, p, top - a, left - c)
                crops.append(crop)
            out = stage(torch.cat(crops).contiguous(memory_format=torch.channels_last)).unflatten(0, (len(chunk), n))
            for j, i in enumerate(chunk):
                (a, _, o0, o1), (c, _, q0, q1) = plans[i]
                r0, c0 = o0 - a // reach[0].stride, q0 - c // reach[1].stride
                if r0 + o1 - o0 > out.shape[-2] or c0 + q1 - q0 > out.shape[-1]:
                    raise CannotSplit("a crop's output is smaller than the traced reach says")
                result[i] = (o0, q0, out[j, :, :, r0 : r0 + o1 - o0, c0 : c0 + q1 - q0])
            bar.update(len(chunk))
    return result


def crop_scores(
    stages: tuple[Stages, Stages],
    x: torch.Tensor,
    fill: torch.Tensor,
    rows: Sequence[torch.Tensor],
    score: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int = 8,
    progress: bool = False,
) -> torch.Tensor:
    """Return the scores of ``occlusion.occluded_scores`` ``(windows, N)``, computing the early stages on crops only.

    ``stages``: (early stages, run on crops; later stages, run on whole maps) from ``split_model``.
    Raises ``CannotSplit`` if the stages cannot be followed, or if recomputing a few unoccluded
    windows on crops does not give back the clean maps (e.g. a model with parallel branches).
    """
    inc, rest = stages
    n = x.shape[0]
    budget = batch_size * x[0].numel()  # elements per forward pass: the same memory as batch_size whole images
    clean, reaches = [x], []
    for _, stage in inc:
        out, reach = stage_reach(stage, clean[-1])
        clean.append(out)
        reaches.append(reach)
    patches = window_patches(x, fill, rows)

    def run_crops(todo: list[Patch], bar: _Bar, check: bool = False) -> list[Patch]:
        for k, (_, stage) in enumerate(inc):
            todo = _advance(stage, reaches[k], clean[k], clean[k + 1], todo, budget, bar)
            for top, left, p in todo if check else ():
                ref = clean[k + 1][:, :, top : top + p.shape[-2], left : left + p.shape[-1]]
                if not torch.allclose(p, ref, rtol=1e-4, atol=1e-4 * float(clean[k + 1].abs().max())):
                    raise CannotSplit(f"stage {inc[k][0]!r} on a crop differs from the whole map")
        return todo

    # self-check on three unoccluded windows (first, middle, last): crops must reproduce the clean maps
    probes = [patches[i] for i in sorted({0, len(patches) // 2, len(patches) - 1})]
    probes = [(top, left, x[:, :, top : top + p.shape[-2], left : left + p.shape[-1]]) for top, left, p in probes]
    run_crops(probes, _NoBar(), check=True)

    scores = []
    with tqdm(
        total=len(patches) * (len(inc) + 1), desc="occlusion", unit="window", disable=not progress, leave=False
    ) as bar:
        changed = run_crops(patches, bar)
        per_pass = max(1, budget // clean[-1].numel())
        for start in range(0, len(changed), per_pass):
            chunk = changed[start : start + per_pass]
            maps = clean[-1].repeat(len(chunk), 1, 1, 1).unflatten(0, (len(chunk), n))
            for j, (top, left, p) in enumerate(chunk):
                _paste(maps[j], p, top, left)
            out = maps.flatten(0, 1).contiguous(memory_format=torch.channels_last)
            for _, stage in rest:
                out = stage(out)
            scores.append(score(out).reshape(len(chunk), n))
            bar.update(len(chunk))
    return torch.cat(scores)
