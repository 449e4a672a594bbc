"""The shared plumbing every model-running function uses: one eval/freeze context, one target resolver.

``frozen_eval`` puts a model in eval mode with frozen parameters for a block and then restores
*each module's own* train/eval mode and each parameter's ``requires_grad`` (a model whose dropout
was frozen on purpose comes back exactly as it went in). ``resolve_targets`` turns the class
targets a user passes (an int, a class name, a list, a tensor or array) into one checked ``(N,)``
long tensor; ``class_names_of`` says what a model's classes are called.
The device of a model is ``config.model_device``.
"""

from __future__ import annotations

import difflib
import itertools
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from .config import model_device

Target = int | str | Sequence[int | str] | torch.Tensor | np.ndarray

__all__ = [
    "Target",
    "as_model_input",
    "check_count",
    "check_finite",
    "class_names_of",
    "frozen_eval",
    "model_device",
    "model_dtype",
    "resolve_targets",
    "train_mode",
]


@contextmanager
def frozen_eval(model: nn.Module) -> Iterator[torch.device]:
    """Run the block with ``model`` in eval mode and its parameters frozen; restore both after it. Yields the device."""
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        for m, _ in modes:
            m.training = False  # not model.eval(): that is undone by model.train(was), which loses per-module modes
        for p, flag in flags:
            if flag:
                p.requires_grad_(False)  # only the input needs a gradient: less memory, no .grad on weights
        yield model_device(model)
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        for m, mode in modes:
            m.training = mode


@contextmanager
def train_mode(model: nn.Module) -> Iterator[torch.device]:
    """Run the block with every module of ``model`` in train mode; restore each module's own mode after it."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.train()
        yield model_device(model)
    finally:
        for m, mode in modes:
            m.training = mode


def model_dtype(model: nn.Module) -> torch.dtype:
    """Return the dtype of the model's first floating-point parameter or buffer (float32 for a model without any)."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def check_count(value: object, name: str, minimum: int = 1, maximum: int | None = None, what: str = "") -> int:
    """Return ``value`` as an int if it is a whole number in ``minimum..maximum``; else raise a ValueError.

    Accepts Python and NumPy integers; floats, bools and strings are refused. ``what`` says in a
    few words what the number counts, for the message.
    """
    valid = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
    about = f" ({what})" if what else ""
    if not isinstance(value, (bool, np.bool_)):
        try:
            number = operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            if number >= minimum and (maximum is None or number <= maximum):
                return number
    raise ValueError(f"{name} must be a whole number {valid}{about}, got {value!r}")


