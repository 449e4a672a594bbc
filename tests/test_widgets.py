"""Explorers (course_utils.widgets): set a control's value or click Run, as a teacher would, and check
that ``result`` is what the pure course_utils function gives for those settings — no browser needed."""

import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from course_utils import attribution as A  # noqa: E402
from course_utils import widgets as W  # noqa: E402
from course_utils.activations import layer_activations  # noqa: E402
from course_utils.codes import nearest_neighbours, tsne_map  # noqa: E402
from course_utils.data import FASHION_CLASSES  # noqa: E402
from course_utils.hooks import capture_activations  # noqa: E402
from course_utils.models import FashionNet, top_predictions  # noqa: E402
from course_utils.occlusion import occlusion  # noqa: E402
from course_utils.patches import layer_maxima  # noqa: E402
from course_utils.receptive_field import receptive_fields  # noqa: E402
from course_utils.weights import normalize_filters, normalize_symmetric  # noqa: E402
from course_utils.widgets import (  # noqa: E402
    Explorer,
    activation_explorer,
    checkpoint_filters_explorer,
    neighbours_explorer,
    occlusion_explorer,
    patches_explorer,
    pixels_png,
    predictions_explorer,
    probabilities,
    saliency_explorer,
    tsne_explorer,
)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PNG = b"\x89PNG"


@pytest.fixture(autouse=True)
def no_show_and_close(monkeypatch):
    """Fail if an explorer calls plt.show(); check that it closed every figure it drew."""

    def forbidden(*args, **kwargs):
        raise AssertionError("explorers must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)
    plt.close("all")
    yield
    open_figures = plt.get_fignums()
    plt.close("all")
    assert not open_figures, "an explorer left matplotlib figures open"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Run on one thread: the inputs are tiny, and on a busy machine extra threads only wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):  # t-SNE's OpenMP threads too
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def net() -> FashionNet:
    torch.manual_seed(0)
    return FashionNet().eval()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    """24 smooth blob "garments" (24,1,28,28) in [0,1]: different enough to give different maps."""
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    centres = torch.rand(24, 2, generator=g) * 14 + 7
    widths = torch.rand(24, 1, 1, generator=g) * 4 + 3
    blobs = torch.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / (2 * widths**2))
    return (blobs + 0.1 * torch.rand(24, 28, 28, generator=g)).clamp(0, 1)[:, None]


def test_explorer_is_a_widget_that_recomputes_on_change_and_shows_png():
    calls = []
    slider = widgets.IntSlider(value=2, min=0, max=9)
    explorer = Explorer(
        {"n": slider}, lambda n: calls.append(n) or n * n, lambda result, values: (plt.figure(), f"n={values['n']}")
    )
    assert isinstance(explorer, widgets.VBox) and explorer.result == 4 and bytes(explorer.image.value).startswith(PNG)
    slider.value = 3
    assert explorer.result == 9 and calls == [2, 3] and explorer.status.value == "n=3"
    with explorer.paused():
        slider.value = 5
    assert explorer.result == 9 and explorer.update() == 25
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/jpeg" in bundle  # still picture for GitHub


def test_bad_settings_are_shown_not_raised():
    def compute(n: int) -> int:
        if n > 5:
            raise ValueError("n must be at most 5")
        return n

    slider = widgets.IntSlider(value=1, min=0, max=9)
    explorer = Explorer({"n": slider}, compute, lambda r, v: (plt.figure(), ""))
    slider.value = 7
    assert explorer.result == 1 and "at most 5" in explorer.error and "at most 5" in explorer.status.value
    slider.value = 4
    assert explorer.result == 4 and explorer.error is None


def test_predictions_explorer_follows_image_and_k(net, images):
    inputs = {"a": images[:1], "b": images[5:6]}
    explorer = predictions_explorer(net, inputs, k=3, classes=FASHION_CLASSES)
    assert explorer.result == top_predictions(net, images[:1], 3, FASHION_CLASSES)[0]
    explorer.controls["k"].value = 7
    assert len(explorer.result) == 7 and explorer.result[:3] == top_predictions(net, images[:1], 3, FASHION_CLASSES)[0]
    explorer.controls["image"].value = "b"
    assert explorer.result == top_predictions(net, images[5:6], 7, FASHION_CLASSES)[0]


