"""``network_inspector``: draw on the input (or pick or upload an image) and watch the whole network respond.

After ConvNetJS and CNN Explainer (Wang et al. 2020), inside JupyterLab and for any model of
``load_model``. One forward and one backward pass per change (``inspection.inspect_network``); the
pictures are made with PIL rather than matplotlib so that a finished stroke answers in a fraction
of a second. Everything shown is kept in ``inspector.result`` (an ``Inspection``), and
``inspector.draw_stroke(points)`` runs the same code as a mouse stroke, so a test needs no browser.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image, ImageDraw
from torch import nn

from ..data import FASHION_CLASSES, fashion_mnist
from ..images import load_image, preprocess
from ..inspection import Inspection, inspect_network, map_layers
from ..models import imagenet_classes
from .explorer import probabilities

__all__ = ["NetworkInspector", "network_inspector"]

PAGE = 32  # activation maps shown at once (the page holding the selected channel)
DEFAULT_PHOTOS = ("chelsea", "coffee", "squirrel", "dog", "butterfly", "fruits", "football", "cups", "kite")


def _png(array: np.ndarray, side: int | None = None, smooth: bool = False) -> bytes:
    """``(H,W)`` or ``(H,W,3)`` floats in [0,1] (or uint8) as PNG bytes, scaled to ``side`` px on the long side."""
    arr = array if array.dtype == np.uint8 else (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    img = Image.fromarray(arr)
    if side is not None and max(img.size) != side:
        scale = side / max(img.size)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, format="png")
    return buffer.getvalue()


def _colour(values: np.ndarray, cmap: str) -> np.ndarray:
    """Values in [0,1] through a matplotlib colormap, as ``(...,3)`` floats."""
    return colormaps[cmap](np.clip(values, 0, 1))[..., :3]


def _signed(values: torch.Tensor) -> np.ndarray:
    """A signed map on a symmetric scale (99th percentile of |values| = the end of the scale), 0 = the middle."""
    v = values.detach().float().numpy()
    top = float(np.percentile(np.abs(v), 99)) or 1.0
    return 0.5 + 0.5 * np.clip(v / top, -1, 1)


def maps_mosaic(activations: torch.Tensor, channel: int, columns: int = 8) -> np.ndarray:
    """The page of ``PAGE`` maps holding ``channel``, tiled, on one shared scale (0 = black); the channel framed."""
    first = (channel // PAGE) * PAGE
    maps = activations[first : first + PAGE].float()
    top = float(activations.max()) if float(activations.max()) > 0 else 1.0
    n, h, w = maps.shape
    rows, pad = math.ceil(n / columns), max(1, h // 16)
    sheet = np.ones((rows * (h + 2 * pad), columns * (w + 2 * pad), 3)) * 0.25  # dark grey gaps
    for k in range(n):
        r, c = divmod(k, columns)
        y, x = r * (h + 2 * pad) + pad, c * (w + 2 * pad) + pad
        sheet[y : y + h, x : x + w] = _colour((maps[k].clamp(min=0) / top).numpy(), "inferno")
        if first + k == channel:  # a bright frame around the selected channel
            sheet[y - pad : y, x - pad : x + w + pad] = sheet[y + h : y + h + pad, x - pad : x + w + pad] = (
                0.2,
                0.9,
                1,
            )
            sheet[y - pad : y + h + pad, x - pad : x] = sheet[y - pad : y + h + pad, x + w : x + w + pad] = (
                0.2,
                0.9,
                1,
            )
    return sheet


def weights_picture(weights: torch.Tensor | None) -> np.ndarray:
    """A convolution kernel ``(C_in,kh,kw)`` as a picture: colour for 3 inputs, grey for 1, else a diverging grid."""
    if weights is None:
        return np.full((8, 8, 3), 0.5)
    w = weights.detach().float()
    top = float(w.abs().max()) or 1.0
    if w.shape[0] == 3 and w.shape[1] > 1:
        return (0.5 + 0.5 * w / top).permute(1, 2, 0).numpy()
    if w.shape[0] == 1:
        return _colour((0.5 + 0.5 * w[0] / top).numpy(), "gray")
    flat = w.flatten(1) if w.shape[1] * w.shape[2] > 1 else w.flatten()[:, None]  # (C_in, kh*kw)
    if flat.shape[1] == 1:  # a 1x1 convolution: one weight per input channel, laid out as a near-square grid
        n = flat.shape[0]
        cols = math.ceil(math.sqrt(n))
        grid = torch.zeros(math.ceil(n / cols) * cols)
        grid[:n] = flat[:, 0]
        flat = grid.view(-1, cols)
    return _colour((0.5 + 0.5 * flat / top).numpy(), "RdBu_r")


def probability_bars(result: Inspection, classes: Sequence[str], k: int = 5) -> str:
    """The ``k`` most probable classes as HTML bars, the class whose gradient is shown in bold."""
    rows = []
    for index, p in result.top(k):
        name = html.escape(str(classes[index]) if index < len(classes) else str(index))
        weight = "bold" if index == result.target else "normal"
        rows.append(
            f"<div style='display:flex;align-items:center;gap:6px;font-weight:{weight}'>"
            f"<span style='width:11em;text-align:right'>{name}</span>"
            f"<span style='display:inline-block;height:12px;background:#3b75af;"
            f"width:{max(1, round(150 * p))}px'></span>"
            f"<span>{p:.3f}</span></div>"
        )
    return "".join(rows)


class NetworkInspector(widgets.VBox):
    """Input (drawn, picked or uploaded) -> every map of a layer, a unit's weights, probabilities, gradients."""

    def __init__(
        self,
        model: nn.Module,
        images: Mapping[str, torch.Tensor],
        classes: Sequence[str],
        layers: Sequence[str],
        layer: str,
        size: int,
        channels: int,
        canvas_side: int = 280,
    ):
        self.model, self.images, self.classes, self.size = model, dict(images), list(classes), size
        self.input_channels = channels
        self.result: Inspection | None = None
        self.error: str | None = None
        self.exception: BaseException | None = None
        self._side, self._drawing = canvas_side, False
        self._strokes: list[list[tuple[float, float]]] = []
        self._current = next(iter(self.images.values())).clone()
        self.controls = {
            "image": widgets.Dropdown(options=list(self.images), description="image"),
            "layer": widgets.Dropdown(options=list(layers), value=layer, description="layer"),
            "channel": widgets.BoundedIntText(value=0, min=0, max=1, description="channel"),
            "target": widgets.Dropdown(
                options=[("most probable", -1)] + [(str(c), i) for i, c in enumerate(self.classes)],
                value=-1,
                description="gradient of",
            ),
        }
        self.clear_button = widgets.Button(description="clear strokes", icon="eraser")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload")
        self.status = widgets.HTML()
        self.bars = widgets.HTML()
        names = ("seen", "input_gradient", "maps", "unit", "layer_gradient", "weights")
        self.pictures = {name: widgets.Image(format="png") for name in names}
        self.canvas = self._make_canvas()
        self._build_layout()
        for name in ("layer", "channel", "target"):
            self.controls[name].observe(lambda _change: self.update(), names="value")
        self._selecting = False
        self.controls["image"].observe(
            lambda change: None if self._selecting else self.select_image(change["new"]), names="value"
        )
        self.clear_button.on_click(lambda _button: self.select_image(self.controls["image"].value))
        self.upload.observe(self._uploaded, names="value")
        self.update()

    # ------------------------------------------------------------------ input
    def _make_canvas(self):
        try:
            from ipycanvas import Canvas
        except ImportError:  # the inspector still works from images and uploads
            return None
        canvas = Canvas(width=self._side, height=self._side, layout=widgets.Layout(width=f"{self._side}px"))
        canvas.stroke_style = self._pen_colour()
        canvas.line_width = self._pen_width()
        canvas.line_cap = "round"
        canvas.on_mouse_down(self._mouse_down)
        canvas.on_mouse_move(self._mouse_move)
        canvas.on_mouse_up(self._mouse_up)
        canvas.on_mouse_out(self._mouse_up)
        return canvas

    def _pen_colour(self) -> str:
        return "white" if self.input_channels == 1 else "black"  # ink on Fashion-MNIST's black; cover a photo

    def _pen_width(self) -> float:
        return self._side / (14 if self.input_channels == 1 else 16)

    def _mouse_down(self, x: float, y: float) -> None:
        self._drawing = True
        self._strokes.append([(x, y)])

    def _mouse_move(self, x: float, y: float) -> None:
        if self._drawing and self._strokes:
            x0, y0 = self._strokes[-1][-1]
            self._strokes[-1].append((x, y))
            if self.canvas is not None:
                self.canvas.stroke_line(x0, y0, x, y)

    def _mouse_up(self, x: float, y: float) -> None:
        if self._drawing:
            self._drawing = False
            self._mouse_move(x, y)
            self.update()

    def draw_stroke(self, points: Sequence[tuple[float, float]]) -> Inspection | None:
        """Draw one stroke through ``points`` (canvas pixels, 0..canvas side) and update, as the mouse would."""
        points = list(points)
        if not points:
            raise ValueError("draw_stroke needs at least one (x, y) point in canvas pixels")
        self._mouse_down(*points[0])
        for point in points[1:]:
            self._mouse_move(*point)
        self._mouse_up(*points[-1])
        return self.result

    def select_image(self, name: str) -> Inspection | None:
        """Show image ``name`` (one of ``inspector.images``) without strokes, and update."""
        self._current = self.images[name].clone()
        self._strokes = []
        picker = self.controls["image"]
        if picker.value != name:  # keep the dropdown in step without a second update
            self._selecting = True
            try:
                picker.value = name
            finally:
                self._selecting = False
        return self.update()

    def _uploaded(self, change: dict) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        try:
            self.images[upload["name"]] = self.as_input(Image.open(io.BytesIO(bytes(upload["content"]))))
        except Exception as err:  # an unreadable file is said in red, like any other error
            self._show_error(err)
            return
        self.controls["image"].options = list(self.images)
        self.controls["image"].value = upload["name"]  # triggers select_image

    def as_input(self, image) -> torch.Tensor:
        """Any image (PIL, path, sample name, array) as this model's input ``(1,C,size,size)``.

        For a one-channel model trained on bright objects on black (Fashion-MNIST), a photo with a
        bright background is inverted, so that the object becomes the bright part.
        """
        x = preprocess(load_image(image), size=self.size)
        if self.input_channels == 1:
            x = x.mean(1, keepdim=True)
            border = torch.cat([x[..., 0, :], x[..., -1, :], x[..., :, 0], x[..., :, -1]], dim=-1)
            if float(border.mean()) > 0.5:
                x = 1 - x
        return x

    def current_input(self) -> torch.Tensor:
        """The input with every stroke drawn in: rendered at canvas size, then shrunk to the model's size."""
        if not self._strokes:
            return self._current
        base = self._current[0].permute(1, 2, 0).numpy()
        mode = "L" if self.input_channels == 1 else "RGB"
        arr = (np.clip(base, 0, 1) * 255).round().astype(np.uint8)
        img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode).resize((self._side, self._side))
        pen = ImageDraw.Draw(img)
        colour = 255 if mode == "L" else (0, 0, 0)
        width = round(self._pen_width())
        for stroke in self._strokes:
            pen.line(stroke if len(stroke) > 1 else stroke * 2, fill=colour, width=width, joint="curve")
            for x, y in (stroke[0], stroke[-1]):  # round caps
                pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=colour)
        small = np.asarray(img.resize((self.size, self.size), Image.Resampling.LANCZOS), dtype=np.float32) / 255.0
        t = torch.from_numpy(small)
        return (t[None, None] if mode == "L" else t.permute(2, 0, 1)[None]).contiguous()

    # ------------------------------------------------------------------ compute and show
    def update(self) -> Inspection | None:
        """Recompute from the input and the controls, redraw everything, and return the result."""
        try:
            x = self.current_input()
            layer = self.controls["layer"].value
            target = self.controls["target"].value
            channel = min(self.controls["channel"].value, self._channels_of(layer) - 1)
            result = inspect_network(self.model, x, layer, channel, None if target == -1 else target)
            self._show(result)
        except Exception as err:  # said in red; the last good pictures stay
            self._show_error(err)
            return self.result
        self.result, self.error, self.exception = result, None, None
        return result

    def _channels_of(self, layer: str) -> int:
        if self.result is not None and self.result.layer == layer:
            return self.result.activations.shape[0]
        return 1 << 30  # not known yet: inspect_network checks the range

    def _show(self, r: Inspection) -> None:
        channel_box = self.controls["channel"]
        channel_box.unobserve_all()
        channel_box.max = r.activations.shape[0] - 1
        channel_box.value = r.channel
        channel_box.observe(lambda _change: self.update(), names="value")
        pixels = r.pixels.permute(1, 2, 0).numpy()
        seen = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
        self.pictures["seen"].value = _png(seen, 200)
        g = r.input_gradient
        gradient = _colour(_signed(g[0]), "RdBu_r") if g.shape[0] == 1 else np.stack([_signed(c) for c in g], -1)
        self.pictures["input_gradient"].value = _png(gradient, 200)
        self.pictures["maps"].value = _png(maps_mosaic(r.activations, r.channel), 420)
        top = float(r.activations.max()) if float(r.activations.max()) > 0 else 1.0
        unit = (r.activations[r.channel].clamp(min=0) / top).numpy()
        self.pictures["unit"].value = _png(_colour(unit, "inferno"), 200)
        self.pictures["layer_gradient"].value = _png(_colour(_signed(r.layer_gradient[r.channel]), "RdBu_r"), 200)
        self.pictures["weights"].value = _png(weights_picture(r.weights), 120)
        self.bars.value = probability_bars(r, self.classes)
        name = self.classes[r.target] if r.target < len(self.classes) else str(r.target)
        self.status.value = html.escape(
            f"{r.layer}: {r.activations.shape[0]} maps of {r.activations.shape[1]}×{r.activations.shape[2]}; "
            f"channel {r.channel} framed (max {float(r.activations[r.channel].max()):.2f}); "
            f"gradients of '{name}'; weights from {r.weights_from or 'no convolution'}"
        )
        if self.canvas is not None:
            self._paint_canvas(r.pixels)

    def _paint_canvas(self, pixels: torch.Tensor) -> None:
        arr = (pixels.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        if arr.shape[-1] == 1:
            arr = np.repeat(arr, 3, axis=-1)
        big = np.asarray(Image.fromarray(arr).resize((self._side, self._side), Image.Resampling.NEAREST))
        self.canvas.put_image_data(big, 0, 0)

    def still(self, height: int = 180) -> Image.Image:
        """Every picture the inspector shows, side by side at one height (for a notebook read without a kernel)."""
        order = ("seen", "input_gradient", "maps", "unit", "layer_gradient", "weights")
        tiles = []
        for name in order:
            if self.pictures[name].value:
                tile = Image.open(io.BytesIO(self.pictures[name].value)).convert("RGB")
                tiles.append(tile.resize((max(1, round(tile.width * height / tile.height)), height)))
        sheet = Image.new("RGB", (sum(t.width for t in tiles) + 8 * len(tiles), height), "white")
        x = 0
        for tile in tiles:
            sheet.paste(tile, (x, 0))
            x += tile.width + 8
        return sheet

    def _repr_mimebundle_(self, **kwargs) -> dict:
        # the live widget when a kernel runs; elsewhere (GitHub, nbviewer) its pictures as one still JPEG
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        r = self.result
        if r is not None:
            top = ", ".join(f"{self.classes[c]} {p:.2f}" for c, p in r.top(3))
            bundle["text/plain"] = (
                f"network inspector ({r.layer}, channel {r.channel}; top-3: {top}): input, its gradient, "
                "the layer's maps, the channel, its gradient, the unit's weights; run the notebook to draw"
            )
            still = io.BytesIO()
            self.still().save(still, format="jpeg", quality=85)
            bundle["image/jpeg"] = base64.b64encode(still.getvalue()).decode("ascii")
        return bundle

    def _show_error(self, err: BaseException) -> None:
        self.error, self.exception = f"{type(err).__name__}: {err}".removesuffix(": "), err
        self.status.value = f"<span style='color:#b00020'>{html.escape(self.error)}</span>"

    def _build_layout(self) -> None:
        def titled(title: str, widget: widgets.Widget) -> widgets.VBox:
            return widgets.VBox([widgets.HTML(f"<b>{html.escape(title)}</b>"), widget])

        draw = self.canvas if self.canvas is not None else widgets.HTML("<i>pip install ipycanvas to draw</i>")
        left = widgets.VBox([titled("draw here", draw), widgets.HBox([self.clear_button, self.upload])])
        middle = widgets.VBox(
            [
                titled("the input as the model sees it", self.pictures["seen"]),
                titled("gradient of the class w.r.t. the input", self.pictures["input_gradient"]),
            ]
        )
        right = widgets.VBox(
            [titled("probabilities", self.bars), titled("the unit's weights", self.pictures["weights"])]
        )
        maps = widgets.HBox(
            [
                titled("the layer's maps (one scale, 0 = black)", self.pictures["maps"]),
                titled("the selected channel", self.pictures["unit"]),
                titled("gradient of the class w.r.t. it (red +, blue −)", self.pictures["layer_gradient"]),
            ]
        )
        controls = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([controls, widgets.HBox([left, middle, right]), maps, self.status])


def _default_images(model: nn.Module, channels: int, size: int) -> dict[str, torch.Tensor]:
    if channels == 1:
        test = fashion_mnist("test")
        firsts = [int((test.labels == c).nonzero()[0]) for c in range(len(FASHION_CLASSES))]
        return {f"test image: {FASHION_CLASSES[test.labels[i]]}": test.images[i : i + 1].clone() for i in firsts} | {
            "blank": torch.zeros(1, 1, size, size)
        }
    return {name: preprocess(load_image(name), size=size) for name in DEFAULT_PHOTOS}


def network_inspector(
    model: nn.Module,
    images: Mapping[str, torch.Tensor] | None = None,
    classes: Sequence[str] | None = None,
    layer: str | None = None,
    size: int | None = None,
) -> NetworkInspector:
    """A live view of ``model`` at work: draw on its input and see every layer's maps, weights and gradients.

    ``images``: name -> ``(1,C,H,W)`` pixels to pick from (default: one Fashion-MNIST test image per
    class and a blank one for a one-channel model; a few sample photos otherwise). ``classes``: the
    class names (FashionNet's or ImageNet's by default, from the number of outputs). ``layer``: the
    layer shown first (default: the first one with maps). ``size``: the input side (28 for a
    one-channel model, else 224).
    """
    first_conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first_conv is None:
        raise ValueError("network_inspector needs a convolutional model (it has no nn.Conv2d)")
    channels = first_conv.in_channels
    size = size if size is not None else (28 if channels == 1 else 224)
    images = dict(images) if images is not None else _default_images(model, channels, size)
    if not images:
        raise ValueError("network_inspector: images is empty; pass at least one name -> (1,C,H,W) tensor")
    for name, x in images.items():
        if not (isinstance(x, torch.Tensor) and x.dim() == 4 and x.shape[:2] == (1, channels)):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"image {name!r} must be (1,{channels},H,W) pixels for this model, got {shape}")
    probe = next(iter(images.values()))
    layers = map_layers(model, probe)
    if classes is None:
        k = probabilities(model, probe).shape[1]
        classes = list(FASHION_CLASSES) if k == len(FASHION_CLASSES) else imagenet_classes() if k == 1000 else []
        classes = classes or [str(i) for i in range(k)]
    layer = layer if layer is not None else layers[0]
    if layer not in layers:
        raise ValueError(f"layer {layer!r} has no maps to show; pick one of {layers}")
    return NetworkInspector(model, images, classes, layers, layer, size, channels)
