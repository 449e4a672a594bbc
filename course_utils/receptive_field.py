"""Receptive fields: which input pixels can change one unit of a layer. Taught in notebook 03.

A unit of a conv layer sees only a window of the input, its *receptive field*. For a chain of
convolutions and poolings with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d``,
the window grows layer by layer (Araujo, Norris & Sim, Distill 2019):

    size_out   = size_in + (k - 1) * d * jump_in      # each new tap adds (k-1)*d steps of the input grid
    jump_out   = jump_in * s                          # distance in pixels between neighbouring units
    offset_out = offset_in - p * jump_in              # input pixel where unit 0's window starts

Unit ``i`` of a layer then sees input pixels ``offset + i * jump`` up to ``offset + i * jump + size - 1``
(along each axis, before clipping to the image).

``receptive_field`` uses two methods:

- **analytic** — when the modules that run up to ``layer`` form one chain (each module eats
  the previous one's output, as in AlexNet, VGG or FashionNet), it composes the formula above
  over the conv/pool modules in the order they ran (found with forward hooks).
- **gradient** — otherwise (ResNet's skip connections, EfficientNet's residual blocks) it asks
  autograd: in a float64 copy of the model whose convolutions all average their inputs with
  equal positive weights, whose batch norms are identities, activations removed and max-pools
  turned into average pools, nothing can cancel, so the input gradient of one unit is non-zero
  exactly on its receptive field — the union over all branches. (All channels of that copy
  carry the same map, so it keeps one channel: cheap even on large inputs.) Two neighbouring
  units give the stride. The test input doubles until the window fits inside it; with
  input-dependent "same" padding (timm's ``Conv2dSame``) the reported offset is that of the
  input size the window fitted in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from .config import model_device
from .core import check_count, frozen_eval
from .hooks import Layer, get_layer, hooked, layer_name, run_until

_SPATIAL = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
# Modules that act on each pixel on its own, so they leave the receptive field unchanged.
_POINTWISE = (
    nn.BatchNorm2d,
    nn.Dropout,
    nn.Dropout2d,
    nn.Identity,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.LocalResponseNorm,
)
_ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
)


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of one layer in input pixels, per axis ``(height, width)``.

    ``size``: window side; ``stride``: pixels between neighbouring units; ``offset``: first
    input pixel of unit (0, 0)'s window (negative when it starts in the padding).
    """

    size_hw: tuple[int, int]
    stride_hw: tuple[int, int]
    offset_hw: tuple[int, int]
    layer: str
    method: str  # "analytic" or "gradient"

    @property
    def size(self) -> int | tuple[int, int]:
        """Window side in pixels (an int for square windows)."""
        return self.size_hw[0] if self.size_hw[0] == self.size_hw[1] else self.size_hw

    @property
    def stride(self) -> int | tuple[int, int]:
        """Pixels between the windows of neighbouring units (an int when equal on both axes)."""
        return self.stride_hw[0] if self.stride_hw[0] == self.stride_hw[1] else self.stride_hw

    @property
    def padding(self) -> int | tuple[int, int]:
        """How far unit (0, 0)'s window reaches beyond the top-left image corner (``-offset``)."""
        pad = (-self.offset_hw[0], -self.offset_hw[1])
        return pad[0] if pad[0] == pad[1] else pad

    def box(self, i: int, j: int, image_size: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """Return unit (i, j)'s window ``(top, left, bottom, right)``, ends exclusive, clipped to ``image_size``."""
        top = self.offset_hw[0] + i * self.stride_hw[0]
        left = self.offset_hw[1] + j * self.stride_hw[1]
        bottom, right = top + self.size_hw[0], left + self.size_hw[1]
        if image_size is not None:
            height, width = image_size
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, height), min(right, width)
        return top, left, bottom, right

    def __str__(self) -> str:
        return f"{self.layer}: size {self.size}, stride {self.stride}, padding {self.padding} ({self.method})"


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _in_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    raise ValueError(f"{type(model).__name__} has no nn.Conv2d, so it has no receptive field to compute")


