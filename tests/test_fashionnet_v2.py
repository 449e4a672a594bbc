"""FashionNet v2 and its robust twin: no border response, no dead units, the accuracies, PGD robustness."""

import pytest
import torch

from course_utils import data
from course_utils.adversarial import pgd
from course_utils.data import fashion_mnist
from course_utils.hooks import capture_activations
from course_utils.models import FashionNet, fashionnet_checkpoints, load_model
from course_utils.train import evaluate, fit, pgd_adversary

RELUS = ("relu1", "relu2", "relu3", "relu4")


@pytest.fixture(scope="module")
def test_set():
    return fashion_mnist("test")


def _dead_units(model, images) -> dict[str, int]:
    """Units of each ReLU layer that are zero on every image (and position)."""
    with torch.no_grad(), capture_activations(model, list(RELUS)) as acts:
        model(images)
        return {name: int((a.amax(dim=(0, 2, 3) if a.dim() == 4 else 0) == 0).sum()) for name, a in acts.items()}


@pytest.mark.parametrize("variant", ["fashionnet", "fashionnet_robust", "fresh"])
def test_a_blank_image_gives_spatially_constant_maps_in_every_conv_layer(variant):
    """Replicate padding: no layer can tell the border of a blank image from its middle."""
    model = FashionNet().eval() if variant == "fresh" else load_model(variant, device="cpu")
    for blank in (torch.zeros(1, 1, 28, 28), torch.full((1, 1, 28, 28), 0.7)):
        with torch.no_grad(), capture_activations(model, ["conv1", "conv2", "conv3"]) as acts:
            model(blank)
            for name, a in acts.items():
                spread = (a.amax(dim=(2, 3)) - a.amin(dim=(2, 3))).abs().max().item()
                assert spread < 1e-5, f"{name} varies by {spread} across a blank image"


def test_zero_padding_would_respond_at_the_border():
    """The check above can fail: the same weights with zero padding light up a frame on a blank image."""
    model = load_model("fashionnet", device="cpu")
    model.conv1.padding_mode = "zeros"
    with torch.no_grad(), capture_activations(model, ["conv1"]) as acts:
        model(torch.zeros(1, 1, 28, 28))
        a = acts["conv1"][0]
    assert (a.amax(dim=(1, 2)) - a.amin(dim=(1, 2))).max() > 0.1


def test_centred_biases_leave_no_unit_dead_at_initialization():
    torch.manual_seed(0)
    train = fashion_mnist("train")
    model = FashionNet().center_biases(train.images[:512]).eval()
    assert all(n == 0 for n in _dead_units(model, train.images[512:1512]).values())
    plain = FashionNet().eval()  # He init alone, zero biases: the positive inputs of fc1 leave some units silent
    for layer in (plain.conv1, plain.conv2, plain.conv3, plain.fc1):
        torch.nn.init.uniform_(layer.bias, -0.5, -0.1)
    assert sum(_dead_units(plain, train.images[512:1512]).values()) > 0


def test_the_shipped_model_has_almost_no_dead_units(test_set):
    """(The robust twin, trained the same way on PGD images, silences more: 1 conv1 channel, 15 code units.)"""
    variant = "fashionnet"
    dead = _dead_units(load_model(variant, device="cpu"), test_set.images)
    for name, channels in (("relu1", 32), ("relu2", 64), ("relu3", 128)):
        assert dead[name] <= 0.02 * channels, f"{variant}: {dead[name]} of {channels} {name} channels are dead"
    assert dead["relu4"] <= 5, f"{variant}: {dead['relu4']} of 128 code units are dead"


def test_standard_accuracy_and_checkpoints(test_set):
    assert evaluate(load_model("fashionnet", device="cpu"), test_set.images, test_set.labels) >= 0.905
    checkpoints = fashionnet_checkpoints()
    assert len(checkpoints) >= 5 and checkpoints[0]["name"] == "init" and checkpoints[-1]["name"] == "final"
    assert [c["step"] for c in checkpoints] == sorted(c["step"] for c in checkpoints)


def test_standard_accuracy_on_the_full_test_set():
    if data._find_idx_dir() is None:  # CI installs Debian's dataset-fashion-mnist; offline laptops may not have it
        pytest.skip("the full Fashion-MNIST test set is not installed (Debian: dataset-fashion-mnist)")
    full = fashion_mnist("test", full=True)
    assert len(full.labels) == 10_000
    assert evaluate(load_model("fashionnet", device="cpu"), full.images, full.labels) >= 0.91


def test_robust_model_resists_pgd_where_the_standard_one_does_not(test_set):
    robust, standard = load_model("fashionnet_robust", device="cpu"), load_model("fashionnet", device="cpu")
    assert evaluate(robust, test_set.images, test_set.labels) >= 0.80
    x, y = test_set.images[::20], test_set.labels[::20]  # 200 images, 20 per class
    accuracy = {}
    for name, model in (("robust", robust), ("standard", standard)):
        x_adv = pgd(model, x, y, eps=0.1, steps=20, random_start=True)
        assert (x_adv - x).abs().max() <= 0.1 + 1e-6
        accuracy[name] = evaluate(model, x_adv, y)
    assert accuracy["robust"] >= 0.6, accuracy  # 0.65 on the whole subset with restarts; 200 images are noisier
    assert accuracy["standard"] <= 0.1, accuracy


def test_fit_trains_on_what_the_adversary_returns():
    """An adversary that blanks every image: the run equals training on blank images."""
    train = fashion_mnist("train")
    x, y = train.images[:256], train.labels[:256]
    calls = []

    def blank(model, batch, labels, step):
        assert model.training
        calls.append(step)
        return torch.zeros_like(batch)

    torch.manual_seed(0)
    a, b = FashionNet(), FashionNet()
    b.load_state_dict(a.state_dict())
    losses_adv = fit(a, x, y, epochs=1, seed=3, adversary=blank, progress=False)
    losses_blank = fit(b, torch.zeros_like(x), y, epochs=1, seed=3, progress=False)
    assert calls == [0, 1]
    torch.testing.assert_close(torch.tensor(losses_adv), torch.tensor(losses_blank), rtol=1e-5, atol=1e-6)


def test_pgd_adversary_stays_in_the_ball_and_raises_the_loss():
    model = load_model("fashionnet", device="cpu")
    test = fashion_mnist("test")
    x, y = test.images[:64], test.labels[:64]
    model.train()
    x_adv = pgd_adversary(0.1, steps=3)(model, x, y, 0)
    assert model.training  # handed back in train mode
    model.eval()
    assert (x_adv - x).abs().max() <= 0.1 + 1e-6
    ce = torch.nn.functional.cross_entropy
    assert ce(model(x_adv), y) > ce(model(x), y) + 1.0
    with pytest.raises(ValueError, match="eps"):
        pgd_adversary(-0.1)
