"""Hooks: read what a layer computes, stop a forward pass early, change how ReLUs pass gradients back.

``hooked`` is the one place in the course where hooks are registered: every other tool
(``capture_activations``, ``run_until``, the optimization loop, Grad-CAM, receptive fields,
occlusion) goes through it, so every hook is removed when its ``with`` block ends, also when
it ends with an exception. Taught in notebooks 00 (capture) and 06 (rules).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

ForwardHook = Callable[[nn.Module, tuple, Any], Any]  # (module, inputs, output) -> None or a new output
PreHook = Callable[[nn.Module, tuple], Any]  # (module, inputs) -> None or new inputs


def layer_names(model: nn.Module, kinds: type | tuple[type, ...] | None = None) -> list[str]:
    """Return the dotted ``named_modules()`` names of ``model`` (only modules of ``kinds`` if given)."""
    return [name for name, module in model.named_modules() if name and (kinds is None or isinstance(module, kinds))]


Layer = str | nn.Module  # a dotted named_modules() name, or the submodule itself


def layer_name(model: nn.Module, layer: Layer) -> str:
    """Return the dotted name of ``layer`` in ``model``: a name is checked, a submodule is looked up by identity."""
    if isinstance(layer, nn.Module):
        if layer is model:
            raise ValueError(
                f"the layer is the whole {type(model).__name__}; pass one of its layers (see layer_names(model))"
            )
        for name, module in model.named_modules(remove_duplicate=False):
            if module is layer:
                return name
        raise ValueError(
            f"this {type(layer).__name__} module is not part of {type(model).__name__} (a copy, or another "
            "model's layer?); pass a layer of this model, or its name from layer_names(model)"
        )
    if not isinstance(layer, str):
        example = next(iter(layer_names(model)), "conv1")
        raise TypeError(
            f"a layer is given by its name (a str such as {example!r}) or as the submodule itself, "
            f"not as {type(layer).__name__}; see layer_names(model)"
        )
    get_layer(model, layer)
    return layer


def layer_list(layers: Layer | Iterable[Layer]) -> list[Layer]:
    """Return ``layers`` as a list: one name or one module (even an iterable ``nn.Sequential``) is one layer."""
    if isinstance(layers, (str, nn.Module)):
        return [layers]
    try:
        return list(layers)
    except TypeError:
        raise TypeError(
            f"a layer is given by its name (a str such as 'conv1') or as the submodule itself, or a list of them; "
            f"not as {type(layers).__name__}; see layer_names(model)"
        ) from None


def get_layer(model: nn.Module, name: Layer) -> nn.Module:
    """Return the submodule called ``name`` (or ``name`` itself, if it is a submodule of ``model``).

    An unknown name raises ``ValueError`` listing close matches.
    """
    if not isinstance(name, str):
        return model.get_submodule(layer_name(model, name))
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


class LayerDidNotRun(KeyError, ValueError):
    """A hooked layer produced nothing: the model's forward never called it (or no forward pass ran)."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


def did_not_run(model: nn.Module, layer: Layer) -> LayerDidNotRun:
    """Return the error for a ``layer`` of ``model`` whose forward hook never fired."""
    name = layer if isinstance(layer, str) else layer_name(model, layer)
    return LayerDidNotRun(
        f"layer {name!r} did not run in {type(model).__name__}'s forward pass, so nothing was recorded for it: "
        f"{type(model).__name__}.forward never calls it (or no forward pass ran inside the with block). "
        "Pick a layer the forward pass uses (see print(model) and layer_names(model))."
    )


class Captured(dict):
    """The ``{layer: output}`` dict of ``capture_activations``; a layer that has not run raises ``LayerDidNotRun``."""

    def __init__(self, model: nn.Module, layers: list[Layer]):
        super().__init__()
        self._model, self._layers = model, layers

    def __missing__(self, key):
        if any(key is layer or (isinstance(key, str) and key == layer) for layer in self._layers):
            raise did_not_run(self._model, key)
        raise KeyError(key)