def _trace(model: nn.Module, target: nn.Module, x: torch.Tensor) -> tuple[list, tuple]:
    """Run ``model`` on ``x`` until ``target`` has run.

    Return the leaf-module calls in execution order, each ``[module, input, input version,
    output, output version]``, and ``(output, version)`` of ``target``. Tensor version counters
    reveal in-place changes between two calls (ResNet's ``out += identity``).
    """
    calls: list = []
    result: dict = {}

    def before(module, inputs):
        inp = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        calls.append([module, inp, inp._version if inp is not None else None, None, None])

    def after(_module, _inputs, output):
        if isinstance(output, torch.Tensor):
            calls[-1][3:] = [output, output._version]

    def keep(_module, _inputs, output):
        result["out"] = (output, output._version if isinstance(output, torch.Tensor) else None)

    leaves = [m for m in model.modules() if not list(m.children())]
    # `keep` is registered after `after`, so the target's own call is complete when run_until stops.
    with hooked(pre=[(m, before) for m in leaves], forward=[(m, after) for m in leaves] + [(target, keep)]):
        run_until(model, x, stop_at=target)
    return calls, result["out"]


def _analytic(
    calls: list, x: torch.Tensor, out: tuple
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """Compose (size, jump, offset) along a chain of leaf calls; None if the calls are not one chain."""
    size, jump, offset = [1, 1], [1, 1], [0, 0]
    current, current_version = x, x._version
    for module, inp, inp_version, output, version in calls:
        if inp is not current or inp_version != current_version or output is None:
            return None  # a branch, a skip connection or a functional op in between: not a chain
        if type(module) in _SPATIAL:  # exact types: subclasses such as timm's Conv2dSame pad their own way
            k, s = _pair(module.kernel_size), _pair(module.stride)
            if isinstance(module.padding, str):  # padding="same"/"valid": let the gradient method decide
                return None
            p, d = _pair(module.padding), _pair(getattr(module, "dilation", 1))
            for a in range(2):
                size[a] += (k[a] - 1) * d[a] * jump[a]
                offset[a] -= p[a] * jump[a]
                jump[a] *= s[a]
        elif (
            not (isinstance(module, _POINTWISE) or type(module).__name__ == "Normalize")
            or output.shape[-2:] != inp.shape[-2:]
        ):
            return None  # an unknown module might mix pixels
        current, current_version = output, version
    if out[0] is not current or out[1] != current_version:
        return None
    return (size[0], size[1]), (jump[0], jump[1]), (offset[0], offset[1])


class _ChannelMean(nn.Module):
    """Average all channels into one, then apply a one-channel copy of a convolution."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        kh, kw = conv.kernel_size
        self.conv = copy.deepcopy(conv)  # keeps the conv's own padding logic (e.g. timm's dynamic "same")
        self.conv.weight = nn.Parameter(torch.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=torch.float64))
        self.conv.bias = None
        self.conv.in_channels = self.conv.out_channels = self.conv.groups = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x.mean(1, keepdim=True))


def _constant_copy(model: nn.Module) -> nn.Module:
    """Return a float64 one-channel copy of ``model`` in which nothing can cancel (see the module docstring).

    With equal positive weights every channel carries the same map, so one channel is enough:
    each conv becomes "average the channels, then average the k x k window". That keeps the
    network linear and positive, and cheap even on the 1000-pixel inputs that deep layers need.
    """
    net = copy.deepcopy(model).double().cpu().eval()
    replaced: list[str] = []
    for name, module in list(net.named_modules()):
        if not name or any(name.startswith(r + ".") for r in replaced):
            continue  # inside a module that was already replaced
        if isinstance(module, _ACTIVATIONS) or isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, nn.Dropout)):
            replacement: nn.Module = nn.Identity()  # pointwise (or identity in eval): only the geometry matters
        elif isinstance(module, nn.MaxPool2d):
            if _pair(module.dilation) != (1, 1):
                raise NotImplementedError("dilated max-pooling is not supported by the gradient method")
            # max-pool passes gradient to one pixel per window; average-pool to all of them
            replacement = nn.AvgPool2d(module.kernel_size, module.stride, module.padding, ceil_mode=module.ceil_mode)
        elif isinstance(module, nn.Conv2d):
            replacement = _ChannelMean(module)
        else:
            continue
        parent_name, _, attr = name.rpartition(".")
        setattr(net.get_submodule(parent_name) if parent_name else net, attr, replacement)
        replaced.append(name)
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _surviving(net: nn.Module, layer: str) -> nn.Module:
    """Return ``layer`` in the simplified copy, or its closest ancestor if it was replaced with its parent."""
    parts = layer.split(".")
    while parts:
        try:
            return net.get_submodule(".".join(parts))
        except AttributeError:
            parts.pop()  # e.g. "bn1.act" inside a BatchNormAct2d that became Identity: same output
    raise ValueError(f"layer {layer!r} has no counterpart in the simplified model")


def _window(grad: torch.Tensor) -> tuple[list[int], list[int]]:
    """Return the first and last row/column where a (1,C,H,W) gradient is non-zero."""
    mask = grad[0].abs().sum(0) > 0
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    return [int(rows[0]), int(cols[0])], [int(rows[-1]), int(cols[-1])]


def _gradient(net: nn.Module, layer: str, input_size: tuple[int, int], channels: int, max_side: int = 2048) -> tuple:
    """Measure (size, jump, offset) from where one unit's input gradient is non-zero in ``_constant_copy(model)``."""
    target = _surviving(net, layer)
    height, width = input_size
    while True:
        x = torch.ones(1, channels, height, width, dtype=torch.float64, requires_grad=True)
        _, (out, _) = _trace(net, target, x)
        if out.dim() != 4:
            raise ValueError(f"layer {layer!r} outputs shape {tuple(out.shape)}, not a (N,C,H,W) map")
        oh, ow = out.shape[-2:]
        ci, cj = (oh - 1) // 2, (ow - 1) // 2
        starts, ends = [], []
        if oh >= 2 and ow >= 2:
            for i, j in ((ci, cj), (ci + 1, cj + 1)):
                (grad,) = torch.autograd.grad(out[0, :, i, j].sum(), x, retain_graph=True)
                first, last = _window(grad)
                starts.append(first)
                ends.append(last)
            inside = all(0 < s for s in starts[0] + starts[1]) and all(
                e < lim - 1 for e, lim in zip(ends[0] + ends[1], (height, width) * 2)
            )
            if inside:
                break
        if max(height, width) >= max_side:
            raise ValueError(f"the receptive field of {layer!r} does not fit in a {max_side}-pixel input")
        height, width = height * 2, width * 2  # the window touched the border: measure it on a bigger input
    size = tuple(ends[0][a] - starts[0][a] + 1 for a in range(2))
    jump = tuple(starts[1][a] - starts[0][a] for a in range(2))
    offset = (starts[0][0] - ci * jump[0], starts[0][1] - cj * jump[1])
    return size, jump, offset


def receptive_field(
    model: nn.Module, layer: Layer, input_size: tuple[int, int] = (224, 224), method: str = "auto"
) -> ReceptiveField:
    """Return the receptive field of ``layer``'s units in input pixels (size, stride, padding).

    ``layer``: a name or the submodule itself. ``input_size`` (H, W) is the dummy input used to run
    the model up to ``layer``.
    ``method``: ``"analytic"`` (chains only), ``"gradient"``, or ``"auto"`` (analytic when the
    model is a chain up to ``layer``, gradient otherwise). The model is not changed.
    """
    return receptive_fields(model, [layer], input_size, method)[layer]


def receptive_fields(
    model: nn.Module, layers: list[Layer], input_size: tuple[int, int] = (224, 224), method: str = "auto"
) -> dict[Layer, ReceptiveField]:
    """Return ``{layer: receptive_field(model, layer, ...)}``, sharing one simplified copy of the model.

    The keys are the layers as given (names or modules); each field's ``.layer`` is the name.
    """
    if method not in ("auto", "analytic", "gradient"):
        raise ValueError(f"unknown method {method!r}; choose 'auto', 'analytic' or 'gradient'")
    if isinstance(layers, (str, nn.Module)):
        raise TypeError("receptive_fields takes a list of layers; for one layer use receptive_field(model, layer)")
    names = {layer: layer_name(model, layer) for layer in layers}  # check every layer first
    if isinstance(input_size, (str, int)) or len(input_size) != 2:
        raise ValueError(f"input_size must be (height, width) in pixels, e.g. (224, 224), got {input_size!r}")
    input_size = (check_count(input_size[0], "input height"), check_count(input_size[1], "input width"))
    targets = {layer: get_layer(model, layer) for layer in layers}
    channels = _in_channels(model)
    device = model_device(model)
    results, net = {}, None
    for layer, target in targets.items():
        if method in ("auto", "analytic"):
            with frozen_eval(model), torch.no_grad():
                x = torch.zeros(1, channels, *input_size, device=device)
                calls, out = _trace(model, target, x)
            found = _analytic(calls, x, out)
            if found is not None:
                results[layer] = ReceptiveField(*found, layer=names[layer], method="analytic")
                continue
            if method == "analytic":
                raise ValueError(
                    f"the modules up to {names[layer]!r} are not a single chain of conv/pool layers; "
                    "use method='gradient'"
                )
        net = net if net is not None else _constant_copy(model)
        size, jump, offset = _gradient(net, names[layer], input_size, channels)
        results[layer] = ReceptiveField(size, jump, offset, layer=names[layer], method="gradient")
    return results