def check_finite(t: torch.Tensor, name: str = "x") -> None:
    """Raise a ``ValueError`` saying how many NaN/Inf values ``t`` holds and where the first one is."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, not {type(t).__name__}")
    bad = ~torch.isfinite(t.detach())
    if bad.any():
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN/Inf value(s) (the first at index {first}); results would be NaN "
            f"or silently wrong. Fix the input: reload the image, or replace them with torch.nan_to_num({name})"
        )


def as_model_input(x: torch.Tensor, model: nn.Module, name: str = "x") -> torch.Tensor:
    """Check a batch ``(N,C,H,W)`` of float pixels for ``model``; return it detached, on the model's device and dtype.

    Integer images (uint8 0..255) are refused with the fix, since a model takes floats in [0,1];
    other float precisions (float64, float16) are cast to the model's dtype; NaN/Inf are refused.
    """
    if not isinstance(x, torch.Tensor):
        hint = " (convert it with torch.from_numpy(a).float())" if isinstance(x, np.ndarray) else ""
        raise TypeError(f"{name} must be a torch tensor of images (N,C,H,W), not {type(x).__name__}{hint}")
    if x.dim() != 4:
        raise ValueError(
            f"{name} must be a batch of images (N,C,H,W), got shape {tuple(x.shape)}; "
            + (f"add a batch dimension with {name}[None]" if x.dim() == 3 else "see images.preprocess")
        )
    if not x.dtype.is_floating_point:
        fix = f"{name}.float() / 255" if x.dtype == torch.uint8 else f"{name}.float()"
        raise ValueError(f"{name} is a {x.dtype} tensor, but models take float pixels in [0,1]; pass {fix}")
    check_finite(x, name)
    return x.detach().to(model_device(model), model_dtype(model))


def class_names_of(model: nn.Module | None, num_classes: int | None = None) -> list[str] | None:
    """Return the class names of ``model``'s outputs in index order, or None where they are not known.

    A ``class_names`` attribute on the model wins; else FashionNet gets ``FASHION_CLASSES`` and any
    model with 1000 outputs the ImageNet names (``models.imagenet_classes``).
    """
    names = getattr(model, "class_names", None) if model is not None else None
    if names is not None:
        return [str(name) for name in names]
    from .data import FASHION_CLASSES  # imported here: data and models import this module
    from .models import FashionNet, imagenet_classes

    if isinstance(model, FashionNet):
        return list(FASHION_CLASSES)
    if num_classes == 1000:
        return imagenet_classes()
    return None


def _normalized(name: str) -> str:
    return " ".join(name.replace("_", " ").casefold().split())


def _class_index(name: str, names: Sequence[str] | None, what: str) -> int:
    """Look up one class name (case, spaces and underscores ignored); unknown names get "did you mean"."""
    if names is None:
        raise ValueError(
            f"target {name!r} is a class name, but the class names of {what} are not known; "
            "pass the class index (an int) instead, or give the model a class_names list"
        )
    keys = [_normalized(n) for n in names]
    key = _normalized(name)
    hits = [i for i, k in enumerate(keys) if k == key]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise ValueError(f"class name {name!r} matches classes {hits}; pass the index you mean")
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    close += [k for k in keys if key and key in k.split() and k not in close][: 5 - len(close)]  # "cat" -> "tiger cat"
    hint = ", ".join(f"{names[keys.index(k)]!r} ({keys.index(k)})" for k in close)
    raise ValueError(
        f"no class {name!r} among the {len(names)} classes of {what}"
        + (f"; did you mean {hint}?" if hint else ".")
        + " Pass a class index (an int) or one of its class names (see course_utils.core.class_names_of(model))."
    )


def _bad_class(value: object, kind: str, num_classes: int | None) -> ValueError:
    """The one message for a value that is not a class: what it was, and what to pass instead."""
    valid = f"0..{num_classes - 1}" if num_classes is not None else "0, 1, 2, ..."
    shown = " ".join(repr(value).split())
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return ValueError(
        f"target {shown} ({kind}) is not a class index: targets must be integer class indices {valid} "
        "(or class names), one for the batch or one per image"
    )


def resolve_targets(
    target: Target,
    n: int,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    model: nn.Module | None = None,
) -> torch.Tensor:
    """Turn the class target(s) a user passes into a checked ``(n,)`` long tensor on the CPU.

    Accepted: an int, an integer tensor or NumPy array, a list with one entry per image, and class
    names (``"tabby"``, any case) looked up in ``class_names`` or, if None, in ``class_names_of(model,
    num_classes)``. One target is repeated for every image. Floats, booleans, negative indices and
    (with ``num_classes``) indices past the last class raise a ``ValueError`` that says what to pass.
    """
    what = type(model).__name__ if model is not None else "this model"
    names: list[str] | None = None

    def lookup(name: str) -> int:
        nonlocal names
        if names is None:
            names = list(class_names) if class_names is not None else class_names_of(model, num_classes)
        return _class_index(name, names, what)

    if isinstance(target, np.ndarray):
        if target.dtype.kind in "US":  # an array of class names
            target = target.tolist()
        elif target.dtype.kind not in "iu":
            raise _bad_class(target, f"a NumPy {target.dtype} array", num_classes)
        else:
            target = torch.from_numpy(np.ascontiguousarray(target).astype(np.int64))
    if isinstance(target, torch.Tensor):
        if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
            raise _bad_class(target, f"a {target.dtype} tensor", num_classes)
        values: list = target.detach().flatten().tolist()
    elif isinstance(target, (str, int, np.integer, float, np.floating)) or target is None:
        values = [target]
    elif isinstance(target, Sequence):
        values = list(target)
    else:
        raise _bad_class(target, type(target).__name__, num_classes)
    indices = []
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            raise _bad_class(v, "a bool", num_classes)
        if isinstance(v, str):
            indices.append(lookup(v))
        elif isinstance(v, (int, np.integer)):
            indices.append(int(v))
        else:
            raise _bad_class(v, type(v).__name__, num_classes)
    if len(indices) == 1:
        indices = indices * n
    if len(indices) != n:
        raise ValueError(f"got {len(indices)} targets for a batch of {n} images; give one class index or one per image")
    for v in indices:
        if v < 0:
            raise ValueError(f"target class {v} is out of range: class indices start at 0 (-1 is not the last class)")
        if num_classes is not None and v >= num_classes:
            raise ValueError(
                f"target class {v} is out of range: the model has {num_classes} classes (0..{num_classes - 1})"
            )
    if any(v >= 2**63 for v in indices):
        raise ValueError(f"target class {max(indices)} is out of range")
    return torch.tensor(indices, dtype=torch.long)