def test_checkpoint_filters_explorer_shows_the_chosen_checkpoint():
    g = torch.Generator().manual_seed(1)
    filters = {"init": torch.randn(8, 1, 7, 7, generator=g), "final": torch.randn(8, 1, 7, 7, generator=g)}
    explorer = checkpoint_filters_explorer(filters, accuracy={"init": 0.1, "final": 0.9}, value="init")
    assert torch.allclose(explorer.result, normalize_filters(filters["init"])[:, 0])
    explorer.controls["checkpoint"].value = "final"
    assert torch.allclose(explorer.result, normalize_filters(filters["final"])[:, 0])
    assert "0.900" in explorer.status.value
    explorer.controls["symmetric"].value = True
    assert torch.allclose(explorer.result, normalize_symmetric(filters["final"])[:, 0])


def test_activation_explorer_layer_changes_shape_and_image_changes_values(net, images):
    layers = ["relu1", "relu2", "relu4"]
    explorer = activation_explorer(
        net, images, layers, labels=[FASHION_CLASSES[i % 10] for i in range(24)], layer="relu1"
    )
    assert explorer.result.shape == (1, 32, 28, 28)
    assert torch.equal(explorer.result, layer_activations(net, images[:1], ["relu1"])["relu1"])
    explorer.controls["layer"].value = "relu2"
    assert explorer.result.shape == (1, 64, 14, 14)
    explorer.controls["layer"].value = "relu4"  # a vector, drawn as an 8x16 block
    assert explorer.result.shape == (1, 128)
    before = explorer.result
    explorer.controls["image"].value = 3
    assert not torch.equal(before, explorer.result)
    assert torch.equal(explorer.result, layer_activations(net, images[3:4], ["relu4"])["relu4"])


def test_activation_explorer_accepts_named_images(net, images):
    explorer = activation_explorer(net, {"x": images[:1], "y": images[1:2]}, ["relu3"])
    explorer.controls["image"].value = "y"
    assert torch.equal(explorer.result, layer_activations(net, images[1:2], ["relu3"])["relu3"])


def test_patches_explorer_follows_layer_unit_and_direction(net, images):
    layers = ["conv1", "conv2"]
    maxima = layer_maxima(net, layers, images, progress=False)
    fields = receptive_fields(net, layers, input_size=(28, 28))
    directions = {"conv2": layer_maxima(net, "conv2", images, directions=torch.randn(5, 64), progress=False)}
    explorer = patches_explorer(images, maxima, fields, directions, k=4, layer="conv1")
    assert explorer.controls["unit"].max == 31
    assert torch.equal(explorer.result.indices, maxima["conv1"].top(0, 4).indices)
    explorer.controls["unit"].value = 7
    assert torch.equal(explorer.result.values, maxima["conv1"].top(7, 4).values)
    explorer.controls["layer"].value = "conv2"
    assert explorer.controls["unit"].max == 63
    assert torch.equal(explorer.result.values, maxima["conv2"].top(7, 4).values)
    redraws = []
    explorer.image.observe(redraws.append, names="value")
    explorer.controls["direction"].value = True  # 5 directions: the unit slider shrinks, 7 -> 4
    assert explorer.controls["unit"].max == 4 and explorer.controls["unit"].value == 4
    assert len(redraws) == 1  # one redraw, not one for the clamped unit and one for the checkbox
    assert torch.equal(explorer.result.values, directions["conv2"].top(4, 4).values)
    explorer.controls["layer"].value = "conv1"  # no directions there: said, not raised
    assert "no random directions" in explorer.error


def test_neighbours_explorer_matches_nearest_neighbours(images):
    database = SimpleNamespace(images=images[:16], labels=torch.arange(16) % 3)
    queries = SimpleNamespace(images=images[16:], labels=torch.arange(8) % 3)
    db_codes, q_codes = database.images.flatten(1)[:, ::7] ** 2, queries.images.flatten(1)[:, ::7] ** 2
    explorer = neighbours_explorer(database, queries, db_codes, q_codes, ["a", "b", "c"], k=4)
    assert torch.equal(explorer.result["pixels"], nearest_neighbours(database.images, queries.images[:1], 4)[0][0])
    explorer.controls["query"].value = 5
    explorer.controls["k"].value = 6
    assert torch.equal(explorer.result["codes"], nearest_neighbours(db_codes, q_codes[5:6], 6)[0][0])
    assert torch.equal(explorer.result["pixels"], nearest_neighbours(database.images, queries.images[5:6], 6)[0][0])


