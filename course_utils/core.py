"""The shared plumbing every model-running function uses: one eval/freeze context, one target resolver.

``frozen_eval`` puts a model in eval mode with frozen parameters for a block and then restores
*each module's own* train/eval mode and each parameter's ``requires_grad`` (a model whose dropout
was frozen on purpose comes back exactly as it went in). ``resolve_targets`` turns the class
targets a user passes (an int, a list, a tensor) into one checked ``(N,)`` long tensor.
The device of a model is ``config.model_device``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from .config import model_device

Target = int | Sequence[int] | torch.Tensor

__all__ = ["Target", "frozen_eval", "model_device", "resolve_targets", "train_mode"]


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


def resolve_targets(target: Target, n: int, num_classes: int | None = None) -> torch.Tensor:
    """Turn an int, a list or a tensor of class indices into a ``(n,)`` long tensor on the CPU.

    One index is repeated for every image. Floats, booleans, negative indices and (with
    ``num_classes``) indices past the last class raise a ``ValueError`` that says what to pass.
    """
    if isinstance(target, torch.Tensor):
        if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
            raise ValueError(f"target tensor must hold integer class indices, not {target.dtype}")
        t = target.detach().to("cpu", torch.long).flatten()
    elif isinstance(target, (bool, np.bool_)):
        raise ValueError("target must be a class index (int), not a bool")
    elif isinstance(target, (int, np.integer)):
        t = torch.tensor([int(target)])
    elif isinstance(target, Sequence) and not isinstance(target, str):
        bad = [v for v in target if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer))]
        if bad:
            raise ValueError(f"targets must be integer class indices; got {bad[0]!r} ({type(bad[0]).__name__})")
        t = torch.tensor([int(v) for v in target], dtype=torch.long)
    else:
        raise ValueError(f"target must be a class index (int), a list or a tensor of them, not {type(target).__name__}")
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"got {t.numel()} targets for a batch of {n} images; give one class index or one per image")
    if (t < 0).any():
        raise ValueError(f"target class {int(t[t < 0][0])} is out of range: class indices start at 0")
    if num_classes is not None and (t >= num_classes).any():
        bad_class = int(t[t >= num_classes][0])
        raise ValueError(
            f"target class {bad_class} is out of range: the model has {num_classes} classes (0..{num_classes - 1})"
        )
    return t.clone()
