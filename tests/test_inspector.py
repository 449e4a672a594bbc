"""The network inspector: one pass shows the maps, weights, probabilities and gradients; strokes change them."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import attribution as A
from course_utils.hooks import capture_activations
from course_utils.inspection import inspect_network, map_layers, producing_conv
from course_utils.models import load_model
from course_utils.widgets import network_inspector


@pytest.fixture(scope="module")
def fashionnet():
    return load_model("fashionnet")


def hooks_on(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_fashionnet_layers_and_the_convolution_behind_each():
    model = load_model("fashionnet")
    x = torch.zeros(1, 1, 28, 28)
    assert map_layers(model, x) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "pool3"]
    assert producing_conv(model, "relu2", 64)[0] == "conv2"
    assert producing_conv(model, "pool3", 128)[0] == "conv3"


def test_one_pass_gives_the_same_numbers_as_the_course_functions(fashionnet):
    from course_utils.data import fashion_mnist

    x = fashion_mnist("test").images[3:4]
    r = inspect_network(fashionnet, x, "relu2", channel=5, target=2)
    with torch.no_grad():
        p = fashionnet.eval()(x).softmax(1)[0]
    with capture_activations(fashionnet, "relu2") as acts:
        fashionnet(x)
    torch.testing.assert_close(r.probabilities, p, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(r.activations, acts["relu2"][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(r.input_gradient, A.gradient(fashionnet, x, 2)[0], rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(r.weights, fashionnet.conv2.weight[5].detach())
    assert r.weights_from == "conv2" and r.target == 2 and hooks_on(fashionnet) == 0


def test_layer_gradient_matches_a_finite_difference_of_the_class_score(fashionnet):
    from course_utils.hooks import hooked

    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    r = inspect_network(fashionnet, x, "relu3", channel=0, target=7)
    c, i, j = np.unravel_index(int(r.layer_gradient.abs().argmax()), tuple(r.layer_gradient.shape))
    delta = 1e-3

    def nudge(_module, _inputs, output):
        output = output.clone()
        output[0, c, i, j] += delta
        return output

    with torch.no_grad():
        base = float(fashionnet(x)[0, 7])
        with hooked([(fashionnet.relu3, nudge)]):
            nudged = float(fashionnet(x)[0, 7])
    assert (nudged - base) / delta == pytest.approx(float(r.layer_gradient[c, i, j]), rel=1e-2)


def test_a_stroke_on_the_blank_image_changes_the_input_the_maps_and_the_probabilities(fashionnet):
    inspector = network_inspector(fashionnet, layer="relu1")
    before = inspector.select_image("blank")
    after = inspector.draw_stroke([(60, 60), (140, 200), (220, 60)])  # a V across the 280 px canvas
    assert float(before.pixels.abs().sum()) == 0 and float(after.pixels.sum()) > 20
    assert float((after.activations - before.activations).abs().max()) > 0.1
    assert float((after.probabilities - before.probabilities).abs().max()) > 0.01
    assert inspector.pictures["maps"].value and inspector.bars.value.count("<div") == 5
    assert inspector.error is None and hooks_on(fashionnet) == 0


def test_changing_layer_and_channel_recomputes_and_caps_the_channel(fashionnet):
    inspector = network_inspector(fashionnet, layer="relu1")
    inspector.controls["channel"].value = 31
    inspector.controls["layer"].value = "relu3"
    assert inspector.result.layer == "relu3" and inspector.controls["channel"].max == 127
    assert inspector.result.activations.shape == (128, 7, 7)
    inspector.controls["target"].value = 9
    assert inspector.result.target == 9


def test_an_error_is_shown_in_red_and_keeps_the_last_good_result(fashionnet, monkeypatch):
    import course_utils.widgets.inspector as module

    inspector = network_inspector(fashionnet)
    good = inspector.result

    def broken(*args, **kwargs):
        raise RuntimeError("the model exploded")

    monkeypatch.setattr(module, "inspect_network", broken)
    inspector.update()
    assert inspector.result is good and inspector.error == "RuntimeError: the model exploded"
    assert "color:#b00020" in inspector.status.value


def test_an_uploaded_photo_with_a_white_background_becomes_a_bright_object_on_black(fashionnet):
    inspector = network_inspector(fashionnet)
    photo = np.full((120, 90, 3), 250, np.uint8)
    photo[30:90, 20:70] = 40  # a dark object on white
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="png")
    inspector._uploaded({"new": ({"name": "my_shoe.png", "content": memoryview(buffer.getvalue())},)})
    assert inspector.controls["image"].value == "my_shoe.png"
    x = inspector.result.pixels[0]
    assert float(x[14, 14]) > 0.6 and float(x[1, 1]) < 0.1  # the object bright, the background black
    inspector._uploaded({"new": ({"name": "not_an_image.png", "content": memoryview(b"hello")},)})
    assert inspector.error is not None and inspector.controls["image"].value == "my_shoe.png"


def test_efficientnet_blocks_show_the_weights_of_their_last_convolution():
    model = load_model("efficientnet_lite0")
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    inspector = network_inspector(model, images={"noise": x}, layer="blocks.3", size=64)
    r = inspector.result
    assert r.weights_from == "blocks.3.2.conv_pwl" and r.weights.shape == (480, 1, 1)
    assert r.activations.shape[0] == 80 and inspector.pictures["weights"].value
    strokes = inspector.draw_stroke([(10, 10), (270, 270)])  # black ink across the photo
    assert float((strokes.pixels - r.pixels).abs().max()) > 0.5


def test_bad_input_is_refused_with_the_fix(fashionnet):
    with pytest.raises(ValueError, match=r"must be \(1,1,H,W\)"):
        network_inspector(fashionnet, images={"rgb": torch.zeros(1, 3, 28, 28)})
    with pytest.raises(ValueError, match="no maps to show; pick one of"):
        network_inspector(fashionnet, layer="fc1")
    with pytest.raises(ValueError, match="one image"):
        inspect_network(fashionnet, torch.zeros(2, 1, 28, 28), "relu1")
    with pytest.raises(ValueError, match=r"channel must be an int in 0\.\.31"):
        inspect_network(fashionnet, torch.zeros(1, 1, 28, 28), "relu1", channel=32)
    with pytest.raises(ValueError, match="did you mean"):
        inspect_network(fashionnet, torch.zeros(1, 1, 28, 28), "relu_1")


def test_the_image_dropdown_follows_select_image(fashionnet):
    inspector = network_inspector(fashionnet)
    inspector.select_image("blank")
    assert inspector.controls["image"].value == "blank" and float(inspector.result.pixels.sum()) == 0
    inspector.controls["image"].value = "test image: Bag"
    assert float(inspector.result.pixels.sum()) > 0


def test_without_a_kernel_the_notebook_shows_a_still_of_every_picture(fashionnet):
    inspector = network_inspector(fashionnet, layer="relu2")
    bundle = inspector._repr_mimebundle_()
    assert "image/jpeg" in bundle and "relu2" in bundle["text/plain"]
    still = inspector.still(height=100)
    assert still.height == 100 and still.width > 6 * 100
