"""Models: offline ImageNet predictions, FashionNet accuracy and checksums, torchvision cache paths."""

import copy
import hashlib
import shutil
from urllib.error import URLError

import pytest
import torch
import torchvision

from course_utils import models
from course_utils.data import fashion_mnist
from course_utils.images import normalize, preprocess
from course_utils.models import (
    fashionnet_checkpoints,
    imagenet_classes,
    list_models,
    load_model,
    model_info,
    top_predictions,
)
from course_utils.train import evaluate

CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


@pytest.fixture(scope="module")
def effnet():
    return load_model("efficientnet_lite0", device="cpu")


def test_efficientnet_knows_the_cat_and_the_coffee(effnet):
    batch = torch.cat([preprocess("chelsea"), preprocess("coffee")])
    cat, coffee = top_predictions(effnet, batch, k=3)
    assert cat[0][0] in CAT_CLASSES
    assert {"espresso", "cup", "coffee mug"} & {name for name, _ in coffee}
    assert coffee[0][1] > 0.5  # confident, not a lucky guess among 1000 classes


def test_loaded_models_are_frozen_eval_and_imagenet_shaped(effnet):
    assert not effnet.training
    assert not any(p.requires_grad for p in effnet.parameters())
    assert effnet(torch.zeros(2, 3, 96, 96)).shape == (2, 1000)


def test_efficientnet_input_norm_maps_pixels_to_minus_one_one(effnet):
    """The TF weights expect (pixel - 0.5) / 0.5; input_norm must produce exactly that from pixels in [0,1]."""
    pixels = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(effnet.input_norm(pixels), (pixels - 0.5) / 0.5, rtol=1e-6, atol=1e-6)


def test_torchvision_classic_takes_pixels_and_keeps_its_layer_names():
    """with_pixel_input puts ImageNet normalization first; named_modules() names stay the same."""
    torch.manual_seed(0)
    plain = torchvision.models.alexnet(weights=None).eval()
    wrapped = models.with_pixel_input(copy.deepcopy(plain), models.IMAGENET_MEAN, models.IMAGENET_STD)
    assert type(wrapped).__name__ == "PixelAlexNet" and isinstance(wrapped, torchvision.models.AlexNet)
    names = {n for n, _ in wrapped.named_modules()}
    assert {n for n, _ in plain.named_modules()} | {"normalize"} == names
    pixels = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(wrapped(pixels), plain(normalize(pixels)), rtol=1e-5, atol=1e-5)
    assert type(copy.deepcopy(wrapped)) is type(wrapped)  # deepcopy (receptive fields, sanity checks) keeps it


def test_efficientnet_uses_relu6_modules(effnet):
    assert sum(isinstance(m, torch.nn.ReLU6) for m in effnet.modules()) > 20


def test_fashionnet_accuracy_on_shipped_test_subset():
    model = load_model("fashionnet", device="cpu")
    test = fashion_mnist("test")
    assert evaluate(model, test.images, test.labels) >= 0.85


def test_fashionnet_takes_pixels_and_returns_ten_logits():
    model = load_model("fashionnet", device="cpu")
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert isinstance(model.normalize, models.Normalize)  # normalization is inside the model


def test_fashionnet_checkpoints_improve_along_training():
    test = fashion_mnist("test")
    names = [c["name"] for c in fashionnet_checkpoints()]
    assert names[0] == "init" and names[-1] == "final" and len(names) >= 4
    accs = [evaluate(load_model("fashionnet", device="cpu", checkpoint=n), test.images, test.labels) for n in names]
    assert accs[0] < 0.3  # untrained: near chance (10 classes)
    assert accs[-1] == max(accs)
    with pytest.raises(ValueError, match="init"):
        load_model("fashionnet", checkpoint="epoch99")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ that a test may damage."""
    copy = tmp_path / "data"
    shutil.copytree(models.config.data_dir(), copy)
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    return copy


def test_checksum_mismatch_is_detected(data_copy):
    weights = data_copy / "fashionnet_final.pt"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # flip one byte inside the tensor data
    weights.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        load_model("fashionnet")


def test_missing_weight_file_is_reported(data_copy):
    (data_copy / "fashionnet_final.pt").unlink()
    with pytest.raises(FileNotFoundError, match="fashionnet_final.pt"):
        load_model("fashionnet")


def test_unknown_model_name_suggests_the_closest():
    with pytest.raises(ValueError, match="efficientnet_lite0"):
        load_model("efficientnet_lite")
    assert {"efficientnet_lite0", "fashionnet", "alexnet", "vgg16", "resnet18", "googlenet", "squeezenet1_1"} <= set(
        list_models()
    )


def test_torchvision_model_loads_from_a_prepared_cache(tmp_path, monkeypatch):
    """No download: a weight file already in $TORCH_HOME/hub/checkpoints is used as is (its name carries its hash)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr("course_utils.download.urlopen", _no_network)
    reference = torchvision.models.resnet18(weights=None)
    saved = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), saved)
    prefix = hashlib.sha256(saved.read_bytes()).hexdigest()[:8]
    monkeypatch.setattr(models, "_weights_url", lambda name: f"https://download.pytorch.org/models/{name}-{prefix}.pth")
    target = models.torchvision_weights_file("resnet18")
    assert str(target).startswith(str(tmp_path)) and target.name == f"resnet18-{prefix}.pth"
    assert not model_info("resnet18").offline()
    target.parent.mkdir(parents=True)
    saved.rename(target)
    assert model_info("resnet18").offline()
    assert "resnet18" in list_models(offline_only=True)
    model = load_model("resnet18", device="cpu")
    torch.testing.assert_close(model.fc.weight, reference.fc.weight)
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def _no_network(url, *args, **kwargs):
    raise URLError("no network in this test")


@pytest.mark.parametrize("name", ["alexnet", "vgg16"])
def test_uncached_torchvision_model_offline_names_the_offline_choice(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr("course_utils.download.urlopen", _no_network)
    with pytest.raises(RuntimeError, match="efficientnet_lite0") as err:
        load_model(name)
    assert str(tmp_path) in str(err.value)  # tells where the file is expected


def test_imagenet_classes_are_the_1000_in_index_order():
    classes = imagenet_classes()
    assert len(classes) == 1000
    assert classes[281] == "tabby" and classes[967] == "espresso"  # known ImageNet indices


def test_top_predictions_are_sorted_probabilities(effnet):
    preds = top_predictions(effnet, preprocess("rocket"), k=5)[0]
    probs = [p for _, p in preds]
    assert len(preds) == 5 and probs == sorted(probs, reverse=True)
    assert 0 < sum(probs) <= 1 + 1e-6
