"""Loss surfaces: many restarts at once, the line from initialization to solution, and 2-D slices.

A network's parameters are handled as a dict ``name -> tensor`` (``dict(model.named_parameters())``),
and a *stack* of S parameter sets as the same dict with a leading dimension S. ``torch.func``
(``functional_call`` + ``vmap``) runs a whole stack of small MLPs as one batched model, so ten
seeds train in one loop instead of ten; convolutional nets are evaluated one parameter set at a
time, each on the whole evaluation batch (vmapped convolutions are slower on CPU; see
bench/adversarial.py). Used in notebook 12 (Choromanska et al. 2015;
Goodfellow et al. 2015; Li et al. 2018).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from tqdm.auto import tqdm

from .config import model_device
from .core import check_count, frozen_eval
from .optim.arguments import check_number

Params = dict[str, torch.Tensor]

__all__ = [
    "mlp",
    "shrink_images",
    "params_of",
    "stack",
    "unstack",
    "stacked_losses",
    "Restarts",
    "train_restarts",
    "interpolate",
    "filter_normalized_direction",
    "loss_slice",
    "std_interval",
]


def mlp(width: int, in_features: int = 100, classes: int = 10) -> nn.Module:
    """A one-hidden-layer perceptron ``(N,C,H,W) -> (N,classes)`` with ``width`` ReLU units."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU(), nn.Linear(width, classes))


def shrink_images(images: torch.Tensor, size: int = 10) -> torch.Tensor:
    """Downsample ``(N,C,H,W)`` images to ``size x size`` (area average), as Choromanska et al. did with MNIST."""
    return F.adaptive_avg_pool2d(images.float(), size)


def params_of(model: nn.Module) -> Params:
    """Return a detached copy of the model's parameters, by name."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def stack(param_sets: Sequence[Params]) -> Params:
    """Stack S parameter dicts into one dict of ``(S, ...)`` tensors."""
    if not param_sets:
        raise ValueError("stack() needs at least one parameter set")
    return {name: torch.stack([p[name] for p in param_sets]) for name in param_sets[0]}


def unstack(stacked: Params, i: int) -> Params:
    """Return the ``i``-th parameter set of a stack."""
    return {name: t[i] for name, t in stacked.items()}


def _batched_logits(model: nn.Module) -> Callable[[Params, torch.Tensor], torch.Tensor]:
    """``f(stacked_params, x) -> (S,N,classes)``: the model run once per parameter set, vectorized."""
    return vmap(lambda p, x: functional_call(model, p, (x,)), in_dims=(0, None))


def _check_stack(model: nn.Module, stacked: Params) -> int:
    names = {name for name, _ in model.named_parameters()}
    unknown = set(stacked) - names
    if unknown:
        raise ValueError(f"parameters {sorted(unknown)[:3]} are not in the model; it has {sorted(names)[:5]}...")
    sizes = {t.shape[0] for t in stacked.values()}
    if len(sizes) != 1:
        raise ValueError(f"every stacked tensor needs the same leading size S, got {sorted(sizes)}")
    return sizes.pop()


def _default_chunk(model: nn.Module) -> int:
    """Parameter sets per call: vmap pays off for linear layers; it makes convolutions slow grouped ones on CPU."""
    return 1 if any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules()) else 16


@torch.no_grad()
def stacked_losses(
    model: nn.Module,
    stacked: Params,
    images: torch.Tensor,
    labels: torch.Tensor,
    chunk: int | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Return the mean cross-entropy ``(S,)`` of each of S stacked parameter sets on (images, labels).

    The model is only the architecture (and buffers): its own parameters are replaced by each set
    in turn, ``chunk`` sets per vectorized call (default: 16, or 1 — a plain loop — for conv nets,
    measured faster on CPU by bench/adversarial.py). Eval mode; mode and flags are restored.
    """
    s = _check_stack(model, stacked)
    chunk = chunk or _default_chunk(model)
    with frozen_eval(model) as device:
        x, y = images.to(device), labels.to(device)
        run = _batched_logits(model)
        out = []
        for start in tqdm(range(0, s, chunk), desc="loss at parameter points", disable=not progress, leave=False):
            part = {name: t[start : start + chunk].to(device) for name, t in stacked.items()}
            if chunk == 1:
                logits = functional_call(model, {name: t[0] for name, t in part.items()}, (x,)).unsqueeze(0)
            else:
                logits = run(part, x)  # (chunk, N, classes)
            loss = F.cross_entropy(logits.flatten(0, 1), y.repeat(logits.shape[0]), reduction="none")
            out.append(loss.view(logits.shape[0], -1).mean(1).cpu())
    return torch.cat(out)


class Restarts(NamedTuple):
    """What ``train_restarts`` returns: the architecture, and ``(S, ...)`` stacks of initial and final parameters."""

    model: nn.Module
    init: Params
    final: Params
    seeds: list[int]
    train_loss: torch.Tensor  # (S,) mean loss of the last epoch
    history: torch.Tensor | None = None  # (epochs, S) mean training loss of every epoch


