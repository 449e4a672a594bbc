"""course_utils.robust (worst-case accuracy, gradient mass, correlation, prior-free class images) and the
targeted-attack explorer of notebook 13, on tiny models whose answers can be worked out by hand."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils import adversarial, optim, robust  # noqa: E402
from course_utils.data import FASHION_CLASSES  # noqa: E402
from course_utils.models import FashionNet  # noqa: E402
from course_utils.widgets import targeted_attack_explorer  # noqa: E402


def linear_model(seed: int = 0, classes: int = 3) -> nn.Module:
    """A pixel-input softmax regression on 1x4x4 images, frozen, in eval mode."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, classes)).eval()
    return model.requires_grad_(False)


def data(model: nn.Module, n: int = 60, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Images in [0,1] labelled with the model's own answers (clean accuracy 1)."""
    x = torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
    return x, adversarial.predict(model, x)


# --------------------------------------------------------------------------- pgd_accuracy
def test_one_restart_is_the_pgd_accuracy_of_attack_accuracy():
    model = linear_model()
    x, y = data(model)
    for eps in (0.05, 0.2):
        expected = adversarial.attack_accuracy(model, x, y, [eps], "pgd", steps=5, random_start=True, batch_size=25)
        got = robust.pgd_accuracy(model, x, y, eps, steps=5, batch_size=25)
        assert got == expected[0]
    assert 0 < robust.pgd_accuracy(model, x, y, 0.05, steps=5) < 1  # the guard: ε = 0.05 fools some, not all


def test_an_image_counts_only_if_it_survives_every_restart():
    model = linear_model()
    x, y = data(model)
    eps, step = 0.15, 0.02  # one short step: where it ends depends on the random start, so restarts matter
    survived = torch.ones(len(x), dtype=torch.bool)
    for seed in range(4):  # by hand: each restart's attack on the whole batch
        x_adv = adversarial.pgd(model, x, y, eps, step=step, steps=1, random_start=True, seed=seed)
        survived &= adversarial.predict(model, x_adv) == y
    accuracies = [robust.pgd_accuracy(model, x, y, eps, step=step, steps=1, restarts=r) for r in (1, 2, 4)]
    assert accuracies[-1] == pytest.approx(float(survived.float().mean()))
    assert accuracies[0] >= accuracies[1] >= accuracies[2]  # more restarts can only find more
    assert accuracies[0] > accuracies[2]  # the guard: restarts do find more on this model


def test_a_transfer_attack_is_made_on_the_source_and_tested_on_the_model():
    model, source = linear_model(0), linear_model(5)
    x, y = data(model)
    x_adv = adversarial.pgd(source, x, y, 0.2, steps=5, random_start=True, seed=0)
    by_hand = float((adversarial.predict(model, x_adv) == y).float().mean())
    assert robust.pgd_accuracy(model, x, y, 0.2, steps=5, source=source) == pytest.approx(by_hand)
    white_box = robust.pgd_accuracy(model, x, y, 0.2, steps=5)
    assert robust.pgd_accuracy(model, x, y, 0.2, steps=5, source=model) == white_box


def test_clean_mistakes_count_as_wrong_and_bad_arguments_raise():
    model = linear_model()
    x, y = data(model)
    y_wrong = (y + 1) % 3
    assert robust.pgd_accuracy(model, x, y_wrong, 0.0, steps=1) == 0.0
    with pytest.raises(ValueError, match="restarts"):
        robust.pgd_accuracy(model, x, y, 0.1, restarts=0)
    with pytest.raises(ValueError, match="eps"):
        robust.pgd_accuracy(model, x, y, -0.1)
    with pytest.raises(ValueError):
        robust.pgd_accuracy(model, x * 255, y, 0.1)  # 0..255 pixels, not [0,1]


# --------------------------------------------------------------------------- gradient mass and correlation
def test_mass_on_object_is_the_share_of_the_map_on_bright_pixels():
    images = torch.zeros(2, 1, 2, 2)
    images[0, 0, 0, 0] = 0.8  # one object pixel in the first image
    images[1, 0, :, 0] = 0.5  # two in the second
    maps = torch.tensor([[[[3.0, -1.0], [0.0, 4.0]]], [[[-2.0, 2.0], [1.0, -5.0]]]])
    torch.testing.assert_close(robust.mass_on_object(maps, images), torch.tensor([3 / 8, 3 / 10], dtype=torch.float64))
    uniform = robust.mass_on_object(torch.ones(2, 1, 2, 2), images)  # a map that ignores the image
    torch.testing.assert_close(uniform, robust.object_mask(images).flatten(1).double().mean(1))
    faint = images.clone()
    faint[0, 0, 0, 0] = 0.04  # below the 0.05 threshold: background
    assert robust.mass_on_object(maps, faint)[0] == 0
    with pytest.raises(ValueError, match="same shape"):
        robust.mass_on_object(maps[:1], images)


def test_pixel_correlation_is_pearson_per_image():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 1, 5, 5, generator=g), torch.rand(3, 1, 5, 5, generator=g)
    b[1] = 2 * a[1] + 0.3  # a positive affine copy: correlation 1
    b[2] = -a[2]
    expected = [np.corrcoef(a[i].flatten(), b[i].flatten())[0, 1] for i in range(3)]
    got = robust.pixel_correlation(a, b)
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64), rtol=0, atol=1e-12)
    assert got[1] == pytest.approx(1) and got[2] == pytest.approx(-1)
    assert robust.pixel_correlation(a, torch.ones_like(a)).abs().max() == 0  # a constant image: 0, not NaN
    with pytest.raises(ValueError, match="same shape"):
        robust.pixel_correlation(a, b[:2])


