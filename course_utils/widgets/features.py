"""Explorers for notebooks 00–04: what a network predicts, its filters, activations, top patches and codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from ..activations import layer_activations
from ..codes import nearest_neighbours, tsne_map
from ..core import frozen_eval
from ..images import deprocess
from ..models import top_predictions
from ..patches import LayerMaxima, TopActivations, crop_patches
from ..plotting import class_scatter, feature_maps, image_grid, images_with_predictions
from ..receptive_field import ReceptiveField
from ..weights import filter_roughness, filters_as_images
from .explorer import Explorer, in_range, one_of, probabilities

__all__ = [
    "activation_explorer",
    "checkpoint_filters_explorer",
    "neighbours_explorer",
    "patches_explorer",
    "predictions_explorer",
    "tsne_explorer",
]


def _names(what: str, named, expected: str) -> list:
    """The keys of a ``name -> value`` mapping, refusing anything else (a list would give meaningless names)."""
    if not isinstance(named, Mapping):
        raise ValueError(f"{what} must be a dict {expected}, not a {type(named).__name__}")
    return list(named)


def _check_labels(what: str, labels, class_names: Sequence[str]) -> None:
    """Refuse integer ``labels`` that have no name in ``class_names`` (a title would fail, or be wrong)."""
    top = int(torch.as_tensor(labels).max()) if len(labels) else -1
    if top >= len(class_names):
        raise ValueError(f"{what} go up to {top}, but there are {len(class_names)} class names: pass one per class")


# --------------------------------------------------------------------------- 00: top-5 predictions
def predictions_explorer(
    model: nn.Module,
    images: Mapping[str, torch.Tensor],
    k: int | None = None,
    classes: Sequence[str] | None = None,
    value: str | None = None,
) -> Explorer:
    """Pick an image (pixels ``(1,C,H,W)`` in [0,1]) and a k; show the model's top-k classes (notebook 00).

    The k slider runs from 1 to 10, or to the number of classes if the model has fewer; ``k`` starts
    it (default 5, or all classes if fewer). ``result``: the list of ``(class name, probability)``
    pairs shown, most probable first.
    """
    names = _names("images", images, "name -> (1,C,H,W) pixels")
    value = one_of("image", names, value)
    num_classes = probabilities(model, images[value]).shape[1]
    if classes is not None and len(classes) != num_classes:
        raise ValueError(
            f"classes has {len(classes)} names but the model gives {num_classes} scores: pass one per class"
        )
    k_max = min(10, num_classes)
    k = in_range("k", min(5, k_max) if k is None else k, 1, k_max, f"the model has {num_classes} classes; at most 10")
    controls = {
        "image": widgets.Dropdown(options=names, value=value, description="photo"),
        "k": widgets.IntSlider(value=k, min=1, max=k_max, description="top-k"),
    }

    def compute(image: str, k: int) -> list[tuple[str, float]]:
        with frozen_eval(model):  # eval mode: dropout would change the probabilities shown
            return top_predictions(model, images[image], k=k, classes=classes)[0]

    def draw(preds: list, values: dict) -> tuple[Figure, str]:
        fig = images_with_predictions([deprocess(images[values["image"]])], [preds], titles=[values["image"]], cell=3.2)
        return fig, f"top-1: {preds[0][0]} ({preds[0][1]:.2f})"

    return Explorer(controls, compute, draw, title="predictions explorer")


# --------------------------------------------------------------------------- 01: filters per checkpoint
def checkpoint_filters_explorer(
    filters: Mapping[str, torch.Tensor],
    accuracy: Mapping[str, float] | None = None,
    value: str | None = None,
    ncols: int = 16,
) -> Explorer:
    """Step through training checkpoints and show one layer's filters ``(out, 1 or 3, k, k)`` (notebook 01).

    ``filters``: checkpoint name -> weight tensor. The checkbox switches from "each filter on its own
    min..max" to "0 is gray" (signs visible). ``result``: the displayed filters, ``(out,k,k)`` gray or
    ``(out,3,k,k)`` RGB, values in [0,1].
    """
    names = list(filters)
    value = one_of("checkpoint", names, value, default=-1)
    in_range("ncols", ncols, 1)
    controls = {
        "checkpoint": widgets.SelectionSlider(options=names, value=value, description="checkpoint"),
        "symmetric": widgets.Checkbox(value=False, description="0 = gray (show signs)"),
    }

    def compute(checkpoint: str, symmetric: bool) -> torch.Tensor:
        return torch.stack(filters_as_images(filters[checkpoint], symmetric=symmetric))

    def draw(shown: torch.Tensor, values: dict) -> tuple[Figure, str]:
        name = values["checkpoint"]
        roughness = filter_roughness(filters[name]).mean()
        extra = f", test accuracy {accuracy[name]:.3f}" if accuracy and name in accuracy else ""
        fig = image_grid(
            list(shown), ncols=ncols, cell=0.95, suptitle=f"filters at '{name}': mean roughness {roughness:.2f}{extra}"
        )
        return fig, f"{name}: {len(shown)} filters, mean roughness {roughness:.2f}{extra}"

    return Explorer(controls, compute, draw, title="checkpoint filters explorer")


# --------------------------------------------------------------------------- 02: activation maps
def activation_explorer(
    model: nn.Module,
    images: Mapping[str, torch.Tensor] | torch.Tensor,
    layers: Sequence[str],
    labels: Sequence[str] | None = None,
    value: str | int | None = None,
    layer: str | None = None,
    n: int = 16,
) -> Explorer:
    """Pick an image and a layer; show the first ``n`` activation maps (notebook 02).

    ``images``: name -> pixels ``(1,C,H,W)`` in [0,1] (a dropdown) or a batch ``(N,C,H,W)`` (a slider
    over its indices; ``labels`` names each). All ``layers`` of one image are captured in one forward
    pass and cached, so switching layers is instant. ``result``: the activation shown, ``(1,C,h,w)``
    (or ``(1,D)`` for a fully connected layer).
    """
    picker: widgets.ValueWidget
    in_range("n", n, 1)
    if isinstance(images, torch.Tensor):
        batch = images
        if batch.dim() != 4 or len(batch) == 0:
            raise ValueError(
                f"images must be a batch (N,C,H,W) with N >= 1 or a dict of them, got {tuple(batch.shape)}"
            )
        if labels is not None and len(labels) != len(batch):
            raise ValueError(f"labels has {len(labels)} entries for {len(batch)} images: pass one per image")
        first = in_range("value", 0 if value is None else value, 0, len(batch) - 1, f"{len(batch)} images")
        picker = widgets.IntSlider(value=first, min=0, max=len(batch) - 1, description="image", continuous_update=False)

        def pick(key) -> torch.Tensor:
            return batch[key : key + 1]
    else:
        named = images
        names = _names("images", named, "name -> (1,C,H,W) pixels, or a batch (N,C,H,W)")
        picker = widgets.Dropdown(options=names, value=one_of("image", names, value), description="photo")

        def pick(key) -> torch.Tensor:
            return named[key]

    controls = {
        "image": picker,
        "layer": widgets.Dropdown(options=list(layers), value=one_of("layer", layers, layer), description="layer"),
    }

    @lru_cache(maxsize=16)
    def activations_of(key) -> dict[str, torch.Tensor]:
        return layer_activations(model, pick(key), layers)

    def compute(image, layer: str) -> torch.Tensor:
        return activations_of(image)[layer]

    def draw(act: torch.Tensor, values: dict) -> tuple[Figure, str]:
        key = values["image"]
        name = f"image {key}" + (f" ({labels[key]})" if labels is not None else "") if isinstance(key, int) else key
        zero = (act == 0).float().mean().item()
        title = f"{name}, {values['layer']} {tuple(act.shape[1:])}: {zero:.0%} of all values are 0"
        return feature_maps(act, n=n, ncols=8, cell=1.5, title=title), title

    return Explorer(controls, compute, draw, title="activation explorer")


# --------------------------------------------------------------------------- 03: top patches
def patches_explorer(
    images: torch.Tensor,
    maxima: Mapping[str, LayerMaxima],
    fields: Mapping[str, ReceptiveField],
    directions: Mapping[str, LayerMaxima] | None = None,
    k: int = 9,
    layer: str | None = None,
    class_names: Sequence[str] | None = None,
    labels: torch.Tensor | None = None,
) -> Explorer:
    """Pick a layer and a unit (or a random direction); show its top-k dataset patches (notebook 03).

    ``images`` (N,C,H,W) pixels in [0,1]; ``maxima``/``directions``: layer -> ``layer_maxima(...)`` over
    these images (for units / for random directions); ``fields``: layer -> its receptive field.
    ``result``: the ``TopActivations`` shown (image indices, peak positions, values), best first.
    """
    directions = dict(directions or {})
    layers = list(maxima)
    layer = one_of("layer", layers, layer, default=-1)
    missing = [name for name in layers if name not in fields]
    if missing:
        raise ValueError(f"fields has no receptive field for {missing}: pass receptive_fields(model, {layers}, ...)")
    for name, found in {**maxima, **directions}.items():
        if found.values.shape[0] != len(images):
            raise ValueError(
                f"the maxima of {name!r} cover {found.values.shape[0]} images but images has {len(images)}: "
                "compute layer_maxima over these same images"
            )
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"labels has {len(labels)} entries for {len(images)} images: pass one per image")
    if labels is not None and class_names is not None:
        _check_labels("labels", labels, class_names)
    k = in_range("k", k, 1, len(images), f"there are {len(images)} images")
    controls: dict[str, widgets.ValueWidget] = {
        "layer": widgets.Dropdown(options=layers, value=layer, description="layer"),
        "unit": widgets.IntSlider(
            value=0, min=0, max=maxima[layer].values.shape[1] - 1, description="unit", continuous_update=False
        ),
    }
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
        fig = image_grid(
            patches,
            titles,
            ncols=k,
            cell=1.35,
            suptitle=f"{layer} {label} {values['unit']}: top-{k} patches ({rf.size}x{rf.size} px)",
        )
        return fig, f"{layer} {label} {values['unit']}: best {top.values[0]:.2f}, {k}th {top.values[-1]:.2f}"

    explorer = Explorer(controls, compute, draw, title="patches explorer")
    return explorer


# --------------------------------------------------------------------------- 04: neighbours and t-SNE
def neighbours_explorer(
    database,
    queries,
    database_codes: torch.Tensor,
    query_codes: torch.Tensor,
    class_names: Sequence[str],
    k: int | None = None,
    value: int = 0,
) -> Explorer:
    """Pick a query image; show its ``k`` nearest database images in pixel space and in code space (notebook 04).

    ``database``/``queries``: datasets with ``.images`` (N,1,H,W) and ``.labels`` (N,) (e.g. train and
    test); ``*_codes``: their codes (N, D). The k slider runs from 1 to 16 (or the database size);
    ``k`` starts it (default 8). ``result``: ``{"pixels": indices (k,), "codes": indices (k,)}`` into
    the database, nearest first.
    """
    for what, data, codes in (("database", database, database_codes), ("queries", queries, query_codes)):
        sizes = {f"{what}.images": len(data.images), f"{what}.labels": len(data.labels), "codes": len(codes)}
        if len(set(sizes.values())) != 1 or not len(data.images):
            raise ValueError(f"{what}: {sizes}; the images, labels and codes must be the same (non-zero) number")
        _check_labels(f"{what}.labels", data.labels, class_names)
    k_max = min(16, len(database.images))
    k = in_range(
        "k", min(8, k_max) if k is None else k, 1, k_max, f"{len(database.images)} database images; at most 16"
    )
    value = in_range("value", value, 0, len(queries.images) - 1, f"{len(queries.images)} queries")
    controls = {
        "query": widgets.IntSlider(
            value=value, min=0, max=len(queries.images) - 1, description="test image", continuous_update=False
        ),
        "k": widgets.IntSlider(value=k, min=1, max=k_max, description="neighbours", continuous_update=False),
    }

    def compute(query: int, k: int) -> dict[str, torch.Tensor]:
        spaces = {"pixels": (database.images, queries.images), "codes": (database_codes, query_codes)}
        return {space: nearest_neighbours(db, q[query : query + 1], k)[0][0] for space, (db, q) in spaces.items()}

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
        fig = image_grid(
            images,
            titles,
            ncols=n + 1,
            cell=1.45,
            title_colors=colors,
            suptitle=f"{n} nearest training images of test image {q}: in pixel space, then in code space",
        )
        return fig, f"neighbours of the query's class: pixels {same['pixels']}/{n}, codes {same['codes']}/{n}"

    return Explorer(controls, compute, draw, title="neighbours explorer")


def tsne_explorer(
    codes: torch.Tensor,
    labels: torch.Tensor,
    class_names: Sequence[str],
    perplexities: Sequence[float] = (2, 5, 10, 30, 50, 100),
    value: float | None = None,
    seed: int = 0,
) -> Explorer:
    """Pick a perplexity and press Run; show the t-SNE map of ``codes`` (N,D) coloured by ``labels`` (notebook 04).

    The slider offers the ``perplexities`` below N (t-SNE needs more points than its perplexity);
    ``value`` starts it (default 30, or the largest one offered). ``result``: the ``(N,2)`` map shown,
    ``course_utils.codes.tsne_map(codes, perplexity, seed)``.
    """
    n = len(codes)
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries for {n} codes: pass one per code")
    _check_labels("labels", labels, class_names)
    offered = [p for p in perplexities if 0 < p < n]
    if not offered:
        raise ValueError(f"no perplexity in {list(perplexities)} is between 0 and the number of codes ({n})")
    if value is not None and value in perplexities and value not in offered:
        raise ValueError(f"perplexity {value} needs more than {value} codes, there are {n}: pick one of {offered}")
    value = one_of("perplexity", offered, value if value is not None else (30 if 30 in offered else offered[-1]))
    controls = {"perplexity": widgets.SelectionSlider(options=offered, value=value, description="perplexity")}

    def compute(perplexity: float) -> np.ndarray:
        return tsne_map(codes, perplexity, seed)

    def draw(xy: np.ndarray, values: dict) -> tuple[Figure, str]:
        title = f"t-SNE of {len(xy)} codes, perplexity {values['perplexity']}"
        return class_scatter(xy, np.asarray(labels), class_names, title=title, size=10), title

    return Explorer(controls, compute, draw, run_button=True, title="t-SNE explorer")
