"""What the image optimization maximizes: ``Objective`` and the objectives of notebooks 07-11.

An objective is a function of the dict of activations one forward pass produced, plus the
names of the layers it needs recorded. Objectives compose like numbers (``a + b``, ``a - b``,
``2 * a``), in the spirit of Lucent's objectives, so a recipe reads as its formula:

    optim.class_logit(281) - 1e-3 * optim.l2() - 0.1 * optim.total_variation()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core import Target, class_names_of, frozen_eval, resolve_targets
from .arguments import check_count, check_number

# {"image": (N,C,H,W) pixels, "input": what the model saw, "logits": (N,K), layer name: its output}
Acts = dict[str, torch.Tensor]


class Objective:
    """A scalar to maximize, computed from the dict of activations one forward pass produced.

    ``layers`` names what the forward pass must record (``named_modules()`` names, or
    ``"logits"`` for the model's output). Objectives compose: ``a + b``, ``a - b``, ``2 * a``.
    """

    def __init__(self, fn: Callable[[Acts], torch.Tensor], name: str, layers: Iterable[str] = ()):
        self.fn, self.name, self.layers = fn, name, tuple(dict.fromkeys(layers))

    def __call__(self, acts: Acts) -> torch.Tensor:
        return self.fn(acts)

    def __repr__(self) -> str:
        return self.name

    def __add__(self, other: Objective | float) -> Objective:
        if isinstance(other, (int, float)) and other == 0:  # lets sum([...]) start from 0
            return self
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(lambda a: self(a) + other(a), f"{self} + {other}", self.layers + other.layers)

    __radd__ = __add__

    def __neg__(self) -> Objective:
        return Objective(lambda a: -self(a), f"-({self})", self.layers)

    def __sub__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(lambda a: self(a) - other(a), f"{self} - {_wrap(other)}", self.layers + other.layers)

    def __mul__(self, weight: float) -> Objective:
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            return NotImplemented
        if not math.isfinite(weight):
            raise ValueError(f"an objective's weight must be a finite number, got {weight}")
        return Objective(lambda a: weight * self(a), f"{weight:g}·{_wrap(self)}", self.layers)

    __rmul__ = __mul__


def _wrap(obj: Objective) -> str:
    """Parenthesize a composite objective's name when it is nested in another."""
    return f"({obj})" if any(op in obj.name for op in (" + ", " - ")) else obj.name


def _count(target: Target) -> int:
    """How many targets were given: 1 for a single one, else the length of the list, tensor or array."""
    if isinstance(target, (torch.Tensor, np.ndarray)):
        return max(1, int(np.prod(target.shape)))
    if isinstance(target, Sequence) and not isinstance(target, str):
        return len(target)
    return 1


def has_class_names(target: Target) -> bool:
    """True if ``target`` holds a class name (a string): looking it up needs the model's class names."""
    if isinstance(target, str):
        return True
    if isinstance(target, np.ndarray):
        return target.dtype.kind in "US"
    return isinstance(target, Sequence) and any(isinstance(v, str) for v in target)


def resolve_class_names(model: nn.Module, target: Target, probe: torch.Tensor) -> Target:
    """Return ``target`` with its class names looked up among ``model``'s classes (unchanged if it has none).

    FashionNet's names and a model's ``class_names`` are known at once; otherwise one forward pass
    of ``probe[:1]`` (pixels) tells the number of classes, and 1000 means ImageNet's names.
    """
    if not has_class_names(target):
        return target
    num_classes = None
    if class_names_of(model) is None:
        with torch.no_grad(), frozen_eval(model) as device:
            num_classes = model(probe[:1].detach().to(device)).shape[1]
    return resolve_targets(target, _count(target), num_classes=num_classes, model=model)


def _class_picker(target: Target) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
    """Check ``target`` now; return ``pick(scores (N,K)) -> (N,)`` (checked against K when run) and a label.

    Class names are looked up when the scores first arrive: 1000 classes means ImageNet's names
    (the recipes, which know the model, look names up before the loop with ``resolve_class_names``).
    """
    count = _count(target)
    if has_class_names(target):
        given: Target = target
        label = repr(target) if isinstance(target, str) else str(np.asarray(target).tolist())
    else:
        given = resolve_targets(target, count)  # wrong types and negative classes fail now, before any work
        label = str(int(given[0])) if count == 1 else str(given.tolist())
    by_classes: dict[int, torch.Tensor] = {}  # names looked up once per number of classes

    def pick(scores: torch.Tensor) -> torch.Tensor:
        # only now is the number of classes known; one class is repeated for every image
        k = scores.shape[1]
        if k not in by_classes:
            by_classes[k] = resolve_targets(given, count, num_classes=k)
        index = resolve_targets(by_classes[k], scores.shape[0], num_classes=k).to(scores.device)
        return scores.gather(1, index[:, None])[:, 0]

    return pick, label


def class_logit(target: Target) -> Objective:
    """The pre-softmax score of class ``target`` (one index, or one per image), averaged over the batch."""
    pick, label = _class_picker(target)
    return Objective(lambda a: pick(a["logits"]).mean(), f"logit[{label}]", ["logits"])


def class_log_prob(target: Target) -> Objective:
    """The log-softmax probability of class ``target``: it can also rise by pushing other classes down."""
    pick, label = _class_picker(target)
    return Objective(lambda a: pick(F.log_softmax(a["logits"], dim=1)).mean(), f"log p[{label}]", ["logits"])


def channel(layer: str, index: int) -> Objective:
    """The mean activation of channel ``index`` of ``layer`` (negate the objective to minimize it)."""
    index = check_count(index, "channel index", minimum=0)  # -1 would silently mean "the last channel"

    def fn(a: Acts) -> torch.Tensor:
        act = a[layer]
        if act.dim() < 2 or index >= act.shape[1]:
            count = act.shape[1] if act.dim() >= 2 else 0
            raise ValueError(f"channel {index} is out of range: layer {layer!r} has {count} channels (0..{count - 1})")
        return act[:, index].mean()

    return Objective(fn, f"{layer}[{index}]", [layer])


def channels(layer: str, indices: Sequence[int], at: tuple[int, int] | None = None) -> Objective:
    """The mean activation of channel ``indices[i]`` of ``layer`` in image ``i``, averaged over the batch.

    One optimization then visualizes several channels at once, one per image of the batch
    (``N`` must equal ``len(indices)``); a layer of shape ``(N,C)`` (a linear layer) works too.
    ``at=(y, x)`` takes the activation at that one position of the map instead of the mean over
    positions: Olah et al.'s *neuron* objective, where the mean is their *channel* objective.
    """
    if isinstance(indices, (str, bytes)) or not isinstance(indices, Sequence) or not indices:
        raise TypeError(f"indices must be a non-empty list of channel numbers, one per image, not {indices!r}")
    chosen = [check_count(i, "channel index", minimum=0) for i in indices]
    if at is not None:
        if not isinstance(at, Sequence) or len(at) != 2:
            raise TypeError(f"at must be a position (y, x) on the layer's map, e.g. (7, 7), not {at!r}")
        at = (check_count(at[0], "at[0] (row)", minimum=0), check_count(at[1], "at[1] (column)", minimum=0))
    rows = torch.arange(len(chosen))

    def fn(a: Acts) -> torch.Tensor:
        act = a[layer]
        if act.dim() < 2 or act.shape[0] != len(chosen):
            raise ValueError(
                f"channels() has {len(chosen)} indices, one per image, but layer {layer!r} gave a batch of shape "
                f"{tuple(act.shape)}; optimize a batch of {len(chosen)} images, e.g. shape ({len(chosen)}, 3, H, W)"
            )
        if max(chosen) >= act.shape[1]:
            count = act.shape[1]
            raise ValueError(
                f"channel {max(chosen)} is out of range: layer {layer!r} has {count} channels (0..{count - 1})"
            )
        picked = act[rows.to(act.device), torch.tensor(chosen, device=act.device)]  # (N,) or (N,H,W)
        if at is not None:
            if picked.dim() != 3 or at[0] >= picked.shape[1] or at[1] >= picked.shape[2]:
                raise ValueError(f"at={at} is not a position on layer {layer!r}'s map of shape {tuple(act.shape[2:])}")
            picked = picked[:, at[0], at[1]]
        return picked.reshape(len(chosen), -1).mean()

    where = "" if at is None else f"@{at}"
    return Objective(fn, f"{layer}[{chosen}]{where}", [layer])


def diversity(layer: str) -> Objective:
    """Minus the mean cosine similarity of the batch's Gram matrices at ``layer``, over all pairs of images.

    Olah et al. (2017): add ``w * diversity(layer)`` to an objective and the images of a batch are
    pushed to use *different* combinations of ``layer``'s features (Gram matrices ignore where a
    feature sits, so moving the same pattern elsewhere does not count as diverse). The value lies
    in [-1, 0] for a post-ReLU layer (0: pairwise orthogonal Gram matrices, -1: all alike); it needs a
    batch of at least two images. Lucid sums over the others instead of averaging: its weight is ours / (N-1).
    """

    def fn(a: Acts) -> torch.Tensor:
        act = a[layer]
        if act.dim() != 4 or act.shape[0] < 2:
            raise ValueError(
                f"diversity compares the images of a batch: layer {layer!r} must give (N,C,H,W) with N >= 2, got "
                f"{tuple(act.shape)}; optimize a batch, e.g. FourierImage((4, 3, 128, 128))"
            )
        n = act.shape[0]
        grams = F.normalize(gram_matrix(act).reshape(n, -1), dim=1)
        similarity = grams @ grams.T  # (N,N) cosines, 1 on the diagonal
        return -(similarity.sum() - similarity.diagonal().sum()) / (n * (n - 1))

    return Objective(fn, f"diversity({layer})", [layer])


def layer_norm(layer: str) -> Objective:
    """The mean squared activation of ``layer``: DeepDream's "amplify whatever is there"."""
    return Objective(lambda a: a[layer].pow(2).mean(), f"‖{layer}‖²", [layer])


def feature_match(layer: str, target: torch.Tensor) -> Objective:
    """Minus the relative squared error ``‖φ(x) − φ₀‖² / ‖φ₀‖²`` of ``layer``'s features (inversion)."""
    target = _finite_features(target, "feature_match")
    norm = target.pow(2).sum().clamp_min(1e-12)

    def fn(a: Acts) -> torch.Tensor:
        return -(a[layer] - target.to(a[layer].device)).pow(2).sum() / norm.to(a[layer].device)

    return Objective(fn, f"-‖{layer} − φ₀‖²/‖φ₀‖²", [layer])


def _finite_features(target: torch.Tensor, what: str) -> torch.Tensor:
    """Return ``target`` detached, or raise if it holds NaN/Inf (the objective would be NaN at every step)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{what} needs the target features as a tensor, not {type(target).__name__}")
    if not bool(torch.isfinite(target).all()):
        raise ValueError(f"{what}: the target features hold NaN or infinite values; check the reference image")
    return target.detach()


def gram_matrix(x: torch.Tensor) -> torch.Tensor:
    """Return the Gram matrices ``F Fᵀ / (H·W)`` of features ``(N,C,H,W)`` as ``(N,C,C)``."""
    if x.dim() != 4:
        raise ValueError(f"gram_matrix wants features of shape (N,C,H,W), got {tuple(x.shape)}")
    n, c, h, w = x.shape
    feats = x.reshape(n, c, h * w)
    return feats @ feats.transpose(1, 2) / (h * w)


def gram_match(layer: str, target_gram: torch.Tensor) -> Objective:
    """Minus the mean squared difference between ``layer``'s Gram matrix and ``target_gram`` (style)."""
    target_gram = _finite_features(target_gram, "gram_match")

    def fn(a: Acts) -> torch.Tensor:
        return -(gram_matrix(a[layer]) - target_gram.to(a[layer].device)).pow(2).mean()

    return Objective(fn, f"-‖G({layer}) − G₀‖²", [layer])


def l2() -> Objective:
    """The mean squared distance of the pixels from mid-gray 0.5 (use as ``- w * l2()``)."""
    return Objective(lambda a: (a["image"] - 0.5).pow(2).mean(), "L2")


def total_variation(beta: float = 2.0) -> Objective:
    """The mean ``(Δx² + Δy²)^(β/2)`` over pixels: large for noisy images (use as ``- w * total_variation()``)."""

    beta = check_number(beta, "beta", hint="total_variation(beta) is usually 1 or 2")

    def fn(a: Acts) -> torch.Tensor:
        img = a["image"]
        dx = img[..., :-1, 1:] - img[..., :-1, :-1]
        dy = img[..., 1:, :-1] - img[..., :-1, :-1]
        return (dx.pow(2) + dy.pow(2) + 1e-8).pow(beta / 2).mean()

    return Objective(fn, f"TV^{beta:g}" if beta != 2 else "TV")