# --------------------------------------------------------------------------- class images with no prior
def test_class_images_of_a_linear_model_turn_on_exactly_the_positive_weights():
    model = linear_model(classes=3)
    w = model[1].weight.view(3, 1, 4, 4)
    images = robust.class_images(model, [0, 2], shape=(1, 4, 4), steps=300, lr=0.05)
    assert images.shape == (2, 1, 4, 4) and images.min() >= 0 and images.max() <= 1
    # logit_c = w_c . x + b: with only the [0,1] box, the best image is 1 where w_c > 0 and 0 where w_c < 0
    torch.testing.assert_close(images, (w[[0, 2]] > 0).float(), rtol=0, atol=0.02)
    one = robust.class_images(model, 1, shape=(1, 4, 4), steps=300, lr=0.05)
    torch.testing.assert_close(one, (w[1:2] > 0).float(), rtol=0, atol=0.02)


def test_class_images_start_blank_or_from_noise_and_refuse_bad_arguments():
    model = linear_model(classes=3)
    w = model[1].weight.view(3, 1, 4, 4)
    first = robust.class_images(model, [0], shape=(1, 4, 4), steps=1, lr=0.01)  # one Adam step moves each pixel by lr
    torch.testing.assert_close(first, (w[:1] > 0).float() * 0.01, rtol=0, atol=1e-6)  # from 0: only w > 0 can rise
    noisy = robust.class_images(model, [0], shape=(1, 4, 4), steps=1, lr=0.01, start="noise", seed=3)
    start = optim.PixelImage((1, 1, 4, 4), seed=3).image()
    torch.testing.assert_close(noisy, (start + 0.01 * w[:1].sign()).clamp(0, 1), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="blank"):
        robust.class_images(model, [0], shape=(1, 4, 4), steps=2, start="black")
    with pytest.raises(ValueError):
        robust.class_images(model, [-1], shape=(1, 4, 4), steps=2)


# --------------------------------------------------------------------------- inversion with no prior
def test_invert_recovers_the_image_from_an_invertible_layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 16, bias=False)).eval().requires_grad_(False)
    with torch.no_grad():
        model[1].weight.copy_(torch.linalg.qr(torch.randn(16, 16))[0])  # orthogonal: the features fix the pixels
    images = torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(1)) * 0.8 + 0.1
    inverted = robust.invert(model, "1", images, steps=400, lr=0.02)
    torch.testing.assert_close(inverted, images, rtol=0, atol=0.02)
    one_step = robust.invert(model, "1", images, steps=1, lr=0.02)
    assert torch.allclose(one_step, torch.full_like(images, 0.02), atol=0.02)  # it starts from the blank image
    assert not torch.allclose(robust.invert(model, "1", images, steps=1, lr=0.02, start="noise"), one_step)
    with pytest.raises(ValueError, match="start"):
        robust.invert(model, "1", images, steps=1, start="grey")


# --------------------------------------------------------------------------- the explorer
@pytest.fixture(scope="module")
def two_models() -> dict:
    nets = {}
    for name, seed in (("standard", 0), ("robust", 1)):
        torch.manual_seed(seed)
        nets[name] = FashionNet().eval()
    return nets


def test_targeted_attack_explorer_attacks_every_model_with_the_chosen_settings(two_models):
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(3, 1, 28, 28, generator=g), torch.tensor([0, 7, 9])
    explorer = targeted_attack_explorer(two_models, images, labels, FASHION_CLASSES, target="Bag", eps=0.2, steps=5)
    with explorer.paused():
        explorer.controls["index"].value = 1
        explorer.controls["target"].value = "Trouser"
    explorer.controls["eps"].value = 0.3
    result = explorer.result
    assert set(result) == {"clean", "standard", "robust"} and torch.equal(result["clean"], images[1:2])
    for name, model in two_models.items():
        x_adv, probs = result[name]
        expected = adversarial.pgd(model, images[1:2], [1], 0.3, steps=5, targeted=True)
        assert torch.equal(x_adv, expected) and (x_adv - images[1:2]).abs().max() <= 0.3 + 1e-6
        torch.testing.assert_close(probs, model(x_adv).softmax(1)[0], rtol=1e-5, atol=1e-6)
        assert f"{name} p(Trouser) = {float(probs[1]):.2f}" in explorer.status.value
    assert not torch.equal(result["standard"][0], result["robust"][0])  # the guard: each model gets its own attack
    assert plt.get_fignums() == []  # the drawn figure was closed


def test_targeted_attack_explorer_checks_its_settings(two_models):
    images, labels = torch.rand(2, 1, 28, 28), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="Sneakers"):
        targeted_attack_explorer(two_models, images, labels, FASHION_CLASSES, target="Sneakers")
    with pytest.raises(ValueError, match="out of range"):
        targeted_attack_explorer(two_models, images, labels, FASHION_CLASSES, eps=0.6, max_eps=0.5)
    with pytest.raises(ValueError, match="at least one model"):
        targeted_attack_explorer({}, images, labels, FASHION_CLASSES)
    with pytest.raises(ValueError, match="clean"):
        targeted_attack_explorer({"clean": two_models["standard"]}, images, labels, FASHION_CLASSES)
    with pytest.raises(ValueError, match="one label per image"):
        targeted_attack_explorer(two_models, images, labels[:1], FASHION_CLASSES)