def test_tsne_explorer_waits_for_run(images):
    codes, labels = images.flatten(1)[:, ::4], torch.arange(24) % 3
    explorer = tsne_explorer(codes, labels, ["a", "b", "c"], perplexities=[3, 10], value=3)
    first = explorer.result
    assert first.shape == (24, 2)
    explorer.controls["perplexity"].value = 10
    assert explorer.result is first and "press Run" in explorer.status.value  # slow: nothing until Run
    explorer.button.click()
    assert np.allclose(explorer.result, tsne_map(codes, 10, seed=0)) and not np.allclose(explorer.result, first)


def test_occlusion_explorer_matches_a_direct_call(net, images):
    x, target = images[2:3], 4
    explorer = occlusion_explorer(
        net,
        x,
        target,
        fills={"zero": 0.0, "gray": 0.5},
        classes=FASHION_CLASSES,
        window=4,
        stride=2,
        window_range=(2, 14, 1),
        stride_range=(1, 7, 1),
    )
    small = explorer.result
    assert small.shape == (28, 28)
    assert torch.allclose(small, occlusion(net, x, target, 4, 2, progress=False, output="probability")[0, 0])
    explorer.controls["window"].value = 10
    assert explorer.result is small  # Run not pressed yet
    explorer.button.click()
    big = explorer.result
    assert torch.allclose(big, occlusion(net, x, target, 10, 2, progress=False, output="probability")[0, 0])
    assert not torch.allclose(big, small)
    explorer.controls["fill"].value = "gray"
    explorer.controls["stride"].value = 7
    explorer.button.click()
    assert torch.allclose(
        explorer.result, occlusion(net, x, target, 10, 7, baseline=0.5, progress=False, output="probability")[0, 0]
    )
    assert "fill gray" in explorer.status.value


def test_occlusion_explorer_cuts_the_stride_to_the_window(net, images):
    explorer = occlusion_explorer(
        net, images[:1], 0, window=3, stride=6, window_range=(2, 14, 1), stride_range=(1, 7, 1), output="attribution"
    )
    assert torch.allclose(explorer.result, occlusion(net, images[:1], 0, 3, 3, progress=False)[0, 0])


def test_saliency_explorer_follows_image_method_and_rank(net, images):
    methods = {
        "gradient": A.gradient,
        "guided backprop": A.guided_backprop,
        "Grad-CAM": lambda m, x, t: A.grad_cam(m, x, t, "relu3"),
    }
    inputs = {"a": images[:1], "b": images[7:8]}
    explorer = saliency_explorer(net, inputs, methods, classes=FASHION_CLASSES)
    top2 = net(images[:1]).topk(2).indices[0].tolist()
    assert explorer.result.target == top2[0]
    assert torch.allclose(explorer.result.attribution, A.gradient(net, images[:1], top2[0]))
    explorer.controls["rank"].value = 2
    assert explorer.result.target == top2[1]
    assert torch.allclose(explorer.result.attribution, A.gradient(net, images[:1], top2[1]))
    explorer.controls["method"].value = "Grad-CAM"
    assert explorer.result.attribution.shape == (1, 7, 7)
    explorer.controls["image"].value = "b"
    target = int(net(images[7:8]).topk(2).indices[0, 1])
    assert torch.allclose(explorer.result.attribution, A.grad_cam(net, images[7:8], target, "relu3"))
    assert bytes(explorer.image.value).startswith(PNG)


# --------------------------------------------------------------------------- 07, 11, 12
def tiny_rgb_net() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    ).eval()
    return model


