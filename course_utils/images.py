"""Photos in and out: sample images that ship with pip packages, any file or URL, resizing to
model size, the ImageNet normalization (which every model applies itself, as its first layer),
and the one Gaussian blur of the course. Taught in notebook 00.
"""

from __future__ import annotations

import difflib
import io
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import IMAGENET_MEAN, IMAGENET_STD, standardize
from .samples import SAMPLE_IMAGES, SampleImage, sample_image_names, sample_image_path  # noqa: F401 (re-exported)

#: Photos are shrunk to at most this many pixels on their long side when loaded.
MAX_SIDE = 2048


def _to_8bit(img: Image.Image) -> Image.Image:
    """Scale 16-bit, 32-bit integer and float images to 8 bits, keeping their contrast."""
    arr = np.asarray(img).astype(np.float64)
    if img.mode.startswith("I;16"):
        top = 65535.0  # the mode tells the bit depth
    elif img.mode == "F":
        top = 1.0 if arr.max() <= 1.0 else arr.max()
    else:  # "I": 32-bit integers, which 16-bit PNGs also open as; guess the depth from the values
        top = 65535.0 if arr.max() > 255 else 255.0
    return Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB; transparent pixels become white (as they look in a viewer)."""
    img = ImageOps.exif_transpose(img)  # phone photos store their rotation in EXIF
    keyed = "transparency" in img.info  # palette or colour-key transparency (PNG tRNS, GIF)
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        img = _to_8bit(img)
        keyed = False  # a 16-bit colour key no longer matches after scaling
    if keyed and img.mode in ("P", "L", "RGB"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def _read_url(url: str) -> bytes:
    from urllib.request import Request, urlopen

    try:
        with urlopen(Request(url, headers={"User-Agent": "course-utils"}), timeout=20) as response:
            return response.read()
    except OSError as exc:  # URLError, timeouts and connection errors are all OSErrors
        raise ValueError(f"could not download {url} ({exc}); save the image and pass its file path instead") from exc


def load_image(source, max_side: int | None = MAX_SIDE) -> Image.Image:
    """Load an image as an RGB ``PIL.Image``.

    ``source`` is a sample name (``sample_image_names()``), a file path, an http(s) URL, a
    ``PIL.Image`` or an ``(H,W)``/``(H,W,3)``/``(H,W,4)`` uint8 array. Grayscale, palette,
    16-bit and float images are converted; transparency becomes white. Images larger than
    ``max_side`` pixels on their long side are shrunk (aspect kept); ``max_side=None`` keeps them.
    """
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        img = Image.fromarray(source)
    elif isinstance(source, (str, Path)):
        img = _open(str(source))
    else:
        raise TypeError(f"load_image takes a sample name, path, URL, PIL image or array, not {type(source).__name__}")
    img = _to_rgb(img)
    if max_side is not None and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


def _open(source: str) -> Image.Image:
    if source in SAMPLE_IMAGES:
        path = sample_image_path(source)
    elif source.startswith(("http://", "https://")):
        return _open_bytes(_read_url(source), source)
    else:
        path = Path(source).expanduser()
        if not path.exists():
            close = difflib.get_close_matches(source, SAMPLE_IMAGES, n=3)
            hint = f" Did you mean the sample {close[0]!r}?" if close else ""
            raise FileNotFoundError(
                f"no file {source!r} and no sample image of that name.{hint} "
                f"Pass a file path, an http(s) URL, or one of: {', '.join(SAMPLE_IMAGES)}"
            )
        if path.is_dir():
            raise IsADirectoryError(f"{source!r} is a folder; pass the path of one image file in it")
    return _open_bytes(path.read_bytes(), str(path))


def _open_bytes(data: bytes, label: str) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(
            f"{label!r} is not an image file that Pillow can read ({exc.__class__.__name__}). "
            "Use a PNG, JPEG, GIF, BMP, TIFF or WebP file."
        ) from exc
    return img


# ------------------------------------------------------------------------- tensors
def normalize(pixels: torch.Tensor) -> torch.Tensor:
    """Map ``(N,3,H,W)`` (or ``(3,H,W)``) pixels in [0,1] to ImageNet-normalized values.

    Every ImageNet model of the course does this itself, as its first layer (``model.normalize``
    or ``model.input_norm``): pass models pixels, never normalized values.
    """
    return standardize(pixels, IMAGENET_MEAN, IMAGENET_STD)


def unnormalize(x: torch.Tensor) -> torch.Tensor:
    """Inverse of ``normalize``: ImageNet-normalized ``(N,3,H,W)`` back to pixels (not clamped)."""
    shape = (-1, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(shape)
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(shape)
    return x * std + mean


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur images ``(N,C,H,W)`` with a separable Gaussian of ``sigma`` pixels (reflect padding), same size out.

    The kernel reaches ceil(3 sigma) pixels each way, cut to what reflect padding allows on small images.
    """
    if sigma <= 0:
        return x.clone()
    radius = max(1, min(math.ceil(3 * sigma), x.shape[-1] - 1, x.shape[-2] - 1))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = x.shape[1]
    out = F.pad(x, (radius, radius, 0, 0), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)  # along rows
    out = F.pad(out, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(out, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)  # along columns


def to_tensor(img) -> torch.Tensor:
    """Turn a PIL image, path, sample name or uint8 array into ``(1,3,H,W)`` pixels in [0,1]."""
    arr = np.asarray(load_image(img, max_side=None), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def preprocess(img, size: int | None = 224, crop: bool = True) -> torch.Tensor:
    """Turn an image (PIL, path, sample name, array) into ``(1,3,size,size)`` pixels in [0,1], ready for any model.

    The shorter side is resized to ``size`` (antialiased bilinear) and, with ``crop``, the
    centre ``size x size`` square is kept. ``size=None`` keeps the image's own size.
    """
    x = to_tensor(img)
    if size is not None:
        h, w = x.shape[-2:]
        scale = size / min(h, w)
        new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
        x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False)
        if crop:
            top, left = (new_h - size) // 2, (new_w - size) // 2
            x = x[..., top : top + size, left : left + size]
    return x.clamp(0, 1)


def deprocess(x: torch.Tensor) -> np.ndarray:
    """Turn a model input (pixels) back into a displayable array, clamped to [0,1].

    ``(1,3,H,W)`` or ``(3,H,W)`` -> ``(H,W,3)``; ``(N,3,H,W)`` -> ``(N,H,W,3)``; one channel
    ``(1,1,H,W)``/``(1,H,W)`` -> ``(H,W)``, ``(N,1,H,W)`` -> ``(N,H,W)``.
    """
    x = x.detach().float().cpu()
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() not in (3, 4) or x.shape[-3] not in (1, 3):
        raise ValueError(f"expected (3,H,W), (N,3,H,W) or one-channel images, got shape {tuple(x.shape)}")
    x = x.clamp(0, 1)
    if x.shape[-3] == 1:
        return x.squeeze(-3).numpy()
    return x.movedim(-3, -1).numpy()
