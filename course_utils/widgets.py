"""Live demos for the notebooks: one small "explorer" per demo, built from ipywidgets controls.

Each factory (``predictions_explorer``, ``occlusion_explorer``, ...) returns an ``Explorer``: an
ipywidgets ``VBox`` to display in a notebook, with a row of controls above a picture. Changing a
control (or pressing **Run**, for the slow ones) calls a pure compute function of ``course_utils``,
stores what it returned in ``explorer.result`` and draws it with ``course_utils.plotting`` into an
``Image`` widget (PNG bytes). Because computing and showing are separate, a test can drive an
explorer without a browser::

    explorer = occlusion_explorer(model, x, target)
    explorer.controls["window"].value = 16
    explorer.button.click()
    explorer.result            # the (H,W) map now shown

Outside a live kernel (a notebook rendered on GitHub) the explorer shows its last picture as a
still image. Used in every notebook.
"""
from __future__ import annotations

import base64
import html
import io
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch import nn

from .attribution import as_heat
from .codes import nearest_neighbours
from .config import model_device
from .hooks import capture_activations
from .images import deprocess
from .models import top_predictions
from .occlusion import occlusion
from .patches import LayerMaxima, TopActivations, crop_patches
from .plotting import class_scatter, feature_maps, heatmap_overlay, image_grid, images_with_predictions
from .receptive_field import ReceptiveField
from .weights import filter_roughness, filters_as_images

__all__ = ["Explorer", "figure_png", "as_picture", "layer_activations", "tsne_map", "Saliency",
           "predictions_explorer", "checkpoint_filters_explorer", "activation_explorer", "patches_explorer",
           "neighbours_explorer", "tsne_explorer", "occlusion_explorer", "saliency_explorer", "pixels_png",
           "class_visualization_explorer", "inversion_explorer", "deepdream_explorer", "fgsm_explorer",
           "loss_slice_explorer", "gram_error", "style_explorer"]

Draw = Callable[[Any, dict], tuple[Figure, str]]  # (result, control values) -> (figure, caption)