@contextmanager
def capture_activations(model: nn.Module, layers: Layer | Iterable[Layer], detach: bool = True) -> Iterator[dict]:
    """Record the outputs of ``layers`` (names, or the submodules themselves) during forward passes in the block.

    Yields a dict ``{layer: output tensor}`` keyed by the layers as given, filled by each forward
    pass (the last pass wins); a layer that did not run raises ``LayerDidNotRun`` when looked up.
    Outputs are cloned, because an in-place op later in the network (ResNet's
    ``ReLU(inplace=True)``) would otherwise change them after capture, and detached unless
    ``detach=False`` (keep the graph, e.g. to optimize an image towards a layer's output).

        with capture_activations(model, ["conv1", "relu1"]) as acts:
            model(x)
        acts["conv1"].shape
    """
    keys = layer_list(layers)
    modules = {key: get_layer(model, key) for key in keys}  # validate all layers before hooking
    captured = Captured(model, keys)

    def make_hook(key: Layer):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor):
                name = layer_name(model, key)
                raise TypeError(f"layer {name!r} returns {type(output).__name__}, not a tensor; capture a submodule")
            captured[key] = output.detach().clone() if detach else output.clone()

        return hook

    with hooked(forward=[(module, make_hook(key)) for key, module in modules.items()]):
        yield captured


@contextmanager
def hooked(
    forward: Iterable[tuple[nn.Module, ForwardHook]] = (), pre: Iterable[tuple[nn.Module, PreHook]] = ()
) -> Iterator[None]:
    """Register ``(module, hook)`` forward hooks and forward pre-hooks for the ``with`` block only.

    Hooks run in the order given; all are removed after the block, also when it raises.
    """
    handles = []
    try:
        for module, pre_hook in pre:
            handles.append(module.register_forward_pre_hook(pre_hook))
        for module, hook in forward:
            handles.append(module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


class StopForward(Exception):
    """Raised by a hook to end a forward pass early: nothing after that layer is needed."""


def stop_hook(_module: nn.Module, _inputs: tuple, _output: Any) -> None:
    """A forward hook that ends the forward pass (``run_until`` catches it)."""
    raise StopForward


def run_until(model: nn.Module, x: torch.Tensor, stop_at: nn.Module | None = None) -> torch.Tensor | None:
    """Return ``model(x)``; with ``stop_at``, end the pass right after that module has run and return None.

    Hooks already in place on ``stop_at`` run before the pass ends, so whatever they record is
    complete. Use it inside ``hooked``/``capture_activations`` to skip the rest of the network.
    """
    try:
        if stop_at is None:
            return model(x)
        with hooked(forward=[(stop_at, stop_hook)]):
            model(x)
    except StopForward:
        return None
    where = next((f"layer {name!r} " for name, m in model.named_modules() if m is stop_at and name), "")
    raise ValueError(
        f"{where}({type(stop_at).__name__}) never ran in {type(model).__name__}'s forward pass: its forward() "
        "never calls it; pick a layer the forward pass uses (see print(model) and layer_names(model))"
    )


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
    """Every ReLU / ReLU6 module, subclasses included; a subclass with its own ``forward`` raises."""
    relus: list[nn.Module] = []
    for name, module in model.named_modules():
        if not isinstance(module, (nn.ReLU, nn.ReLU6)):
            continue
        base = nn.ReLU if isinstance(module, nn.ReLU) else nn.ReLU6
        if type(module).forward is not base.forward:  # e.g. a leaky or clipped variant: its rule is unknown
            raise ValueError(
                f"module {name!r} ({type(module).__name__}) subclasses {base.__name__} but overrides forward(), "
                "so the guided/deconvnet rule for it is not known; replace it with a plain nn.ReLU"
            )
        relus.append(module)
    return relus


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
