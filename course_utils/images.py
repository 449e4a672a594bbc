"""Photos in and out: sample images that ship with pip packages, any file or URL, resizing to
model size, the ImageNet normalization (which every model applies itself, as its first layer),
and the one Gaussian blur of the course. Taught in notebook 00.
"""

from __future__ import annotations

import difflib
import io
import math
import stat
import struct
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .download import DownloadError, download
from .models import IMAGENET_MEAN, IMAGENET_STD, standardize
from .samples import SAMPLE_IMAGES, SampleImage, sample_image_names, sample_image_path  # noqa: F401 (re-exported)

#: Photos are shrunk to at most this many pixels on their long side when loaded.
MAX_SIDE = 2048
#: The most pixels ``load_image`` decodes (checked from the header, before decoding): 40 MP is ~120 MB as RGB.
MAX_PIXELS = 40_000_000
#: The largest image file ``load_image`` opens from disk, and the largest body it downloads from a URL.
MAX_FILE_BYTES = 200 * 2**20
MAX_DOWNLOAD_BYTES = 50 * 2**20
#: Seconds a whole URL download may take (each read also times out after ``download.READ_TIMEOUT_S``).
DOWNLOAD_DEADLINE_S = 60.0
#: The largest ``size`` ``preprocess`` resizes to.
MAX_SIZE = 4096


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
    """Download ``url`` within ``MAX_DOWNLOAD_BYTES`` and ``DOWNLOAD_DEADLINE_S``."""
    buffer = io.BytesIO()
    try:
        download(url, buffer, max_bytes=MAX_DOWNLOAD_BYTES, deadline_s=DOWNLOAD_DEADLINE_S)
    except DownloadError as exc:
        raise ValueError(
            f"could not load the image at {url}: {exc}. Save the image and pass its file path instead"
        ) from exc
    return buffer.getvalue()


def _check_limit(name: str, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"{name} must be a whole number of pixels >= 1, or None for no limit; not {value!r}")


def load_image(source, max_side: int | None = MAX_SIDE, max_pixels: int | None = MAX_PIXELS) -> Image.Image:
    """Load an image as an RGB ``PIL.Image``.

    ``source`` is a file path, a sample name (``sample_image_names()``; a file of the same name wins),
    an http(s) URL, a ``PIL.Image`` or an ``(H,W)``/``(H,W,3)``/``(H,W,4)`` array (uint8, or floats in
    [0,1], which are rounded to 8 bits). Grayscale, palette, 16-bit and float images are converted;
    transparency becomes white. Images larger than ``max_side`` pixels on their long side are shrunk
    (aspect kept); ``max_side=None`` keeps them. Files and URLs over ``max_pixels`` pixels are refused
    before they are decoded (``None`` lifts the limit); JPEGs are decoded at 1/2, 1/4 or 1/8 size
    when that still leaves ``max_side`` pixels.
    """
    _check_limit("max_side", max_side)
    _check_limit("max_pixels", max_pixels)
    if isinstance(source, Image.Image):
        img = source
    elif isinstance(source, np.ndarray):
        img = _from_array(source)
    elif isinstance(source, (str, Path)):
        img = _open(str(source), max_side, max_pixels)
    elif isinstance(source, torch.Tensor):
        raise TypeError(
            "load_image takes a sample name, path, URL, PIL image or array, not a tensor: a tensor of pixels is "
            "already loaded (deprocess(x) turns it into an (H,W,3) array)"
        )
    else:
        raise TypeError(f"load_image takes a sample name, path, URL, PIL image or array, not {type(source).__name__}")
    img = _to_rgb(img)
    if max_side is not None and max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return img


def _from_array(arr: np.ndarray) -> Image.Image:
    """An ``(H,W)``, ``(H,W,1|3|4)`` array as a PIL image: uint8 as is, floats in [0,1] rounded to 8 bits."""
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)) or arr.size == 0:
        channels_first = arr.ndim == 3 and arr.shape[0] in (1, 3, 4)
        hint = " It looks channels-first: pass arr.transpose(1, 2, 0)." if channels_first else ""
        raise ValueError(f"expected an (H,W), (H,W,3) or (H,W,4) image array, got shape {arr.shape}.{hint}")
    if arr.dtype == np.uint8 or (arr.dtype == np.uint16 and arr.ndim == 2):
        return Image.fromarray(arr)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise ValueError(
                f"a float image array must hold finite pixels in [0,1]; this one has {bad} NaN or inf values"
            )
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError(
                f"a float image array must hold finite pixels in [0,1], got values from {arr.min():g} to "
                f"{arr.max():g}; for 0-255 values pass arr.astype(np.uint8)"
            )
        return Image.fromarray((arr * 255.0 + 0.5).astype(np.uint8))
    if (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool) and arr.min() >= 0 and arr.max() <= 255:
        return Image.fromarray(arr.astype(np.uint8))
    raise ValueError(f"cannot read a {arr.dtype} array as an image: use uint8 (0-255) or floats in [0,1]")