def train_restarts(
    make_model: Callable[[], nn.Module],
    seeds: Sequence[int],
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 10,
    lr: float = 3e-3,
    batch_size: int = 256,
    data_seed: int = 0,
    progress: bool = True,
) -> Restarts:
    """Train one network per seed (its initialization), all at once with ``vmap``; return the parameter stacks.

    Each seed gets its own Adam state (Adam is elementwise, so one optimizer over the stacked
    tensors equals S separate runs); all seeds see the same minibatches, so they differ only in
    where they start. ``images`` ``(N,...)`` and ``labels`` ``(N,)``.
    """
    if not seeds:
        raise ValueError("train_restarts needs at least one seed")
    epochs = check_count(epochs, "epochs")
    lr = check_number(lr, "lr", hint="e.g. 3e-3 for Adam")
    batch_size = check_count(batch_size, "batch_size")
    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels; give one label per image")
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(make_model())
    base = copy.deepcopy(models[0]).eval()
    device = model_device(base)
    init, _buffers = stack_module_state(models)
    init = {name: t.detach().clone() for name, t in init.items()}
    params = {name: t.clone().requires_grad_(True) for name, t in init.items()}
    opt = torch.optim.Adam(params.values(), lr=lr)
    run = _batched_logits(base)
    gen = torch.Generator().manual_seed(data_seed)
    x_all, y_all = images.to(device), labels.to(device)
    last, history = torch.zeros(len(seeds)), []
    for _ in tqdm(range(epochs), desc=f"training {len(seeds)} seeds", disable=not progress, leave=False):
        order = torch.randperm(len(labels), generator=gen)
        total, batches = torch.zeros(len(seeds)), 0
        for start in range(0, len(labels), batch_size):
            idx = order[start : start + batch_size]
            logits = run(params, x_all[idx])  # (S, B, classes)
            per_seed = (
                F.cross_entropy(logits.flatten(0, 1), y_all[idx].repeat(len(seeds)), reduction="none")
                .view(len(seeds), -1)
                .mean(1)
            )
            opt.zero_grad(set_to_none=True)
            per_seed.sum().backward()  # the sum keeps each seed's gradient its own
            opt.step()
            total += per_seed.detach().cpu()
            batches += 1
        last = total / batches
        history.append(last)
    final = {name: t.detach().clone() for name, t in params.items()}
    for p in base.parameters():
        p.requires_grad_(False)
    return Restarts(base, init, final, list(seeds), last, torch.stack(history))


def interpolate(
    model: nn.Module,
    start: Params,
    end: Params,
    images: torch.Tensor,
    labels: torch.Tensor,
    alphas: Sequence[float] | torch.Tensor,
) -> torch.Tensor:
    """Return the loss ``(len(alphas),)`` at ``(1-α)·start + α·end`` for each α (Goodfellow et al. 2015)."""
    alphas = torch.as_tensor(alphas, dtype=torch.float32)
    points = {name: torch.stack([(1 - a) * start[name] + a * end[name] for a in alphas]) for name in start}
    return stacked_losses(model, points, images, labels)


def filter_normalized_direction(params: Params, seed: int = 0) -> Params:
    """A random direction with every filter rescaled to the norm of the matching weight filter (Li et al. 2018).

    A "filter" is one slice along dim 0 of a weight (an output channel of a conv, one unit's
    incoming weights of a linear layer). Biases and other 1-d parameters get a zero direction,
    as in Li et al., so the slice moves only the weights whose scale filter-normalization fixes.
    """
    gen = torch.Generator().manual_seed(seed)
    direction = {}
    for name, w in params.items():
        if w.dim() <= 1:
            direction[name] = torch.zeros_like(w)
            continue
        d = torch.randn(w.shape, generator=gen, dtype=w.dtype).to(w.device)
        d_norm = d.flatten(1).norm(dim=1).clamp_min(1e-12)
        w_norm = w.flatten(1).norm(dim=1)
        direction[name] = d * (w_norm / d_norm).view(-1, *([1] * (w.dim() - 1)))
    return direction


def loss_slice(
    model: nn.Module,
    center: Params,
    images: torch.Tensor,
    labels: torch.Tensor,
    directions: tuple[Params, Params] | None = None,
    span: float = 1.0,
    n: int = 21,
    seed: int = 0,
    chunk: int | None = None,
    progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(coords (n,), losses (n,n))``: the loss at ``center + a·d1 + b·d2`` for a, b in [-span, span].

    ``losses[i, j]`` is at ``b = coords[i], a = coords[j]`` (rows = second direction, as ``contourf``
    expects). Without ``directions``, two filter-normalized random ones (seeds ``seed``, ``seed+1``).
    """
    n = check_count(n, "n", minimum=2, what="points per axis of the slice")
    span = check_number(span, "span", hint="the slice covers [-span, span] along each direction, e.g. 1.0")
    d1, d2 = directions or (filter_normalized_direction(center, seed), filter_normalized_direction(center, seed + 1))
    coords = torch.linspace(-span, span, n)
    b, a = torch.meshgrid(coords, coords, indexing="ij")
    a, b = a.flatten(), b.flatten()
    points = {
        name: c + a.view(-1, *([1] * c.dim())) * d1[name] + b.view(-1, *([1] * c.dim())) * d2[name]
        for name, c in center.items()
    }
    return coords, stacked_losses(model, points, images, labels, chunk=chunk, progress=progress).view(n, n)


def std_interval(values: torch.Tensor, level: float = 0.9, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval ``(low, high)`` of the standard deviation of ``values`` ``(S,)`` (resampling the S seeds).

    The error bar on a spread measured from a handful of restarts: with 10 seeds the sample std
    alone can be off by a third, so two widths' spreads differ only if their intervals do not overlap.
    """
    values = torch.as_tensor(values, dtype=torch.float64).flatten()
    if len(values) < 3:
        raise ValueError(f"std_interval needs at least 3 values (one per seed), got {len(values)}")
    level = check_number(level, "level", high=1, hint="e.g. 0.9 for a 90 % interval")
    n_boot = check_count(n_boot, "n_boot")
    gen = torch.Generator().manual_seed(seed)
    resampled = values[torch.randint(len(values), (n_boot, len(values)), generator=gen)]
    stds = resampled.std(dim=1)
    tail = (1 - level) / 2
    return float(stds.quantile(tail)), float(stds.quantile(1 - tail))