def test_class_visualization_explorer_runs_the_chosen_recipe_with_previews():
    from course_utils import optim
    from course_utils.widgets import class_visualization_explorer

    model = tiny_rgb_net()
    explorer = class_visualization_explorer(model, ["cat", "dog", "car"], size=16, steps=10, preview_every=2)
    previews = []
    explorer.image.observe(lambda change: previews.append(change["new"]), names="value")
    explorer.controls["class"].value = "dog"
    assert "press Run" in explorer.status.value  # slow: nothing recomputed yet
    explorer.button.click()
    expected = optim.class_visualization(
        model, 1, steps=10, size=16, fourier=True, transforms=optim.standard_transforms(16), progress=False
    )
    assert torch.equal(explorer.result, expected)
    assert len(previews) >= 5 and all(bytes(p[:4]) == PNG for p in previews)  # 5 live previews + the final picture
    explorer.controls["fourier"].value = False
    explorer.controls["tv"].value = 10.0
    explorer.button.click()
    pixels = optim.class_visualization(
        model, 1, steps=10, size=16, tv_weight=10.0, l2_weight=100, blur_sigma=0.7, jitter_px=1, progress=False
    )
    assert torch.allclose(explorer.result, pixels)
    assert "dog: p = " in explorer.status.value


def test_fgsm_explorer_shows_fgsm_for_the_chosen_eps(net):
    from course_utils import adversarial
    from course_utils.widgets import fgsm_explorer

    torch.manual_seed(1)
    images, labels = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    explorer = fgsm_explorer(net, images, labels, FASHION_CLASSES, eps=0.0)
    assert torch.equal(explorer.result[1], images[:1])  # ε = 0 changes nothing
    explorer.controls["index"].value = 2
    explorer.controls["eps"].value = 0.2
    clean, adv, probs = explorer.result
    assert torch.equal(adv, adversarial.fgsm(net, images[2:3], labels[2:3], 0.2))
    assert (adv - clean).abs().max() <= 0.2 + 1e-6 and probs.shape == (2, 10)
    assert "true class: Pullover" in explorer.status.value


def test_loss_slice_explorer_slices_around_the_chosen_solution():
    from course_utils import landscape
    from course_utils.widgets import loss_slice_explorer

    torch.manual_seed(0)
    models = {w: landscape.mlp(w, in_features=16, classes=3) for w in (2, 4)}
    solutions = lambda width, seed: landscape.params_of(models[width])  # noqa: E731
    x, y = torch.rand(12, 1, 4, 4), torch.randint(0, 3, (12,))
    explorer = loss_slice_explorer(models, solutions, x, y, seeds=[0, 1], n=5)
    explorer.controls["width"].value = 2
    explorer.controls["span"].value = 0.5
    coords, grid = explorer.result
    ref_coords, ref_grid = landscape.loss_slice(models[2], solutions(2, 0), x, y, span=0.5, n=5, seed=0, progress=False)
    assert torch.equal(coords, ref_coords) and torch.allclose(grid, ref_grid)
    with torch.no_grad():
        centre = torch.nn.functional.cross_entropy(models[2](x), y)
    assert float(grid[2, 2]) == pytest.approx(float(centre), rel=1e-5)  # the middle of the slice is the solution


def test_inversion_explorer_rebuilds_from_the_chosen_layer():
    from course_utils import optim
    from course_utils.widgets import inversion_explorer

    model = tiny_rgb_net()
    photo = torch.rand(1, 3, 12, 12)
    explorer = inversion_explorer(model, photo, ["0", "1"], tv_weight=1.0, steps=8)
    explorer.controls["layer"].value = "1"
    explorer.controls["tv_weight"].value = 10.0
    explorer.button.click()
    expected = optim.invert_features(model, "1", photo, steps=8, tv_weight=10.0, lr=0.05, progress=False)
    assert torch.equal(explorer.result, expected)
    assert "from 1, λ_TV = 10" in explorer.status.value


def test_deepdream_explorer_uses_the_chosen_settings():
    from course_utils import optim
    from course_utils.widgets import deepdream_explorer

    model = tiny_rgb_net()
    photo = torch.rand(1, 3, 24, 24) * 0.5 + 0.25
    explorer = deepdream_explorer(model, photo, ["0", "1"], steps_per_octave=2, octaves=1, jitter_px=2)
    with explorer.paused():
        explorer.controls["layer"].value = "1"
        explorer.controls["octaves"].value = 2
    explorer.button.click()
    expected = optim.deep_dream(
        model, photo, "1", octaves=2, steps_per_octave=2, step_size=0.012, jitter_px=2, progress=False
    )
    assert torch.equal(explorer.result, expected)
    assert explorer.result.shape == photo.shape and "‖a‖² ×" in explorer.status.value