_FILE_KINDS = {stat.S_ISFIFO: "a named pipe", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}


def _open(source: str, max_side: int | None, max_pixels: int | None) -> Image.Image:
    if source.startswith(("http://", "https://")):
        return _decode(io.BytesIO(_read_url(source)), source, max_side, max_pixels)
    path = Path(source).expanduser()
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, no permission
        if source not in SAMPLE_IMAGES:
            raise FileNotFoundError(f"cannot use {source!r} as a file path ({exc})") from exc
        info = None
    if info is None:
        if source not in SAMPLE_IMAGES:
            close = difflib.get_close_matches(source, SAMPLE_IMAGES, n=3)
            hint = f" Did you mean the sample {close[0]!r}?" if close else ""
            raise FileNotFoundError(
                f"no file {source!r} and no sample image of that name.{hint} "
                f"Pass a file path, an http(s) URL, or one of: {', '.join(SAMPLE_IMAGES)}"
            )
        path = sample_image_path(source)
        info = path.stat()
    elif source in SAMPLE_IMAGES:
        warnings.warn(
            f"{source!r} is a file here and also a sample name: loading the file {path.resolve()}. "
            f"For the sample, pass load_image(sample_image_path({source!r})).",
            stacklevel=3,
        )
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"{source!r} is a folder; pass the path of one image file in it")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS.items() if test(info.st_mode)), "not a regular file")
        raise ValueError(f"{source!r} is {kind}, not an image file: pass the path of a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise ValueError(
            f"{source!r} is too large: {info.st_size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES / 2**20:.0f} MB "
            "load_image reads (images.MAX_FILE_BYTES). Save a smaller copy (e.g. as JPEG) and load that."
        )
    return _decode(io.BytesIO(path.read_bytes()), str(path), max_side, max_pixels)


# Pillow's decoders report a damaged file with any of these.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


