"""Run-time settings shared by every notebook: fast mode, seeding, device choice."""

from __future__ import annotations

import itertools
import os
import random

import numpy as np
import torch

_FALSY = {"", "0", "false", "no", "off"}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _FALSY


#: True when ``COURSE_FAST=1``: the tests set it to shrink images and iterations.
FAST: bool = _env_flag("COURSE_FAST")


def is_fast() -> bool:
    """Return True in fast mode (read from ``COURSE_FAST`` each call, so tests can toggle it)."""
    return _env_flag("COURSE_FAST")


def pick(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise, e.g. ``steps = pick(200, 20)``."""
    return fast if is_fast() else full


def mode_line() -> str:
    """Describe the run mode and device in one line, printed by each notebook's setup cell."""
    mode = "FAST (COURSE_FAST=1: small images, few steps)" if is_fast() else "FULL"
    return f"mode: {mode} | device: {device()} | torch {torch.__version__}"


def seed(value: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded the same way."""
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
    return torch.Generator().manual_seed(value)


_DEVICE_HELP = "use 'cpu', 'cuda' (an NVIDIA GPU; 'cuda:1' for the second one) or 'mps' (an Apple GPU)"


def _check_device(choice: str | torch.device, source: str) -> torch.device:
    """Turn a device string into a ``torch.device`` this machine has; a ValueError says what to use instead."""
    text = str(choice).strip().lower()
    if text.startswith("gpu"):  # torch calls GPUs 'cuda' (NVIDIA) or 'mps' (Apple)
        index = text[3:].lstrip(":")
        cuda = f"'cuda:{index}'" if index else "'cuda'"
        raise ValueError(
            f"{source} {choice!r}: PyTorch has no device called 'gpu'; use {cuda} for an NVIDIA GPU, "
            "'mps' for an Apple one, or 'cpu'"
        )
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise ValueError(f"{source} {choice!r} is not a device name; {_DEVICE_HELP}") from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{source} {choice!r}: the course runs on cpu, cuda or mps, not {dev.type!r}; {_DEVICE_HELP}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{source} {choice!r} was asked for, but CUDA is not available here; use 'cpu'")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"{source} {choice!r} was asked for, but this machine has {count} CUDA device(s): "
                f"use 'cuda:0'..'cuda:{count - 1}' or 'cpu'"
            )
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"{source} {choice!r} (an Apple GPU) was asked for, but MPS is not available here; use 'cpu'"
            )
    return dev


def device(preference: str | torch.device | None = None) -> torch.device:
    """Pick a device: ``preference`` or ``COURSE_DEVICE`` if set, else CUDA, then MPS, then CPU.

    A name this machine cannot use ('gpu', 'cuda' without CUDA, 'mps' off a Mac) raises a
    ``ValueError`` that says what to use.
    """
    if preference is not None and str(preference).strip():
        return _check_device(preference, "device")
    env = os.environ.get("COURSE_DEVICE", "").strip()
    if env:
        return _check_device(env, "COURSE_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: torch.nn.Module) -> torch.device:
    """Return the device of the model's first parameter or buffer (CPU for a model without any)."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        return tensor.device
    return torch.device("cpu")


def data_dir() -> os.PathLike:
    """Return the course's ``data/`` folder (``COURSE_DATA_DIR`` overrides it)."""
    from pathlib import Path

    env = os.environ.get("COURSE_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parent.parent / "data"
    if not path.is_dir():
        raise FileNotFoundError(
            f"course data folder {path} not found. Install course_utils from a clone of the course "
            "repository (`pip install -e .`) or set COURSE_DATA_DIR to its data/ folder."
        )
    return path
