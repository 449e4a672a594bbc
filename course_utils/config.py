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


def device(preference: str | None = None) -> torch.device:
    """Pick a device: ``preference`` or ``COURSE_DEVICE`` if set, else CUDA, then MPS, then CPU."""
    choice = preference or os.environ.get("COURSE_DEVICE")
    if choice:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {choice!r} was asked for, but CUDA is not available here; use 'cpu'")
        return dev
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