def _decode(fp: BinaryIO, label: str, max_side: int | None, max_pixels: int | None) -> Image.Image:
    """Read the header, check the pixel count, then decode (JPEGs shrunk while decoding when they may be)."""
    try:
        with warnings.catch_warnings():
            if max_pixels is not None:  # our own, lower, pixel limit is checked below
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(fp)
    except UnidentifiedImageError as exc:
        raise ValueError(
            f"{label!r} is not an image file that Pillow can read. Use a PNG, JPEG, GIF, BMP, TIFF or WebP file "
            "(convert HEIC or RAW photos to JPEG first)."
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{label!r} is too large to decode: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise ValueError(f"{label!r} is truncated or damaged: Pillow could not read its header ({exc})") from exc
    width, height = img.size
    if max_side is not None and img.format == "JPEG" and max(width, height) >= 2 * max_side:
        long = max(width, height)
        img.draft(img.mode, (max(1, width * max_side // long), max(1, height * max_side // long)))
    if max_pixels is not None and img.size[0] * img.size[1] > max_pixels:
        raise ValueError(
            f"{label!r} is too large: {width}x{height} pixels ({width * height / 1e6:.0f} MP), more than the "
            f"{max_pixels / 1e6:g} MP load_image decodes (images.MAX_PIXELS), so that one photo cannot fill the "
            "memory. Save a smaller copy, or pass max_pixels=None to decode it anyway."
        )
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ValueError(f"{label!r} is too large to decode: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise ValueError(
            f"{label!r} is truncated or damaged: Pillow could not decode it ({exc}). Download or save it again."
        ) from exc
    return img


# ------------------------------------------------------------------------- tensors
def normalize(pixels: torch.Tensor) -> torch.Tensor:
    """Map ``(N,3,H,W)`` (or ``(3,H,W)``) pixels in [0,1] to ImageNet-normalized values.

    Every ImageNet model of the course does this itself, as its first layer (``model.normalize``
    or ``model.input_norm``): pass models pixels, never normalized values.
    """
    _check_rgb("normalize", pixels)
    return standardize(pixels, IMAGENET_MEAN, IMAGENET_STD)


def _check_rgb(name: str, x) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} takes a tensor of (N,3,H,W) or (3,H,W) pixels, not {type(x).__name__}")
    if x.dim() not in (3, 4) or x.shape[-3] != 3:
        gray = " A grayscale image: repeat it to 3 channels first, x.expand(-1, 3, -1, -1)." if x.dim() == 4 else ""
        raise ValueError(f"{name} takes RGB images (N,3,H,W) or (3,H,W), got shape {tuple(x.shape)}.{gray}")


def unnormalize(x: torch.Tensor) -> torch.Tensor:
    """Inverse of ``normalize``: ImageNet-normalized ``(N,3,H,W)`` back to pixels (not clamped)."""
    _check_rgb("unnormalize", x)
    shape = (-1, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(shape)
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(shape)
    return x * std + mean


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur images ``(N,C,H,W)`` with a separable Gaussian of ``sigma`` pixels (reflect padding), same size out.

    The kernel reaches ceil(3 sigma) pixels each way, cut to what reflect padding allows on small images.
    """
    if not math.isfinite(sigma):
        raise ValueError(f"sigma must be a finite number of pixels (0 for no blur), not {sigma}")
    if x.dim() != 4:
        raise ValueError(f"gaussian_blur takes images (N,C,H,W), got shape {tuple(x.shape)}")
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
    ``size`` is a whole number of pixels from 1 to ``MAX_SIZE``.
    """
    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer))):
        raise TypeError(
            f"size must be a whole number of pixels such as 224 (or None for the image's own size), not {size!r}"
        )
    if size is not None and not 1 <= size <= MAX_SIZE:
        raise ValueError(f"size must be from 1 to {MAX_SIZE} pixels (ImageNet models expect 224), not {size}")
    x = to_tensor(img)
    if size is not None:
        h, w = x.shape[-2:]
        scale = size / min(h, w)
        new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
        if new_h * new_w > MAX_PIXELS:  # a very elongated image: its short side at size makes a huge long side
            raise ValueError(
                f"a {w}x{h} image with its short side resized to {size} px would be {new_w}x{new_h} pixels, more "
                f"than images.MAX_PIXELS ({MAX_PIXELS / 1e6:g} MP): crop it to a less elongated part first"
            )
        x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False)
        if crop:
            top, left = (new_h - size) // 2, (new_w - size) // 2
            x = x[..., top : top + size, left : left + size]
    return x.clamp(0, 1)


def deprocess(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """Turn a model input (pixels) back into a displayable array, clamped to [0,1].

    ``(1,3,H,W)`` or ``(3,H,W)`` -> ``(H,W,3)``; ``(N,3,H,W)`` -> ``(N,H,W,3)``; one channel
    ``(1,1,H,W)``/``(1,H,W)`` -> ``(H,W)``, ``(N,1,H,W)`` -> ``(N,H,W)``. A tensor or a channels-first
    array; floats are pixels in [0,1], uint8 values 0-255 (divided by 255). NaN is refused.
    """
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"deprocess takes a tensor (or array) of pixels, not {type(x).__name__}")
    if x.dtype == torch.uint8:
        x = x.float() / 255.0  # 8-bit pixels: 0-255
    elif not x.is_floating_point():
        raise TypeError(
            f"deprocess takes float pixels in [0,1] or uint8 values 0-255, not {x.dtype}; "
            "for 0-255 values in another type use x.to(torch.uint8)"
        )
    x = x.detach().float().cpu()
    if x.isnan().any():
        raise ValueError(f"the image has {int(x.isnan().sum())} NaN values (a diverged optimization?); nothing to show")
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() not in (3, 4) or x.shape[-3] not in (1, 3):
        hint = " An (H,W,3) array is already displayable." if x.dim() == 3 and x.shape[-1] == 3 else ""
        raise ValueError(f"expected (3,H,W), (N,3,H,W) or one-channel images, got shape {tuple(x.shape)}.{hint}")
    x = x.clamp(0, 1)
    if x.shape[-3] == 1:
        return x.squeeze(-3).numpy()
    return x.movedim(-3, -1).numpy()
