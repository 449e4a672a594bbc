"""Statistics of what layers compute: sparsity, and units that never fire ("dead" units).

A ReLU unit is *dead* on a dataset when its output is zero for every image and every
position: it passes no signal forward and, since a ReLU's gradient is zero where its output
is zero, it gets no gradient either, so training cannot revive it. Taught in notebook 02.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .core import check_count, frozen_eval
from .hooks import Layer, capture_activations, layer_list


def sparsity(activation: torch.Tensor, threshold: float = 0.0) -> float:
    """Return the fraction (0..1) of entries of ``activation`` (any shape) that are ``<= threshold``.

    After a ReLU every entry is ``>= 0``, so with the default threshold this is the share of exact zeros.
    """
    if activation.numel() == 0:
        raise ValueError("sparsity of an empty tensor is undefined")
    return (activation <= threshold).float().mean().item()


def _per_channel_max(activation: torch.Tensor) -> torch.Tensor:
    """Reduce ``(N,C,...)`` to ``(C,)``: the largest value of each channel over images and positions."""
    if activation.dim() < 2:
        raise ValueError(f"expected an activation (N,C,...) with a channel axis, got shape {tuple(activation.shape)}")
    return activation.transpose(0, 1).flatten(1).amax(dim=1)


@torch.no_grad()
def channel_max_over_dataset(
    model: nn.Module,
    layers: Layer | Iterable[Layer],
    images: torch.Tensor,
    batch_size: int = 500,
    progress: bool = True,
) -> dict[Any, torch.Tensor]:
    """Return ``{layer: (C,) tensor}``: each channel's maximum over all ``images`` (N,...) and positions.

    One forward pass per batch with hooks on all ``layers`` at once (``named_modules()`` names);
    the model runs in eval mode (no dropout) and its mode is restored afterwards.
    """
    names = layer_list(layers)
    if len(images) == 0:
        raise ValueError("channel_max_over_dataset needs at least one image")
    batch_size = check_count(batch_size, "batch_size")
    maxima: dict[Layer, torch.Tensor] = {}
    with frozen_eval(model) as dev:
        with capture_activations(model, names) as acts:
            for start in tqdm(
                range(0, len(images), batch_size), desc="channel maxima", disable=not progress, leave=False
            ):
                model(images[start : start + batch_size].to(dev))
                for name in names:
                    batch_max = _per_channel_max(acts[name]).cpu()
                    maxima[name] = batch_max if name not in maxima else torch.maximum(maxima[name], batch_max)
    return maxima


def dead_units(maxima: dict[Any, torch.Tensor], threshold: float = 0.0) -> dict[Any, torch.Tensor]:
    """Return ``{layer: indices}`` of the channels whose dataset maximum is ``<= threshold``.

    ``maxima`` comes from ``channel_max_over_dataset``.
    """
    return {name: torch.nonzero(m <= threshold).flatten() for name, m in maxima.items()}


def count_dead_units(
    model: nn.Module,
    layers: Layer | Iterable[Layer],
    images: torch.Tensor,
    batch_size: int = 500,
    progress: bool = True,
) -> dict[Any, int]:
    """Return ``{layer: number of channels that never fire}`` on ``images`` (N,...), in one batched pass."""
    maxima = channel_max_over_dataset(model, layers, images, batch_size=batch_size, progress=progress)
    return {name: len(idx) for name, idx in dead_units(maxima).items()}


def _live_part(activation: torch.Tensor) -> torch.Tensor:
    """Keep the channels of ``(N,C,...)`` that are nonzero somewhere in it: ``(N,C_live,...)``, maybe empty."""
    return activation[:, _per_channel_max(activation) > 0]


@torch.no_grad()
def layer_sparsity(
    model: nn.Module, layers: Layer | Iterable[Layer], x: torch.Tensor, live_only: bool = False
) -> dict[Any, float]:
    """Return ``{layer: share of zeros}`` of each layer's output for the batch ``x``, from one forward pass.

    With ``live_only`` only the channels that fire somewhere in ``x`` count: a dead channel's zeros
    say nothing about how selective the live ones are. A layer with no live channel gets NaN.
    """
    names = layer_list(layers)
    with frozen_eval(model) as dev, capture_activations(model, names) as acts:
        model(x.to(dev))
    if not live_only:
        return {name: sparsity(acts[name]) for name in names}
    live = {name: _live_part(acts[name]) for name in names}
    return {name: sparsity(a) if a.numel() else float("nan") for name, a in live.items()}


@torch.no_grad()
def layer_activations(model: nn.Module, x: torch.Tensor, layers: Layer | Iterable[Layer]) -> dict[Any, torch.Tensor]:
    """Return ``{layer: output}`` of ``layers`` for the batch ``x`` (N,...) from one forward pass, as CPU tensors.

    Used by ``widgets.activation_explorer`` (notebook 02), which caches one call per image.
    """
    names = layer_list(layers)
    with frozen_eval(model) as dev, capture_activations(model, names) as acts:
        model(x.to(dev))
    return {name: acts[name].cpu() for name in names}
