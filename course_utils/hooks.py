"""Hooks: read what a layer computes, and change how ReLUs pass gradients back.

Both tools are context managers: every hook they add is removed when the ``with`` block
ends, also when it ends with an exception. Taught in notebooks 00 (capture) and 06 (rules).
"""
from __future__ import annotations

import difflib
from contextlib import contextmanager
from typing import Iterable, Iterator

import torch
from torch import nn


def layer_names(model: nn.Module, kinds: type | tuple[type, ...] | None = None) -> list[str]:
    """Return the dotted ``named_modules()`` names of ``model`` (only modules of ``kinds`` if given)."""
    return [name for name, module in model.named_modules() if name and (kinds is None or isinstance(module, kinds))]


def get_layer(model: nn.Module, name: str) -> nn.Module:
    """Return the submodule called ``name``; an unknown name raises ``ValueError`` listing close matches."""
    modules = dict(model.named_modules())
    if name in modules and name:
        return modules[name]
    names = [n for n in modules if n]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    sample = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    raise ValueError(
        f"no layer {name!r} in {type(model).__name__}{hint} "
        f"Layer names are dotted named_modules() names ({sample}); see layer_names(model)."
    )


@contextmanager
def capture_activations(model: nn.Module, layers: str | Iterable[str], detach: bool = True) -> Iterator[dict]:
    """Record the outputs of ``layers`` during forward passes inside the ``with`` block.

    Yields a dict ``{layer name: output tensor}``, filled by each forward pass (the last pass
    wins). Outputs are cloned, because an in-place op later in the network (ResNet's
    ``ReLU(inplace=True)``) would otherwise change them after capture, and detached unless
    ``detach=False`` (keep the graph, e.g. to optimize an image towards a layer's output).

        with capture_activations(model, ["conv1", "relu1"]) as acts:
            model(x)
        acts["conv1"].shape
    """
    names = [layers] if isinstance(layers, str) else list(layers)
    modules = {name: get_layer(model, name) for name in names}  # validate all names before hooking
    captured: dict[str, torch.Tensor] = {}

    def make_hook(name: str):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {name!r} returns {type(output).__name__}, not a tensor; capture a submodule")
            captured[name] = output.detach().clone() if detach else output.clone()

        return hook

    handles = []
    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(make_hook(name)))
        yield captured
    finally:
        for handle in handles:
            handle.remove()


# ---------------------------------------------------------------------------------------
# ReLU backward rules (Zeiler & Fergus 2014; Springenberg et al. 2015).
# A ReLU's ordinary backward pass lets a gradient through where the *forward input* was
# positive. The deconvnet lets it through where the *gradient* is positive; guided
# backprop only where both are.
RULES = ("guided", "deconvnet")


class _RuleReLU(torch.autograd.Function):
    """ReLU / ReLU6 whose forward is the usual one and whose backward follows ``rule``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, rule: str, upper: float | None, inplace: bool) -> torch.Tensor:
        out = x.clamp_(0, upper) if inplace else x.clamp(0, upper)  # clamp(0, None) == relu
        if inplace:
            ctx.mark_dirty(x)
        ctx.rule = rule
        ctx.save_for_backward(out)
        ctx.upper = upper
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (out,) = ctx.saved_tensors
        if ctx.rule == "deconvnet":
            passed = grad.clamp(min=0)  # ignores the forward input entirely
        else:  # guided: ordinary ReLU mask, and only positive gradients
            forward_mask = out > 0
            if ctx.upper is not None:
                forward_mask &= out < ctx.upper  # ReLU6 is flat above 6 too
            passed = grad.clamp(min=0) * forward_mask
        return passed, None, None, None


def _relu_modules(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if type(m) in (nn.ReLU, nn.ReLU6)]


@contextmanager
def relu_gradient_rule(model: nn.Module, rule: str) -> Iterator[nn.Module]:
    """Inside the ``with`` block, every ``nn.ReLU``/``nn.ReLU6`` module of ``model`` backpropagates by ``rule``.

    ``rule`` is ``"guided"`` (guided backprop) or ``"deconvnet"``. Forward values are
    unchanged. Modules are not replaced: each one's ``forward`` is shadowed for the block and
    restored after it, so module identity and ``inplace`` flags stay as they were.
    Functional ``F.relu`` calls inside a model's ``forward`` cannot be reached this way.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {RULES}")
    relus = _relu_modules(model)
    if not relus:
        raise ValueError(
            f"{type(model).__name__} has no nn.ReLU or nn.ReLU6 modules, so the {rule!r} rule cannot be applied. "
            "ReLUs called as functions (F.relu, torch.relu) cannot be overridden: rewrite them as nn.ReLU modules."
        )

    def rule_forward(module: nn.Module):
        upper = 6.0 if isinstance(module, nn.ReLU6) else None
        return lambda x: _RuleReLU.apply(x, rule, upper, module.inplace)

    patched = []
    try:
        for module in relus:
            if "forward" in vars(module):
                raise RuntimeError("a ReLU's forward is already overridden: relu_gradient_rule blocks cannot be nested")
            module.forward = rule_forward(module)
            patched.append(module)
        yield model
    finally:
        for module in patched:
            del module.forward