def test_style_explorer_runs_style_transfer_with_the_chosen_settings():
    from course_utils import optim
    from course_utils.widgets import style_explorer

    model = tiny_rgb_net()
    photo = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    styles = {
        "stripes": torch.arange(12.0).remainder(2).expand(1, 3, 12, 12).clone(),
        "flat": torch.full((1, 3, 12, 12), 0.3),
    }
    explorer = style_explorer(model, photo, styles, "1", ["0", "1"], steps=5)
    with explorer.paused():
        explorer.controls["style"].value = "stripes"
        explorer.controls["ratio"].value = 0.01
        explorer.controls["layers"].value = ("0",)
    explorer.button.click()
    expected = optim.style_transfer(
        model, photo, styles["stripes"], "1", ["0"], content_weight=10.0, style_weight=1e3, steps=5, progress=False
    ).image
    assert torch.allclose(explorer.result, expected)
    assert explorer.result.shape == photo.shape
    # the style moved towards the stripes' Gram matrix, and the caption says by how much
    stripes = styles["stripes"]
    assert optim.gram_error(model, explorer.result, stripes, ["0"]) < optim.gram_error(model, photo, stripes, ["0"])
    assert "stripes, α/β = 0.01" in explorer.status.value
    explorer.controls["layers"].value = ()
    explorer.button.click()
    assert "no style layer selected" in explorer.error


def test_style_explorer_accepts_named_layer_sets():
    from course_utils.widgets import style_explorer

    model = tiny_rgb_net()
    photo = torch.rand(1, 3, 8, 8)
    layer_sets = {"early": ["0"], "both": ["0", "1"]}
    explorer = style_explorer(model, photo, {"noise": torch.rand(1, 3, 8, 8)}, "1", layer_sets, steps=2)
    assert isinstance(explorer.controls["layers"], widgets.Dropdown)
    explorer.controls["layers"].value = "both"
    explorer.button.click()
    assert explorer.error is None and "2 style layers" in explorer.status.value


# --------------------------------------------------------------------------- the package and the core helpers
def test_package_reexports_every_public_name_of_its_modules():
    for module in (W.explorer, W.features, W.attribution, W.optimization, W.robustness):
        for name in module.__all__:
            assert name in W.__all__ and getattr(W, name) is getattr(module, name), f"{module.__name__}.{name}"
    assert all(hasattr(W, name) for name in W.__all__)


def test_every_name_a_notebook_imports_from_widgets_exists():
    imported = set()
    for source in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        pattern = r"from course_utils\.widgets import (?:\(([^)]*)\)|([\w, ]+))"  # (a, b) over lines, or a, b
        for group in re.findall(pattern, source.read_text()):
            imported |= {name.strip() for name in ",".join(group).split(",") if name.strip()}
    assert imported, "no notebook imports from course_utils.widgets: the pattern above is out of date"
    assert not [name for name in imported if not hasattr(W, name)]


@pytest.mark.parametrize("channels", [1, 3])
def test_pixels_png_enlarges_with_nearest_neighbour_and_clamps(channels):
    image = torch.tensor([[0.0, 0.5], [1.0, 2.0]]).expand(1, channels, 2, 2)  # 2.0 is out of range: shown as 1
    picture = Image.open(io.BytesIO(pixels_png(image, side=8)))
    arr = np.asarray(picture)
    assert picture.size == (8, 8) and picture.mode == ("L" if channels == 1 else "RGB")
    blocks = arr if channels == 1 else arr[..., 0]
    expected = np.kron(np.array([[0, 128], [255, 255]]), np.ones((4, 4)))  # each pixel a 4x4 block, no blending
    np.testing.assert_array_equal(blocks, expected)


def mixed_model() -> FashionNet:
    """FashionNet in train mode with its dropout frozen in eval mode and one frozen parameter (as in test_modes)."""
    torch.manual_seed(0)
    model = FashionNet().train()
    model.dropout.eval()
    model.conv1.bias.requires_grad_(False)
    return model


