"""Scores for saliency maps: do they depend on the model, and do they find the evidence? Notebook 06.

- ``cascading_randomization``: the model-parameter sanity check of Adebayo et al. (2018).
  Layers are re-initialized from the top (output) down, cumulatively, on a deep copy of the
  model; after each step every method's map is compared with its map on the trained model by
  Spearman rank correlation. A method that explains the *model* must change when the model
  is destroyed; one whose map barely changes is mostly showing the image (edges).
- ``deletion_insertion``: the causal scores of Petsiuk et al. (2018). Delete the pixels a map
  ranks most important first (deletion: the target probability should fall fast, low AUC is
  good; deleted pixels take the image's mean colour) or insert them into a blurred copy
  (insertion: it should rise fast, high AUC is good).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from .attribution import saliency_2d
from .core import Target, as_model_input, check_count, check_finite, frozen_eval, resolve_targets
from .hooks import Layer, get_layer, layer_name
from .images import gaussian_blur
from .occlusion import make_baseline

Method = Callable[[nn.Module, torch.Tensor, Target], torch.Tensor]


# --------------------------------------------------------------------------- cascading randomization
def randomization_layers(model: nn.Module) -> list[str]:
    """Return the model's parameter-holding blocks, top (output) first: its children, Sequentials opened one level."""
    groups = []
    for name, child in model.named_children():
        if not any(True for _ in child.parameters()):
            continue
        if isinstance(child, (nn.Sequential, nn.ModuleList)):
            groups += [f"{name}.{sub}" for sub, c in child.named_children() if any(True for _ in c.parameters())]
        else:
            groups.append(name)
    if not groups:
        raise ValueError(f"{type(model).__name__} has no parameters to randomize")
    return groups[::-1]


@torch.no_grad()
def randomize_(module: nn.Module, generator: torch.Generator) -> None:
    """Re-draw every parameter of ``module`` in place from a normal with that tensor's own mean and std.

    Keeping each tensor's scale (rather than a fresh default init) keeps the activations of
    the remaining trained layers in a sensible range, so the maps stay non-trivial.
    """
    for p in module.parameters():
        std = p.std() if p.numel() > 1 else p.abs()
        noise = torch.randn(p.shape, generator=generator).to(p.device, p.dtype)
        p.copy_(p.mean() + std * noise)


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Return the Spearman rank correlation of two maps of the same shape (0.0 if either is constant)."""
    u, v = a.detach().flatten().cpu().double().numpy(), b.detach().flatten().cpu().double().numpy()
    if u.std() == 0 or v.std() == 0:
        return 0.0  # a constant map carries no ranking at all
    return float(spearmanr(u, v)[0])


def cascading_randomization(
    model: nn.Module,
    x: torch.Tensor,
    target: Target,
    methods: Mapping[str, Method],
    layers: Sequence[Layer] | None = None,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Randomize ``layers`` (default ``randomization_layers(model)``) top-down, cumulatively, on a copy of the model.

    ``methods`` maps a name to ``f(model, x, target) -> attributions`` ((N,C,H,W) or (N,h,w)).
    Returns ``{"layers": ["none", layer1, ...], "correlation": {method: array (len(layers)+1,)},
    "maps": {method: [(N,h,w) map per step]}}`` -- correlations of |attribution| maps (summed
    over channels) with the trained model's maps, averaged over the N images. The original
    model is not changed.
    """
    from tqdm.auto import tqdm

    # names, not modules: the copy has its own modules (check every layer before the slow part)
    layers = [layer_name(model, layer) for layer in layers] if layers is not None else randomization_layers(model)
    work = copy.deepcopy(model)
    modules = [get_layer(work, name) for name in layers]
    generator = torch.Generator().manual_seed(seed)
    maps: dict[str, list[torch.Tensor]] = {name: [] for name in methods}
    with frozen_eval(work):
        for step in tqdm(range(len(layers) + 1), desc="randomizing", disable=not progress, leave=False):
            if step > 0:
                randomize_(modules[step - 1], generator)
            for name, method in methods.items():
                maps[name].append(saliency_2d(method(work, x, target)).cpu())
    correlation = {}
    for name, steps in maps.items():
        first = steps[0]
        correlation[name] = np.array(
            [np.mean([rank_correlation(first[i], m[i]) for i in range(len(m))]) for m in steps]
        )
    return {"layers": ["none", *layers], "correlation": correlation, "maps": maps}