# --------------------------------------------------------------------------- the explorer itself
def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """Render ``fig`` to PNG bytes and close it (a widget callback must not leave figures open)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


class Explorer(widgets.VBox):
    """Controls above a picture: a change (or a click on Run) recomputes ``result`` and redraws it.

    ``controls``: name -> value widget; ``compute(**values)`` returns the result; ``draw(result,
    values)`` returns ``(figure, caption)``. With ``run_button`` a change only marks the picture
    as stale, and ``button.click()`` recomputes. A ``ValueError`` from ``compute`` (a setting
    that makes no sense) is shown in red and kept in ``error``; ``result`` keeps the last good one.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], compute: Callable[..., Any], draw: Draw,
                 run_button: bool = False, title: str = "explorer", update_now: bool = True):
        self.controls = dict(controls)
        self.result: Any = None
        self.error: str | None = None
        self.title = title
        self._compute, self._draw, self._paused = compute, draw, False
        self.button = widgets.Button(description="Run", icon="play", button_style="primary") if run_button else None
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        row = widgets.HBox([*self.controls.values(), *([self.button] if self.button else [])],
                           layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([row, self.status, self.image])
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        if self.button is not None:
            self.button.on_click(lambda _button: self.update())
        if update_now:
            self.update()

    @property
    def values(self) -> dict[str, Any]:
        """Return the current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Change several controls inside this block without recomputing after each one."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def _changed(self, _change: dict) -> None:
        if self._paused:
            return
        if self.button is None:
            self.update()
        else:
            self.status.value = "<i>settings changed: press Run</i>"

    def update(self) -> Any:
        """Recompute ``result`` from the controls' values, redraw, and return the result."""
        values = self.values
        if self.button is not None:
            self.status.value = "<i>computing…</i>"
        try:
            result = self._compute(**values)
        except ValueError as err:  # a bad combination of settings: say so instead of a traceback
            self.error = str(err)
            self.status.value = f"<span style='color:#b00020'>{html.escape(self.error)}</span>"
            return self.result
        fig, caption = self._draw(result, values)
        self.result, self.error = result, None
        self.image.value = figure_png(fig)
        self.status.value = html.escape(caption, quote=False)
        return result

    def _repr_mimebundle_(self, **kwargs) -> dict:
        # the live widget when a kernel runs; elsewhere (GitHub, nbviewer) the last picture as a still JPEG
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        settings = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        bundle["text/plain"] = f"{self.title} ({settings}): run the notebook to use the controls"
        if self.image.value:
            still = io.BytesIO()
            Image.open(io.BytesIO(self.image.value)).convert("RGB").save(still, format="jpeg", quality=80)
            bundle["image/jpeg"] = base64.b64encode(still.getvalue()).decode("ascii")
        return bundle


# --------------------------------------------------------------------------- small pure helpers
def as_picture(x: torch.Tensor) -> np.ndarray:
    """Turn one model input ``(1,C,H,W)`` into an array to show: 3 channels are ImageNet-normalized
    (deprocessed to ``(H,W,3)``), 1 channel is pixels in [0,1] (``(H,W)``)."""
    if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected one image (1,1,H,W) or (1,3,H,W), got {tuple(x.shape)}")
    return deprocess(x) if x.shape[1] == 3 else x[0, 0].detach().float().cpu().clamp(0, 1).numpy()


@torch.no_grad()
def layer_activations(model: nn.Module, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """Return the outputs of ``layers`` for input ``x`` (N,...) in one forward pass, as CPU tensors."""
    was_training = model.training
    model.eval()
    try:
        with capture_activations(model, list(layers)) as acts:
            model(x.to(model_device(model)))
    finally:
        model.train(was_training)
    return {layer: a.cpu() for layer, a in acts.items()}


def tsne_map(codes: torch.Tensor | np.ndarray, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """Return a 2-D t-SNE map ``(N,2)`` of ``codes`` ``(N,D)`` (PCA start, fixed seed, so it is reproducible)."""
    from sklearn.manifold import TSNE  # imported here: it takes a second, and only notebook 04 needs it

    codes = np.asarray(codes, dtype=np.float32)
    if not 0 < perplexity < len(codes):
        raise ValueError(f"perplexity must be between 0 and the number of points ({len(codes)}), got {perplexity}")
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)


def _vector_as_block(act: torch.Tensor) -> torch.Tensor:
    """Show a code vector (1, D) as one (1,1,rows,16) block of its D numbers (8x16 for 128)."""
    d = act.shape[1]
    cols = 16 if d % 16 == 0 else d
    return act.reshape(1, 1, d // cols, cols)


# --------------------------------------------------------------------------- 00: top-5 predictions
def predictions_explorer(model: nn.Module, images: Mapping[str, torch.Tensor], k: int = 5,
                         classes: Sequence[str] | None = None, value: str | None = None) -> Explorer:
    """Pick an image (model input ``(1,C,H,W)``) and a k; show the model's top-k classes (notebook 00).

    ``result``: the list of ``(class name, probability)`` pairs shown, most probable first.
    """
    names = list(images)
    controls = {"image": widgets.Dropdown(options=names, value=value or names[0], description="photo"),
                "k": widgets.IntSlider(value=k, min=1, max=10, description="top-k")}

    def compute(image: str, k: int) -> list[tuple[str, float]]:
        return top_predictions(model, images[image], k=k, classes=classes)[0]

    def draw(preds: list, values: dict) -> tuple[Figure, str]:
        fig = images_with_predictions([as_picture(images[values["image"]])], [preds], titles=[values["image"]], cell=3.2)
        return fig, f"top-1: {preds[0][0]} ({preds[0][1]:.2f})"

    return Explorer(controls, compute, draw, title="predictions explorer")


# --------------------------------------------------------------------------- 01: filters per checkpoint
def checkpoint_filters_explorer(filters: Mapping[str, torch.Tensor], accuracy: Mapping[str, float] | None = None,
                                value: str | None = None, ncols: int = 16) -> Explorer:
    """Step through training checkpoints and show one layer's filters ``(out, 1 or 3, k, k)`` (notebook 01).

    ``filters``: checkpoint name -> weight tensor. The checkbox switches from "each filter on its own
    min..max" to "0 is gray" (signs visible). ``result``: the displayed filters, ``(out,k,k)`` gray or
    ``(out,3,k,k)`` RGB, values in [0,1].
    """
    names = list(filters)
    controls = {"checkpoint": widgets.SelectionSlider(options=names, value=value or names[-1], description="checkpoint"),
                "symmetric": widgets.Checkbox(value=False, description="0 = gray (show signs)")}

    def compute(checkpoint: str, symmetric: bool) -> torch.Tensor:
        return torch.stack(filters_as_images(filters[checkpoint], symmetric=symmetric))

    def draw(shown: torch.Tensor, values: dict) -> tuple[Figure, str]:
        name = values["checkpoint"]
        roughness = filter_roughness(filters[name]).mean()
        extra = f", test accuracy {accuracy[name]:.3f}" if accuracy and name in accuracy else ""
        fig = image_grid(list(shown), ncols=ncols, cell=0.95,
                         suptitle=f"filters at '{name}': mean roughness {roughness:.2f}{extra}")
        return fig, f"{name}: {len(shown)} filters, mean roughness {roughness:.2f}{extra}"

    return Explorer(controls, compute, draw, title="checkpoint filters explorer")


# --------------------------------------------------------------------------- 02: activation maps
def activation_explorer(model: nn.Module, images: Mapping[str, torch.Tensor] | torch.Tensor, layers: Sequence[str],
                        labels: Sequence[str] | None = None, value: str | int | None = None,
                        layer: str | None = None, n: int = 16) -> Explorer:
    """Pick an image and a layer; show the first ``n`` activation maps (notebook 02).

    ``images``: name -> model input ``(1,C,H,W)`` (a dropdown) or a batch ``(N,C,H,W)`` (a slider
    over its indices; ``labels`` names each). All ``layers`` of one image are captured in one forward
    pass and cached, so switching layers is instant. ``result``: the activation shown, ``(1,C,h,w)``
    (or ``(1,D)`` for a fully connected layer).
    """
    if isinstance(images, torch.Tensor):
        picker = widgets.IntSlider(value=value or 0, min=0, max=len(images) - 1, description="image",
                                   continuous_update=False)
        pick = lambda key: images[key:key + 1]  # noqa: E731
    else:
        picker = widgets.Dropdown(options=list(images), value=value or next(iter(images)), description="photo")
        pick = images.__getitem__
    controls = {"image": picker, "layer": widgets.Dropdown(options=list(layers), value=layer or layers[0],
                                                           description="layer")}

    @lru_cache(maxsize=16)
    def activations_of(key) -> dict[str, torch.Tensor]:
        return layer_activations(model, pick(key), layers)

    def compute(image, layer: str) -> torch.Tensor:
        return activations_of(image)[layer]

    def draw(act: torch.Tensor, values: dict) -> tuple[Figure, str]:
        key = values["image"]
        name = f"image {key}" + (f" ({labels[key]})" if labels is not None else "") if isinstance(key, int) else key
        zero = (act == 0).float().mean().item()
        shape = tuple(act.shape[1:])
        title = f"{name}, {values['layer']} {shape}: {zero:.0%} of all values are 0"
        fig = feature_maps(_vector_as_block(act) if act.dim() == 2 else act, n=n, ncols=8, cell=1.5, title=title)
        return fig, title

    return Explorer(controls, compute, draw, title="activation explorer")


# --------------------------------------------------------------------------- 03: top patches
def patches_explorer(images: torch.Tensor, maxima: Mapping[str, LayerMaxima], fields: Mapping[str, ReceptiveField],
                     directions: Mapping[str, LayerMaxima] | None = None, k: int = 9, layer: str | None = None,
                     class_names: Sequence[str] | None = None, labels: torch.Tensor | None = None) -> Explorer:
    """Pick a layer and a unit (or a random direction); show its top-k dataset patches (notebook 03).

    ``images`` (N,C,H,W) pixels in [0,1]; ``maxima``/``directions``: layer -> ``layer_maxima(...)`` over
    these images (for units / for random directions); ``fields``: layer -> its receptive field.
    ``result``: the ``TopActivations`` shown (image indices, peak positions, values), best first.
    """
    directions = dict(directions or {})
    layers = list(maxima)
    layer = layer or layers[-1]
    controls = {"layer": widgets.Dropdown(options=layers, value=layer, description="layer"),
                "unit": widgets.IntSlider(value=0, min=0, max=maxima[layer].values.shape[1] - 1, description="unit",
                                          continuous_update=False)}
    if directions:
        controls["direction"] = widgets.Checkbox(value=False, description="random direction")

    def source(layer: str, direction: bool = False) -> LayerMaxima:
        if direction and layer not in directions:
            raise ValueError(f"no random directions were computed for {layer!r}; pick one of {list(directions)}")
        return directions[layer] if direction else maxima[layer]

    def fit_unit_range(_change: dict) -> None:  # registered before the explorer's own observer, so it runs first
        values = {name: control.value for name, control in controls.items() if name != "unit"}
        if values.get("direction", False) and values["layer"] not in directions:
            return  # compute() will explain the problem
        with explorer.paused():  # a clamped unit must not redraw: the explorer redraws once, right after this
            controls["unit"].max = source(**values).values.shape[1] - 1

    for name in ("layer", "direction"):
        if name in controls:
            controls[name].observe(fit_unit_range, names="value")

    def compute(layer: str, unit: int, direction: bool = False) -> TopActivations:
        return source(layer, direction).top(unit, k)

    def draw(top: TopActivations, values: dict) -> tuple[Figure, str]:
        layer, rf = values["layer"], fields[values["layer"]]
        label = "direction" if values.get("direction") else "unit"
        # as RGB, so every patch is shown on the same 0..1 pixel scale (gray images would be rescaled each)
        patches = [p.expand(3, -1, -1) if p.shape[0] == 1 else p for p in crop_patches(images, top, rf)]
        titles = [f"{v:.1f}" for v in top.values.tolist()]
        if class_names is not None and labels is not None:
            titles = [f"{class_names[int(labels[i])]}\n{t}" for i, t in zip(top.indices.tolist(), titles)]
        fig = image_grid(patches, titles, ncols=k, cell=1.35,
                         suptitle=f"{layer} {label} {values['unit']}: top-{k} patches ({rf.size}x{rf.size} px)")
        return fig, f"{layer} {label} {values['unit']}: best {top.values[0]:.2f}, {k}th {top.values[-1]:.2f}"

    explorer = Explorer(controls, compute, draw, title="patches explorer")
    return explorer


# --------------------------------------------------------------------------- 04: neighbours and t-SNE
def neighbours_explorer(database, queries, database_codes: torch.Tensor, query_codes: torch.Tensor,
                        class_names: Sequence[str], k: int = 8, value: int = 0) -> Explorer:
    """Pick a query image; show its ``k`` nearest database images in pixel space and in code space (notebook 04).

    ``database``/``queries``: datasets with ``.images`` (N,1,H,W) and ``.labels`` (N,) (e.g. train and
    test); ``*_codes``: their codes (N, D). ``result``: ``{"pixels": indices (k,), "codes": indices (k,)}``
    into the database, nearest first.
    """
    controls = {"query": widgets.IntSlider(value=value, min=0, max=len(queries.images) - 1, description="test image",
                                           continuous_update=False),
                "k": widgets.IntSlider(value=k, min=1, max=16, description="neighbours", continuous_update=False)}

    def compute(query: int, k: int) -> dict[str, torch.Tensor]:
        spaces = {"pixels": (database.images, queries.images), "codes": (database_codes, query_codes)}
        return {space: nearest_neighbours(db, q[query:query + 1], k)[0][0] for space, (db, q) in spaces.items()}

    def draw(found: dict, values: dict) -> tuple[Figure, str]:
        q, y = values["query"], int(queries.labels[values["query"]])
        images, titles, colors, same = [], [], [], {}
        for space, idx in found.items():
            hits = [int(database.labels[i]) for i in idx.tolist()]
            same[space] = sum(h == y for h in hits)
            images += [queries.images[q]] + [database.images[i] for i in idx.tolist()]
            titles += [f"query: {class_names[y]}\nin {space}"] + [class_names[h] for h in hits]
            colors += ["blue"] + ["black" if h == y else "red" for h in hits]
        n = len(found["pixels"])
        fig = image_grid(images, titles, ncols=n + 1, cell=1.45, title_colors=colors,
                         suptitle=f"{n} nearest training images of test image {q}: in pixel space, then in code space")
        return fig, f"neighbours of the query's class: pixels {same['pixels']}/{n}, codes {same['codes']}/{n}"

    return Explorer(controls, compute, draw, title="neighbours explorer")


def tsne_explorer(codes: torch.Tensor, labels: torch.Tensor, class_names: Sequence[str],
                  perplexities: Sequence[float] = (2, 5, 10, 30, 50, 100), value: float = 30, seed: int = 0) -> Explorer:
    """Pick a perplexity and press Run; show the t-SNE map of ``codes`` (N,D) coloured by ``labels`` (notebook 04).

    ``result``: the ``(N,2)`` map shown (``tsne_map(codes, perplexity, seed)``).
    """
    controls = {"perplexity": widgets.SelectionSlider(options=list(perplexities), value=value, description="perplexity")}

    def compute(perplexity: float) -> np.ndarray:
        return tsne_map(codes, perplexity, seed)

    def draw(xy: np.ndarray, values: dict) -> tuple[Figure, str]:
        title = f"t-SNE of {len(xy)} codes, perplexity {values['perplexity']}"
        return class_scatter(xy, np.asarray(labels), class_names, title=title, size=10), title

    return Explorer(controls, compute, draw, run_button=True, title="t-SNE explorer")


# --------------------------------------------------------------------------- 05: occlusion
def occlusion_explorer(model: nn.Module, image: torch.Tensor, target: int,
                       fills: Mapping[str, float | torch.Tensor | str] | None = None,
                       classes: Sequence[str] | None = None, window: int = 32, stride: int = 16,
                       window_range: tuple[int, int, int] = (8, 96, 8), stride_range: tuple[int, int, int] = (4, 32, 4),
                       output: str = "probability", batch_size: int = 8) -> Explorer:
    """Set the occluder's window, stride and fill, press Run; show the occlusion map of ``target`` (notebook 05).

    ``image``: one model input ``(1,C,H,W)``; ``fills``: name -> ``baseline`` of ``occlusion`` (a
    number, a tensor, ``"blur"``...). A stride larger than the window is cut to the window, so every
    pixel is covered. ``result``: the ``(H,W)`` map shown, ``occlusion(...)[0, 0]`` with ``output``
    ("probability": p(target) while each pixel is hidden; "attribution": the logit drop).
    """
    fills = dict(fills or {"zero": 0.0})
    name = classes[target] if classes is not None else f"class {target}"
    controls = {"window": widgets.IntSlider(window, *window_range, description="window", continuous_update=False),
                "stride": widgets.IntSlider(stride, *stride_range, description="stride", continuous_update=False),
                "fill": widgets.Dropdown(options=list(fills), value=next(iter(fills)), description="fill")}
    with torch.no_grad():
        clean = model(image.to(model_device(model))).softmax(1)[0, target].item()

    def compute(window: int, stride: int, fill: str) -> torch.Tensor:
        heat = occlusion(model, image, target, window, min(stride, window), baseline=fills[fill],
                         batch_size=batch_size, progress=False, output=output)
        return heat[0, 0].cpu()

    def draw(heat: torch.Tensor, values: dict) -> tuple[Figure, str]:
        w, s, fill = values["window"], min(values["stride"], values["window"]), values["fill"]
        label = f"p({name})" if output == "probability" else f"logit drop of {name}"
        fig = heatmap_overlay(as_picture(image), heat, alpha=0.55, label=label,
                              title=f"window {w}, stride {s}, fill {fill}")
        lowest = f"lowest p = {heat.min():.3f} (unoccluded {clean:.3f})" if output == "probability" \
            else f"largest drop {heat.max():.3f}"
        return fig, f"window {w}, stride {s}, fill {fill}: {lowest}"

    return Explorer(controls, compute, draw, run_button=True, title="occlusion explorer")


# --------------------------------------------------------------------------- 06: saliency maps
class Saliency(NamedTuple):
    """What ``saliency_explorer`` shows: the class index ``target`` and the method's raw ``attribution``."""

    target: int
    attribution: torch.Tensor


def saliency_explorer(model: nn.Module, images: Mapping[str, torch.Tensor],
                      methods: Mapping[str, Callable[[nn.Module, torch.Tensor, int], torch.Tensor]],
                      classes: Sequence[str] | None = None, ranks: int = 5, value: str | None = None,
                      method: str | None = None) -> Explorer:
    """Pick an image, a saliency method and one of the model's top-``ranks`` classes; show the map (notebook 06).

    ``methods``: name -> ``f(model, x, target)`` returning ``(1,C,H,W)`` (shown as |a| summed over
    channels, clipped at the 99th percentile) or ``(1,h,w)`` (Grad-CAM, shown upsampled as it is).
    ``result``: ``Saliency(target, attribution)``.
    """
    names, method_names = list(images), list(methods)
    controls = {"image": widgets.Dropdown(options=names, value=value or names[0], description="photo"),
                "method": widgets.Dropdown(options=method_names, value=method or method_names[0], description="method"),
                "rank": widgets.Dropdown(options=list(range(1, ranks + 1)), value=1, description="top-k class")}

    def compute(image: str, method: str, rank: int) -> Saliency:
        x = images[image].to(model_device(model))
        with torch.no_grad():
            target = int(model(x).topk(rank, dim=1).indices[0, rank - 1])
        return Saliency(target, methods[method](model, x, target).detach().cpu())

    def draw(found: Saliency, values: dict) -> tuple[Figure, str]:
        a, x = found.attribution, images[values["image"]]
        heat = a[0] if a.dim() == 3 else as_heat(a)
        name = classes[found.target] if classes is not None else f"class {found.target}"
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.3), constrained_layout=True)
        picture = as_picture(x)
        axes[0].imshow(picture, cmap="gray" if picture.ndim == 2 else None)
        axes[0].axis("off")
        axes[0].set_title(values["image"])
        caption = f"{values['method']}: top-{values['rank']} '{name}'"
        heatmap_overlay(picture, heat, ax=axes[1], alpha=0.55, title=caption, label="importance")
        return fig, caption

    return Explorer(controls, compute, draw, title="saliency explorer")


# --------------------------------------------------------------------------- 07: class visualization
def pixels_png(image: torch.Tensor, side: int = 256) -> bytes:
    """Encode one image ``(1,C,H,W)`` of pixels in [0,1] as PNG bytes, enlarged to ``side`` px (for live previews)."""
    arr = (image[0].detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    picture = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    buffer = io.BytesIO()
    picture.resize((side, side), Image.NEAREST).save(buffer, format="png")
    return buffer.getvalue()


def class_visualization_explorer(model: nn.Module, classes: Sequence[str], value: str | None = None,
                                 size: int = 128, steps: int = 80, preview_every: int = 10) -> Explorer:
    """Type a class, pick the recipe and the steps, press Run; watch the class visualization form (notebook 07).

    Recipes: Fourier parameterization with robustness transforms, or pixels with L2, blur, jitter
    and a total-variation weight (the slider). While it runs, the picture is refreshed every
    ``preview_every`` steps. ``result``: the image ``(1,3,size,size)`` in [0,1].
    """
    from . import optim  # imported here: optim imports attribution, which imports this package's peers

    controls = {"class": widgets.Combobox(value=value or classes[0], options=list(classes), description="class",
                                          ensure_option=True),
                "fourier": widgets.Checkbox(value=True, description="Fourier + transforms"),
                "tv": widgets.FloatLogSlider(value=100, base=10, min=0, max=3.5, description="TV (pixels)",
                                             continuous_update=False),
                "steps": widgets.IntSlider(value=steps, min=10, max=300, step=10, description="steps",
                                           continuous_update=False)}

    def compute(**values) -> torch.Tensor:
        if values["class"] not in classes:
            raise ValueError(f"unknown class {values['class']!r}: pick one from the list")
        target = list(classes).index(values["class"])
        recipe = (dict(fourier=True, transforms=optim.standard_transforms(size)) if values["fourier"]
                  else dict(tv_weight=values["tv"], l2_weight=100, blur_sigma=0.7, jitter_px=max(1, size // 32)))

        def preview(step: int, image: torch.Tensor) -> None:
            if step % preview_every == 0 and shown:  # not during the first run, inside the constructor
                shown[0].image.value = pixels_png(image)

        return optim.class_visualization(model, target, steps=values["steps"], size=size, callback=preview,
                                         progress=False, **recipe)

    def draw(image: torch.Tensor, values: dict) -> tuple[Figure, str]:
        from . import optim

        target = list(classes).index(values["class"])
        p = optim.class_probability(model, image, target)
        recipe = "Fourier + transforms" if values["fourier"] else f"pixels, TV {values['tv']:.0f}"
        fig, ax = plt.subplots(figsize=(4, 4.3), constrained_layout=True)
        ax.imshow(image[0].permute(1, 2, 0).numpy())
        ax.axis("off")
        ax.set_title(f"{values['class']}: p = {p:.3f}\n{recipe}, {values['steps']} steps")
        return fig, f"{values['class']}: p = {p:.3f} after {values['steps']} steps ({recipe})"

    shown: list[Explorer] = []
    shown.append(Explorer(controls, compute, draw, run_button=True, title="class visualization explorer"))
    return shown[0]


# --------------------------------------------------------------------------- 11: FGSM
def fgsm_explorer(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, class_names: Sequence[str],
                  eps: float = 0.1, max_eps: float = 0.3, value: int = 0) -> Explorer:
    """Pick a test image and ε; show the FGSM example next to the clean one with both predictions (notebook 11).

    ``images``: ``(N,C,H,W)`` pixels in [0,1]; ``labels``: ``(N,)``. ``result``: ``(clean, adversarial,
    probabilities (2,K))``; the adversarial image is ``adversarial.fgsm(model, x, y, eps)``.
    """
    from . import adversarial

    controls = {"index": widgets.IntSlider(value=value, min=0, max=len(labels) - 1, description="image",
                                           continuous_update=False),
                "eps": widgets.FloatSlider(value=eps, min=0, max=max_eps, step=0.01, description="ε",
                                           continuous_update=False)}

    def compute(index: int, eps: float):
        x, y = images[index:index + 1], labels[index:index + 1]
        x_adv = adversarial.fgsm(model, x, y, eps)
        with torch.no_grad():
            probs = torch.softmax(adversarial.pixel_input(model)(torch.cat([x, x_adv]).to(model_device(model))), 1)
        return x, x_adv, probs.cpu()

    def draw(result, values: dict) -> tuple[Figure, str]:
        x, x_adv, probs = result
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.5]},
                                 constrained_layout=True)
        for ax, img, p, name in [(axes[0], x, probs[0], "clean"), (axes[1], x_adv, probs[1], f"FGSM ε={values['eps']:.2f}")]:
            picture = img[0].permute(1, 2, 0).squeeze(-1).numpy()
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=1)
            ax.axis("off")
            ax.set_title(f"{name}: {class_names[int(p.argmax())]} ({float(p.max()):.0%})")
        pos = np.arange(len(class_names))
        axes[2].barh(pos + 0.2, probs[0].numpy(), 0.4, label="clean")
        axes[2].barh(pos - 0.2, probs[1].numpy(), 0.4, label="adversarial")
        axes[2].set_yticks(pos, class_names)
        axes[2].invert_yaxis()
        axes[2].set(xlabel="probability", xlim=(0, 1))
        axes[2].legend(loc="lower right")
        return fig, (f"true class: {class_names[int(labels[values['index']])]}; "
                     f"prediction {class_names[int(probs[0].argmax())]} → {class_names[int(probs[1].argmax())]}")

    return Explorer(controls, compute, draw, title="FGSM explorer")


# --------------------------------------------------------------------------- 12: loss slices
def loss_slice_explorer(models: Mapping[int, nn.Module], solutions: Callable[[int, int], Any], x: torch.Tensor,
                        y: torch.Tensor, seeds: Sequence[int], n: int = 15) -> Explorer:
    """Pick a width, a seed and a span; show the filter-normalized 2-D loss slice around that solution (notebook 12).

    ``models``: width -> a model of that width; ``solutions(width, seed)``: its trained parameters
    (what ``landscape.loss_slice`` takes as ``center``). ``result``: ``(coords, grid)`` from
    ``landscape.loss_slice``.
    """
    from . import landscape

    widths = list(models)
    controls = {"width": widgets.Dropdown(options=widths, value=widths[-1], description="width"),
                "seed": widgets.Dropdown(options=list(seeds), value=seeds[0], description="seed"),
                "span": widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1, description="span",
                                            continuous_update=False)}

    def compute(width: int, seed: int, span: float):
        return landscape.loss_slice(models[width], solutions(width, seed), x, y, span=span, n=n, seed=seed,
                                    progress=False)

    def draw(result, values: dict) -> tuple[Figure, str]:
        coords, grid = result
        fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
        filled = ax.contourf(coords, coords, grid, levels=20, cmap="viridis")
        ax.plot(0, 0, "rx", ms=10, mew=2)
        fig.colorbar(filled, ax=ax, label="test cross-entropy")
        ax.set(xlabel="a  (direction δ)", ylabel="b  (direction η)", title=f"width {values['width']}, seed {values['seed']}")
        ax.locator_params(nbins=5)
        centre = grid[n // 2, n // 2]
        return fig, f"loss at the solution {float(centre):.3f}, highest in the slice {float(grid.max()):.2f}"

    return Explorer(controls, compute, draw, title="loss slice explorer")


# --------------------------------------------------------------------------- 08: feature inversion
def inversion_explorer(model: nn.Module, image: torch.Tensor, layers: Sequence[str], value: str | None = None,
                       tv_weight: float = 30.0, steps: int = 200, lr: float = 0.05) -> Explorer:
    """Pick a layer and a total-variation weight, press Run; show the photo rebuilt from that layer (notebook 08).

    ``image``: pixels ``(1,3,H,W)`` in [0,1]. ``result``: ``optim.invert_features(model, layer, image,
    steps, lr, tv_weight)``, pixels ``(1,3,H,W)``.
    """
    from . import optim

    controls = {"layer": widgets.Dropdown(options=list(layers), value=value or layers[0], description="layer"),
                "tv_weight": widgets.FloatLogSlider(value=tv_weight, base=10, min=-1, max=3, description="λ_TV",
                                                    continuous_update=False)}

    def compute(layer: str, tv_weight: float) -> torch.Tensor:
        return optim.invert_features(model, layer, image, steps=steps, tv_weight=tv_weight, lr=lr, progress=False)

    def draw(recon: torch.Tensor, values: dict) -> tuple[Figure, str]:
        err = optim.feature_error(model, values["layer"], recon, image)
        rmse = float((recon - image).pow(2).mean().sqrt())
        caption = f"from {values['layer']}, λ_TV = {values['tv_weight']:.3g}: feature error {err:.2f}, pixel RMSE {rmse:.3f}"
        fig = image_grid([image[0].permute(1, 2, 0), recon[0].permute(1, 2, 0)],
                         ["original", f"from {values['layer']}, λ_TV = {values['tv_weight']:.3g}\n"
                                      f"feature err {err:.2f}, pixel RMSE {rmse:.3f}"], cell=3.5)
        return fig, caption

    return Explorer(controls, compute, draw, run_button=True, title="inversion explorer")


# --------------------------------------------------------------------------- 09: DeepDream
def deepdream_explorer(model: nn.Module, image: torch.Tensor, layers: Sequence[str], value: str | None = None,
                       step_size: float = 0.012, steps_per_octave: int = 20, octaves: int = 4,
                       scale: float = 1.4, jitter_px: int = 16) -> Explorer:
    """Pick a layer, the step size α, the steps per octave and the octaves, press Run; show the dream (notebook 09).

    ``image``: pixels ``(1,3,H,W)`` in [0,1]. ``result``: ``optim.deep_dream(...)`` with these settings.
    """
    from . import optim

    controls = {"layer": widgets.Dropdown(options=list(layers), value=value or layers[0], description="layer"),
                "step_size": widgets.FloatSlider(value=step_size, min=0.002, max=0.04, step=0.002, readout_format=".3f",
                                                 description="α", continuous_update=False),
                "steps_per_octave": widgets.IntSlider(value=steps_per_octave, min=2, max=40, description="steps/oct",
                                                      continuous_update=False),
                "octaves": widgets.IntSlider(value=octaves, min=1, max=6, description="octaves",
                                             continuous_update=False)}

    def compute(layer: str, step_size: float, steps_per_octave: int, octaves: int) -> torch.Tensor:
        return optim.deep_dream(model, image, layer, octaves=octaves, scale=scale, steps_per_octave=steps_per_octave,
                                step_size=step_size, jitter_px=jitter_px, progress=False)

    def draw(dreamed: torch.Tensor, values: dict) -> tuple[Figure, str]:
        layer = values["layer"]
        ratio = optim.layer_features(model, layer, dreamed).pow(2).mean() / optim.layer_features(model, layer, image).pow(2).mean()
        caption = (f"{layer}, α = {values['step_size']:.3f}, {values['octaves']} × {values['steps_per_octave']} steps: "
                   f"‖a‖² ×{float(ratio):.1f}")
        fig = image_grid([image[0].permute(1, 2, 0), dreamed[0].permute(1, 2, 0)], ["original", caption.replace(": ", "\n")],
                         cell=4.2)
        return fig, caption

    return Explorer(controls, compute, draw, run_button=True, title="DeepDream explorer")


# --------------------------------------------------------------------------- 10: neural style
def gram_error(model: nn.Module, image: torch.Tensor, reference: torch.Tensor, layers: Sequence[str]) -> float:
    """The relative Gram error ``‖G(image) − G(reference)‖² / ‖G(reference)‖²`` averaged over ``layers`` (0: same).

    ``image``, ``reference``: pixels ``(1,3,H,W)`` in [0,1] (sizes may differ).
    """
    from . import optim

    errors = []
    for layer in layers:
        g = optim.gram_matrix(optim.layer_features(model, layer, image))
        r = optim.gram_matrix(optim.layer_features(model, layer, reference))
        errors.append(float((g - r).pow(2).sum() / r.pow(2).sum().clamp_min(1e-12)))
    return float(np.mean(errors))


def style_explorer(model: nn.Module, content: torch.Tensor, styles: Mapping[str, torch.Tensor], content_layer: str,
                   style_layers: Sequence[str] | Mapping[str, Sequence[str]], steps: int = 100, ratio: float = 0.1,
                   style_weight: float = 1e3, tv_weight: float = 0.0, value: str | None = None) -> Explorer:
    """Pick a style, the content/style ratio α/β and the style layers, press Run; show the stylized photo (notebook 10).

    ``content`` and each style: pixels ``(1,3,H,W)`` in [0,1]. ``style_layers``: layer names (chosen
    with a multiple selection; all selected at first) or named sets of them (chosen with a dropdown).
    ``result``: ``optim.style_transfer(model, content, style, content_layer, layers,
    content_weight=ratio·style_weight, style_weight, tv_weight, steps).image``, pixels ``(1,3,H,W)``.
    """
    from . import optim

    if not styles:
        raise ValueError("styles is empty: pass at least one name -> (1,3,H,W) style image")
    if isinstance(style_layers, Mapping):
        layer_sets = {name: list(layers) for name, layers in style_layers.items()}
        layer_control = widgets.Dropdown(options=list(layer_sets), description="style layers")
    else:
        layer_sets = None
        layer_control = widgets.SelectMultiple(options=list(style_layers), value=tuple(style_layers), rows=4,
                                               description="style layers")
    controls = {"style": widgets.Dropdown(options=list(styles), value=value or next(iter(styles)), description="style"),
                "ratio": widgets.FloatLogSlider(value=ratio, base=10, min=-3, max=1, description="α/β",
                                                continuous_update=False),
                "layers": layer_control}

    def chosen_layers(layers) -> list[str]:
        return layer_sets[layers] if layer_sets is not None else list(layers)

    def compute(style: str, ratio: float, layers) -> torch.Tensor:
        names = chosen_layers(layers)
        if not names:
            raise ValueError("no style layer selected: pick at least one (ctrl/shift-click)")
        return optim.style_transfer(model, content, styles[style], content_layer, names,
                                    content_weight=ratio * style_weight, style_weight=style_weight,
                                    tv_weight=tv_weight, steps=steps, progress=False).image

    def draw(stylized: torch.Tensor, values: dict) -> tuple[Figure, str]:
        style, names = styles[values["style"]], chosen_layers(values["layers"])
        before, after = gram_error(model, content, style, names), gram_error(model, stylized, style, names)
        caption = (f"{values['style']}, α/β = {values['ratio']:.3g}, {len(names)} style layers: "
                   f"Gram error to the style {before:.3f} (photo) → {after:.3f}")
        fig = image_grid([content[0].permute(1, 2, 0), style[0].permute(1, 2, 0), stylized[0].permute(1, 2, 0)],
                         ["content", f"style: {values['style']}",
                          f"α/β = {values['ratio']:.3g}\nGram error {after:.3f}"], cell=3.5)
        return fig, caption

    return Explorer(controls, compute, draw, run_button=True, title="style explorer")