def model_state(model: torch.nn.Module) -> tuple:
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())
    return (
        [m.training for m in model.modules()],
        [p.requires_grad for p in model.parameters()],
        hooks,
        [name for name, p in model.named_parameters() if p.grad is not None],
    )


def test_probabilities_are_eval_mode_softmax_and_leave_the_model_as_it_was(images):
    model = FashionNet().train()  # dropout on: a train-mode forward would be random
    before = model_state(model)
    probs = probabilities(model, images[:4])
    assert model_state(model) == before
    with torch.no_grad():
        expected = model.eval()(images[:4]).softmax(1)
    torch.testing.assert_close(probs, expected, rtol=1e-5, atol=1e-6)  # the same batch and path: float32 rounding
    assert probs.device.type == "cpu"


def test_explorers_leave_a_mixed_mode_model_as_they_found_it(images):
    model = mixed_model()
    before = model_state(model)
    x = images[:1]
    explorers = [
        predictions_explorer(model, {"a": x}, k=3, classes=FASHION_CLASSES),
        activation_explorer(model, {"a": x}, ["relu1", "relu4"], layer="relu4"),
        occlusion_explorer(model, x, 2, window=7, stride=7, window_range=(7, 14, 7), stride_range=(7, 14, 7)),
        saliency_explorer(model, {"a": x}, {"gradient": A.gradient}),
        W.fgsm_explorer(model, images[:2], torch.tensor([0, 1]), FASHION_CLASSES, eps=0.1),
    ]
    assert all(e.error is None for e in explorers) and model_state(model) == before
    reference = mixed_model().eval()  # the same weights, all in eval mode: what every explorer must have used
    assert explorers[0].result == top_predictions(reference, x, 3, FASHION_CLASSES)[0]
    torch.testing.assert_close(explorers[1].result, layer_activations(reference, x, ["relu4"])["relu4"])


def test_explorers_compute_in_eval_mode_and_restore_train_mode(images):
    torch.manual_seed(0)
    model = FashionNet().train()  # dropout on: a train-mode forward would give other probabilities each time
    x = {"a": images[:1]}
    torch.manual_seed(1)
    with torch.no_grad():
        noisy = model(x["a"]).softmax(1)[0]  # a plain train-mode forward, dropout on
    shown = predictions_explorer(model, x, k=10, classes=FASHION_CLASSES).result
    assert model.training and model.dropout.training
    expected = top_predictions(model, x["a"], 10, FASHION_CLASSES)[0]  # top_predictions runs in eval mode itself
    eval_probs = torch.tensor([p for _, p in sorted(expected, key=lambda kv: FASHION_CLASSES.index(kv[0]))])
    assert not torch.allclose(noisy, eval_probs, atol=1e-4)  # the guard: dropout really changes the answer
    assert [name for name, _ in shown] == [name for name, _ in expected]
    torch.testing.assert_close([p for _, p in shown], [p for _, p in expected], rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- compute helpers the explorers use
def test_layer_activations_are_one_pass_of_capture_activations_on_the_cpu(net, images):
    acts = layer_activations(net, images[:3], ["relu1", "fc2"])
    with torch.no_grad(), capture_activations(net, ["relu1", "fc2"]) as expected:
        net(images[:3])
    assert list(acts) == ["relu1", "fc2"] and all(a.device.type == "cpu" and not a.requires_grad for a in acts.values())
    for name in acts:
        torch.testing.assert_close(acts[name], expected[name], rtol=0, atol=0)  # the same batch, the same pass
    assert list(layer_activations(net, images[:1], "relu2")) == ["relu2"]  # one name as a string


def test_tsne_map_is_reproducible_and_checks_the_perplexity(images):
    codes = images.flatten(1)[:, ::4]
    xy = tsne_map(codes, perplexity=5, seed=0)
    assert xy.shape == (24, 2) and np.isfinite(xy).all()
    np.testing.assert_allclose(tsne_map(codes.numpy(), perplexity=5, seed=0), xy, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="perplexity"):
        tsne_map(codes, perplexity=24)