# --------------------------------------------------------------------------- deletion / insertion
@torch.no_grad()
def _probability_curve(
    model: nn.Module,
    start: torch.Tensor,
    finish: torch.Tensor,
    order: torch.Tensor,
    target: int,
    steps: int,
    batch_size: int,
    dev: torch.device,
) -> np.ndarray:
    """Move pixels ``order[:k]`` of ``start`` (C,H,W) to their ``finish`` values, k = 0..HW; return p(target) each."""
    c, h, w = start.shape
    counts = torch.linspace(0, h * w, steps + 1).round().long()
    # rank[p] = position of pixel p in the order: pixel p is switched at step k iff rank[p] < counts[k]
    rank = torch.empty(h * w, dtype=torch.long, device=order.device)
    rank[order] = torch.arange(h * w, device=order.device)
    probs = []
    for first in range(0, steps + 1, batch_size):
        k = counts[first : first + batch_size].to(rank.device)
        mask = (rank[None, :] < k[:, None]).view(-1, 1, h, w).to(dev, start.dtype)
        images = start.to(dev) * (1 - mask) + finish.to(dev) * mask
        probs.append(model(images).softmax(1)[:, target].cpu())
    return torch.cat(probs).numpy()


def auc(curve: np.ndarray) -> float:
    """Return the area under a curve sampled at equal steps of [0, 1] (trapezoid rule)."""
    curve = np.asarray(curve, dtype=float)
    return float(((curve[1:] + curve[:-1]) / 2).mean())


def deletion_insertion(
    model: nn.Module,
    x: torch.Tensor,
    saliency: torch.Tensor,
    target: Target,
    steps: int = 50,
    batch_size: int = 26,
    deleted: float | str = "mean",
    blur_sigma: float = 5.0,
) -> dict:
    """Return Petsiuk et al.'s deletion and insertion scores of ``saliency`` for images ``x`` (N,C,H,W) in [0,1].

    ``saliency`` is ``(N,H,W)`` importance (or attributions reduced by ``saliency_2d``; a
    smaller map is upsampled). Deletion sets the most important pixels to ``deleted`` first:
    ``"mean"`` (default) is each image's mean colour, per channel, which removes the pixel's
    information without adding black or gray edges the image never had; a number is a pixel
    value (0.0 = black). Insertion copies them into a ``blur_sigma`` blurred copy
    (``images.gaussian_blur``). ``steps`` + 1 images per curve go through the model
    ``batch_size`` at a time. Returns ``{"deletion": (N,steps+1) probabilities, "insertion": ...,
    "deletion_auc": (N,), "insertion_auc": (N,)}``; AUCs are in [0, 1].
    """
    if deleted != "mean" and (
        isinstance(deleted, bool) or not isinstance(deleted, (int, float)) or not 0 <= deleted <= 1
    ):
        raise ValueError(f"deleted must be 'mean' or a pixel value in [0, 1], got {deleted!r}")
    steps = check_count(steps, "steps", what="how many times pixels are moved along each curve, e.g. 50")
    batch_size = check_count(batch_size, "batch_size")
    if not (isinstance(blur_sigma, (int, float)) and 0 < blur_sigma < float("inf")):
        raise ValueError(f"blur_sigma must be a number > 0 (pixels), got {blur_sigma!r}")
    x = as_model_input(x, model)
    check_finite(saliency, "saliency")  # NaN would sort anywhere: the pixel order would be meaningless
    sal = saliency_2d(saliency).float()
    if sal.shape[0] != x.shape[0]:
        raise ValueError(f"{sal.shape[0]} saliency maps for {x.shape[0]} images")
    if sal.shape[1:] != x.shape[2:]:
        sal = F.interpolate(sal[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    result: dict[str, list[np.ndarray]] = {"deletion": [], "insertion": []}
    with frozen_eval(model) as dev:
        targets = resolve_targets(target, x.shape[0], model(x[:1]).shape[1], model=model)
        blurred = gaussian_blur(x, blur_sigma)
        # occlusion's fills: "mean" (as 0.0 was on normalized inputs) carries no information for any model
        fill = make_baseline(x, deleted).expand_as(x)
        for i in range(x.shape[0]):
            order = sal[i].flatten().argsort(descending=True).cpu()
            t = int(targets[i])
            gone = fill[i]
            result["deletion"].append(_probability_curve(model, x[i], gone, order, t, steps, batch_size, dev))
            result["insertion"].append(_probability_curve(model, blurred[i], x[i], order, t, steps, batch_size, dev))
    out = {key: np.stack(curves) for key, curves in result.items()}
    out["deletion_auc"] = np.array([auc(c) for c in out["deletion"]])
    out["insertion_auc"] = np.array([auc(c) for c in out["insertion"]])
    return out
