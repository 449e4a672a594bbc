"""One forward and one backward pass that show a whole network at work, for ``widgets.network_inspector``.

``inspect_network(model, x, layer, channel, target)`` runs ``model`` once on one image and returns an
``Inspection``: the class probabilities, every activation map of ``layer``, the weights that make
``channel`` of it, and the gradient of the ``target`` class score with respect to the input and to
``layer``. ``map_layers(model, x)`` lists the layers whose output is a stack of maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import model_device
from .core import frozen_eval
from .hooks import get_layer, hooked, layer_name


@dataclass
class Inspection:
    """What the network inspector shows, for one image (all tensors on the CPU)."""

    pixels: torch.Tensor  # (C,H,W) the input as the model sees it, pixels in [0,1]
    probabilities: torch.Tensor  # (K,) softmax of the logits
    layer: str
    activations: torch.Tensor  # (C_l,h,w) every map of ``layer``
    channel: int
    weights: torch.Tensor | None  # (C_in,kh,kw) of the convolution that makes ``channel``, or None
    weights_from: str | None  # that convolution's name
    target: int
    input_gradient: torch.Tensor  # (C,H,W) d logit[target] / d input
    layer_gradient: torch.Tensor  # (C_l,h,w) d logit[target] / d activations

    def top(self, k: int = 5) -> list[tuple[int, float]]:
        """The ``k`` most probable classes as (class index, probability), most probable first."""
        p, i = self.probabilities.topk(min(k, self.probabilities.numel()))
        return list(zip(i.tolist(), p.tolist()))


def map_layers(model: nn.Module, x: torch.Tensor, max_depth: int = 1) -> list[str]:
    """Names of the modules (at most ``max_depth`` dots deep) whose output for ``x`` is maps ``(N,C,h,w)``, in order.

    ``max_depth=1`` keeps a big model's list short (EfficientNet: ``conv_stem``, ``bn1``, ``blocks.0`` ...
    ``blocks.6``, ``conv_head``, ``bn2``); a small model's top-level layers all qualify.
    """
    seen: list[str] = []
    names = {module: name for name, module in model.named_modules() if name and name.count(".") <= max_depth}

    def record(module, _inputs, output):
        name = names.get(module)
        is_maps = isinstance(output, torch.Tensor) and output.dim() == 4 and output.shape[-2:].numel() > 1
        if name is not None and is_maps and name not in seen:
            seen.append(name)

    with frozen_eval(model) as device, torch.no_grad(), hooked([(m, record) for m in names]):
        model(x.to(device))
    listed = set(seen)

    def parent(name: str) -> str:
        return name.rpartition(".")[0]

    def keep(name: str) -> bool:
        if name in ("input_norm", "normalize"):  # the normalization is not a map
            return False
        if sum(parent(other) == name for other in listed) >= 2:  # a container: its stages are listed instead
            return False
        # a part inside a listed layer (bn1.act inside bn1), unless it is one stage of a sequence (blocks.3)
        return not (parent(name) in listed and not name.rpartition(".")[2].isdigit())

    return [name for name in seen if keep(name)]


def producing_conv(model: nn.Module, layer: str, channels: int) -> tuple[str, nn.Conv2d] | None:
    """The last ``Conv2d`` at or before ``layer`` (in module order) with ``channels`` outputs: it makes the maps."""
    found = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and module.out_channels == channels:
            found = (name, module)
        if name == layer:
            if isinstance(module, nn.Conv2d):
                return (name, module)
            inner = [
                (f"{name}.{n}", m)
                for n, m in module.named_modules()
                if isinstance(m, nn.Conv2d) and m.out_channels == channels
            ]
            return inner[-1] if inner else found
    return found


def inspect_network(
    model: nn.Module, x: torch.Tensor, layer: str, channel: int = 0, target: int | None = None
) -> Inspection:
    """Run ``model`` on one image ``x`` ``(1,C,H,W)`` (pixels in [0,1]) and return what the inspector shows.

    ``target`` None means the most probable class. One forward and one backward pass; the model's
    modes and ``requires_grad`` flags are restored afterwards.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[0] != 1:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"inspect_network takes one image (1,C,H,W) of pixels in [0,1], got {shape}")
    layer = layer_name(model, layer)
    get_layer(model, layer)  # unknown names get the list of close ones
    with frozen_eval(model) as device:
        xi = x.detach().to(device, torch.float32).clone().requires_grad_(True)
        caught: list[torch.Tensor] = []

        def keep(_module, _inputs, output):
            if isinstance(output, torch.Tensor):
                output = output + 0  # a tensor of our own on the path to the logits, to differentiate by
                caught.append(output)
                return output
            return None

        with hooked([(get_layer(model, layer), keep)]):
            logits = model(xi)
        if not caught:
            raise ValueError(f"layer {layer!r} did not run (or gave no tensor) in the forward pass")
        activation = caught[0]
        if activation.dim() != 4:
            raise ValueError(
                f"layer {layer!r} gives {tuple(activation.shape)}, not maps (N,C,h,w); pick one of "
                f"map_layers(model, x): {', '.join(map_layers(model, x.detach()))}"
            )
        n_channels = activation.shape[1]
        if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < n_channels:
            raise ValueError(
                f"channel must be an int in 0..{n_channels - 1} ({layer!r} has {n_channels} maps), got {channel!r}"
            )
        probabilities = logits.detach().softmax(1)[0]
        k = probabilities.numel()
        if target is None:
            target = int(probabilities.argmax())
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < k:
            raise ValueError(f"target must be a class index in 0..{k - 1}, got {target!r}")
        input_gradient, layer_gradient = torch.autograd.grad(logits[0, target], [xi, activation])
    conv = producing_conv(model, layer, n_channels)
    weights = conv[1].weight[channel].detach().cpu().clone() if conv is not None else None
    return Inspection(
        pixels=x.detach()[0].cpu().clamp(0, 1),
        probabilities=probabilities.cpu(),
        layer=layer,
        activations=activation.detach()[0].cpu(),
        channel=channel,
        weights=weights,
        weights_from=conv[0] if conv is not None else None,
        target=target,
        input_gradient=input_gradient[0].cpu(),
        layer_gradient=layer_gradient[0].cpu(),
    )


def on_device(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` moved to the model's device (the inspector's inputs are built on the CPU)."""
    return x.to(model_device(model))
