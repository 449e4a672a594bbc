"""Plotting: every helper returns a Figure with the expected panels, accepts tensors, arrays
and PIL images, and leaves showing to the notebook (plt.show is never called)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from course_utils.plotting import (  # noqa: E402
    as_array,
    class_scatter,
    feature_maps,
    heatmap_overlay,
    image_and_heatmap,
    image_grid,
    images_with_predictions,
    loss_contour,
    prediction_bars,
    prediction_comparison,
)


@pytest.fixture(autouse=True)
def no_show_and_close(monkeypatch):
    """Fail any test whose helper calls plt.show(); close every figure afterwards."""

    def forbidden(*args, **kwargs):
        raise AssertionError("plotting helpers must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)
    yield
    plt.close("all")


def image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


# --------------------------------------------------------------------------- as_array
def test_as_array_of_pil_image_is_its_pixels():
    img = Image.new("RGB", (5, 4), (1, 2, 3))
    arr = as_array(img)
    assert arr.shape == (4, 5, 3) and tuple(arr[0, 0]) == (1, 2, 3)


def test_as_array_moves_tensor_channels_last():
    t = torch.arange(3 * 4 * 5, dtype=torch.float32).view(3, 4, 5)
    np.testing.assert_array_equal(as_array(t), t.permute(1, 2, 0).numpy())
    np.testing.assert_array_equal(as_array(t[None]), t.permute(1, 2, 0).numpy())  # (1,3,H,W)
    np.testing.assert_array_equal(as_array(t[:1]), t[0].numpy())  # (1,H,W) -> (H,W)


def test_as_array_detaches_tensors_that_require_grad():
    t = torch.zeros(3, 2, 2, requires_grad=True)
    assert as_array(t).shape == (2, 2, 3)


def test_as_array_squeezes_single_channel_arrays():
    arr = np.zeros((4, 5, 1))
    assert as_array(arr).shape == (4, 5)
    assert as_array(np.zeros((4, 5))).shape == (4, 5)


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((2, 3, 4, 5)), torch.zeros(2, 3, 4, 4)])
def test_as_array_rejects_non_images(bad):
    with pytest.raises(ValueError, match="shape"):
        as_array(bad)


# --------------------------------------------------------------------------- image_grid
def test_image_grid_has_one_titled_panel_per_image_of_any_kind():
    images = [
        torch.rand(3, 8, 8),
        np.random.default_rng(0).random((8, 8)),
        Image.new("RGB", (8, 8), (255, 0, 0)),
        torch.rand(1, 8, 8),
        np.zeros((8, 8, 3), dtype=np.uint8),
    ]
    titles = ["a", "b", "c", "d", "e"]
    fig = image_grid(images, titles, ncols=3, suptitle="grid")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 6  # 2 rows x 3 columns
    shown = image_axes(fig)
    assert len(shown) == 5 and all(len(ax.images) == 1 for ax in shown)
    assert [ax.get_title() for ax in shown] == titles
    assert fig.get_suptitle() == "grid"
    assert shown[1].images[0].get_cmap().name == "gray"  # 2-D images use cmap
    np.testing.assert_array_equal(shown[2].images[0].get_array(), np.asarray(images[2]))
    fig.canvas.draw()  # renders without error


def test_image_grid_default_columns_is_at_most_eight():
    fig = image_grid([np.zeros((4, 4))] * 10)
    assert len(fig.axes) == 16 and len(image_axes(fig)) == 10


def test_image_grid_normalize_each_stretches_each_panel_to_zero_one():
    fig = image_grid([np.array([[2.0, 4.0], [6.0, 10.0]]), np.full((2, 2), 3.0)], normalize_each=True)
    stretched, flat = [ax.images[0] for ax in image_axes(fig)]
    np.testing.assert_allclose(stretched.get_array(), [[0.0, 0.25], [0.5, 1.0]])
    np.testing.assert_allclose(flat.get_array(), np.zeros((2, 2)))  # constant image: no division by zero
    assert stretched.get_clim() == (0, 1)


def test_image_grid_accepts_a_batch_tensor():
    fig = image_grid(torch.rand(4, 3, 6, 6))
    assert len(image_axes(fig)) == 4
    assert image_axes(fig)[0].images[0].get_array().shape == (6, 6, 3)


def test_image_grid_needs_at_least_one_image():
    with pytest.raises(ValueError):
        image_grid([])


# --------------------------------------------------------------------------- feature_maps
def test_feature_maps_shows_first_n_channels_each_normalized():
    act = torch.randn(1, 20, 5, 5)
    fig = feature_maps(act, n=16, ncols=8, title="conv1")
    panels = image_axes(fig)
    assert len(panels) == 16 and len(fig.axes) == 16
    assert fig.get_suptitle() == "conv1"
    for c, ax in enumerate(panels):
        data = np.asarray(ax.images[0].get_array())
        assert data.min() == pytest.approx(0) and data.max() == pytest.approx(1)
        assert ax.get_title().startswith(f"ch {c} ") and f"{act[0, c].max():.2f}" in ax.get_title()


def test_feature_maps_with_fewer_channels_than_n():
    fig = feature_maps(torch.rand(3, 4, 4), n=16)
    assert len(image_axes(fig)) == 3 and len(fig.axes) == 3


def test_feature_maps_rejects_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        feature_maps(torch.rand(4, 4))  # 4 vectors, not one


def test_feature_maps_shows_a_code_vector_as_one_block_of_its_numbers():
    code = torch.arange(128.0)[None]  # (1, D) from a fully connected layer
    fig = feature_maps(code, title="relu4")
    (panel,) = image_axes(fig)
    block = np.asarray(panel.images[0].get_array())
    assert block.shape == (8, 16) and fig.get_suptitle() == "relu4"  # 16 numbers per row, in order
    np.testing.assert_allclose(block.ravel(), np.linspace(0, 1, 128), atol=1e-6)
    assert "128 values" in panel.get_title()


# --------------------------------------------------------------------------- heatmap_overlay
@pytest.mark.parametrize(
    "image",
    [
        torch.rand(1, 3, 32, 48),
        np.zeros((32, 48, 3), dtype=np.uint8),
        Image.new("RGB", (48, 32)),
    ],
)
def test_heatmap_overlay_upsamples_heatmap_onto_the_image(image):
    heat = torch.arange(24, dtype=torch.float32).view(1, 1, 4, 6)
    fig = heatmap_overlay(image, heat, title="where", label="importance")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.images) == 2
    shown_heat = np.asarray(ax.images[1].get_array())
    assert shown_heat.shape == (32, 48)
    assert shown_heat[0, 0] < shown_heat[-1, -1]  # orientation kept: small values top left
    assert ax.get_title() == "where"
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "importance"  # the colorbar
    fig.canvas.draw()


def test_heatmap_overlay_draws_into_a_given_axes_without_colorbar():
    fig, (left, right) = plt.subplots(1, 2)
    out = heatmap_overlay(np.zeros((8, 8)), np.ones((8, 8)), ax=right, colorbar=False)
    assert out is fig
    assert len(right.images) == 2 and not left.images
    assert len(fig.axes) == 2
    assert right.images[0].get_cmap().name == "gray"  # gray image under the heatmap


def test_heatmap_overlay_rejects_non_2d_heatmap():
    with pytest.raises(ValueError, match="2-D"):
        heatmap_overlay(np.zeros((8, 8, 3)), np.zeros((2, 4, 4)))


# --------------------------------------------------------------------------- predictions
PREDS = [("tabby", 0.7), ("tiger cat", 0.2), ("lynx", 0.05)]


def test_prediction_bars_one_bar_per_class_most_probable_on_top():
    fig = prediction_bars(PREDS, title="top-3")
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 3
    by_height = sorted(bars, key=lambda bar: bar.get_y(), reverse=True)  # top of the chart first
    assert [bar.get_width() for bar in by_height] == pytest.approx([0.7, 0.2, 0.05])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[::-1] == ["tabby", "tiger cat", "lynx"]  # tick labels run bottom to top
    assert ax.get_xlim() == (0, 1) and ax.get_title() == "top-3"
    assert {t.get_text() for t in ax.texts} == {"0.70", "0.20", "0.05"}


def test_images_with_predictions_shows_one_channel_images_in_gray():
    fig = images_with_predictions([np.random.default_rng(0).random((8, 8))], [PREDS])
    (top,) = [ax for ax in fig.axes if ax.images]
    assert top.images[0].get_cmap().name == "gray"


def test_images_with_predictions_puts_bars_under_each_image():
    images = [torch.rand(3, 8, 8), Image.new("RGB", (8, 8))]
    fig = images_with_predictions(images, [PREDS, PREDS[:2]], titles=["cat", "dog"])
    assert len(fig.axes) == 4
    top = [ax for ax in fig.axes if ax.images]
    bottom = [ax for ax in fig.axes if ax.patches]
    assert [ax.get_title() for ax in top] == ["cat", "dog"]
    assert [len(ax.patches) for ax in bottom] == [3, 2]
    fig.canvas.draw()


def test_image_grid_title_colors_colour_each_title():
    fig = image_grid([np.zeros((2, 2))] * 2, titles=["right", "wrong"], title_colors=["green", "red"])
    colours = [ax.title.get_color() for ax in image_axes(fig)]
    assert colours == ["green", "red"]


# --------------------------------------------------------------------------- figures the explorers draw
def test_image_and_heatmap_shows_the_image_then_the_overlay_with_a_colorbar():
    image, heat = np.zeros((16, 16, 3)), torch.arange(16.0).view(4, 4)
    fig = image_and_heatmap(image, heat, image_title="photo", heatmap_title="gradient", label="importance")
    left, right = image_axes(fig)
    assert len(left.images) == 1 and len(right.images) == 2  # the image; the image with the heatmap on top
    assert (left.get_title(), right.get_title()) == ("photo", "gradient")
    assert np.asarray(right.images[1].get_array()).shape == (16, 16)  # upsampled to the image
    assert [ax.get_ylabel() for ax in fig.axes if not ax.images] == ["importance"]
    fig.canvas.draw()


def test_prediction_comparison_pairs_bars_per_class_on_a_fixed_pixel_scale():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    gray = np.full((6, 6), 0.25)
    fig = prediction_comparison([gray, gray], probs, ["a", "b", "c"], ["clean: a", "FGSM: c"], ["clean", "adversarial"])
    clean, adv = image_axes(fig)
    assert [clean.get_title(), adv.get_title()] == ["clean: a", "FGSM: c"]
    assert clean.images[0].get_clim() == (0, 1)  # a flat 0.25 image stays dark gray, not stretched to white
    (bars,) = [ax for ax in fig.axes if ax.patches]
    widths = sorted(round(bar.get_width(), 6) for bar in bars.patches)
    assert widths == sorted(round(float(p), 6) for p in probs.flatten())
    assert [t.get_text() for t in bars.get_legend().get_texts()] == ["clean", "adversarial"]
    with pytest.raises(ValueError, match="probabilities"):
        prediction_comparison([gray, gray], probs[:, :2], ["a", "b", "c"], ["x", "y"], ["clean", "adversarial"])


def test_loss_contour_marks_the_centre_and_labels_the_colorbar():
    coords = torch.linspace(-1, 1, 5)
    grid = coords[:, None] ** 2 + coords[None, :] ** 2
    fig = loss_contour(coords, grid, title="width 4", label="test cross-entropy")
    ax = fig.axes[0]
    (marker,) = ax.lines
    assert list(marker.get_xdata()) == [0] and list(marker.get_ydata()) == [0]
    assert ax.get_title() == "width 4" and fig.axes[1].get_ylabel() == "test cross-entropy"
    with pytest.raises(ValueError, match="grid"):
        loss_contour(coords, grid[:4])


# --------------------------------------------------------------------------- bad calls: clear errors, no open figure
GRAY = np.zeros((4, 4))
BAD_PLOTS = [
    ("a 4-D array", lambda: image_grid([np.zeros((2, 2, 3, 3))]), ValueError, r"shape \(2, 2, 3, 3\).*list\(batch\)"),
    ("None", lambda: image_grid([GRAY, None]), ValueError, r"cannot show a NoneType"),
    ("strings", lambda: image_grid([np.array([["a", "b"]])]), ValueError, r"dtype <U1"),
    ("2 channels last", lambda: image_grid([np.zeros((4, 4, 2))]), ValueError, r"shape \(4, 4, 2\)"),
    ("titles as a str", lambda: image_grid([GRAY, GRAY], titles="ab"), ValueError, r"titles must be a list"),
    ("more titles", lambda: image_grid([GRAY], titles=["a", "b"]), ValueError, r"at most one title per image \(1\)"),
    ("short colours", lambda: image_grid([GRAY] * 2, ["a", "b"], title_colors=["red"]), ValueError, r"one colour per"),
    ("ncols 0", lambda: image_grid([GRAY] * 2, ncols=0), ValueError, r"ncols must be a positive int"),
    ("ncols -1", lambda: image_grid([GRAY] * 2, ncols=-1), ValueError, r"ncols must be a positive int"),
    ("ncols 1.5", lambda: image_grid([GRAY] * 2, ncols=1.5), ValueError, r"ncols must be a positive int"),
    ("cell 0", lambda: image_grid([GRAY], cell=0), ValueError, r"cell must be a panel size"),
    ("cell NaN", lambda: image_grid([GRAY], cell=float("nan")), ValueError, r"cell must be a panel size"),
    ("unknown cmap", lambda: image_grid([GRAY], cmap="viridiss"), ValueError, r"viridiss"),
    ("overlay cmap", lambda: heatmap_overlay(GRAY, GRAY, cmap="jett"), ValueError, r"jett"),
    ("3-D heatmap", lambda: image_and_heatmap(GRAY, np.zeros((2, 4, 4))), ValueError, r"heatmap must be 2-D"),
    ("predictions short", lambda: images_with_predictions([GRAY] * 2, [[("a", 0.5)]]), ValueError, r"2 images, 1 pred"),
    ("not pairs", lambda: prediction_bars([0.5, 0.2]), ValueError, r"\(class name, probability\) pairs"),
    ("scatter labels", lambda: class_scatter(np.zeros((5, 2)), [0, 1], ["a", "b"]), ValueError, r"labels \(N,\)"),
    ("all-NaN loss", lambda: loss_contour([0, 1], np.full((2, 2), np.nan)), ValueError, r"no finite value"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_PLOTS], ids=[c[0] for c in BAD_PLOTS])
def test_bad_plot_calls_raise_a_clear_error_and_leave_no_figure_open(call, error, message):
    plt.close("all")
    with pytest.raises(error, match=message):
        call()
    assert plt.get_fignums() == [], "the helper left a half-drawn figure open"


def test_a_helper_drawing_into_a_given_axes_leaves_the_callers_figure_open_on_error():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="jett"):
        heatmap_overlay(GRAY, GRAY, ax=ax, cmap="jett")
    assert plt.get_fignums() == [fig.number]  # the caller's figure: theirs to close


def test_image_grid_accepts_any_iterable_of_images():
    fig = image_grid(iter([GRAY, np.ones((4, 4))]), titles=["zeros", "ones"])
    assert [ax.get_title() for ax in image_axes(fig)] == ["zeros", "ones"]
