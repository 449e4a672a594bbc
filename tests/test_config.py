"""Config: fast mode follows COURSE_FAST at call time, seed() makes runs repeatable,
device() and data_dir() honour their environment variables and fail helpfully."""

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("COURSE_FAST", "COURSE_DEVICE", "COURSE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE", " 1 "])
def test_fast_mode_on(monkeypatch, value):
    monkeypatch.setenv("COURSE_FAST", value)
    assert config.is_fast() is True
    assert config.pick(200, 20) == 20


@pytest.mark.parametrize("value", [None, "", "0", "false", "no", "off", "False", " 0 "])
def test_fast_mode_off(monkeypatch, value):
    if value is not None:
        monkeypatch.setenv("COURSE_FAST", value)
    assert config.is_fast() is False
    assert config.pick(200, 20) == 200


def test_pick_reads_the_environment_at_each_call(monkeypatch):
    assert config.pick("full", "fast") == "full"
    monkeypatch.setenv("COURSE_FAST", "1")
    assert config.pick("full", "fast") == "fast"
    monkeypatch.setenv("COURSE_FAST", "0")
    assert config.pick("full", "fast") == "full"


def test_mode_line_names_the_mode_and_device(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert "FULL" in config.mode_line() and "cpu" in config.mode_line()
    monkeypatch.setenv("COURSE_FAST", "1")
    assert "FAST" in config.mode_line()


def test_seed_makes_torch_numpy_and_python_repeatable():
    config.seed(3)
    first = (torch.rand(5), np.random.rand(5), random.random())
    config.seed(3)
    second = (torch.rand(5), np.random.rand(5), random.random())
    torch.testing.assert_close(first[0], second[0], rtol=0, atol=0)
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]
    config.seed(4)
    assert not torch.equal(torch.rand(5), first[0])


def test_seed_returns_a_generator_seeded_the_same_way():
    g = config.seed(7)
    assert isinstance(g, torch.Generator) and g.initial_seed() == 7
    a = torch.rand(4, generator=g)
    b = torch.rand(4, generator=config.seed(7))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(a, torch.rand(4, generator=torch.Generator().manual_seed(7)), rtol=0, atol=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the default device is CPU only without CUDA")
def test_default_device_is_cpu_without_accelerators():
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        pytest.skip("MPS is available here")
    assert config.device() == torch.device("cpu")


def test_course_device_and_preference_are_honoured(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert config.device() == torch.device("cpu")
    assert config.device("cpu") == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    assert config.device("cpu") == torch.device("cpu")  # an explicit preference wins over the variable


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_cuda_is_a_valueerror(monkeypatch):
    with pytest.raises(ValueError, match="CUDA is not available"):
        config.device("cuda")
    with pytest.raises(ValueError, match="cpu"):
        config.device("cuda:0")
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError):
        config.device()


def test_data_dir_defaults_to_the_repository_data_folder():
    path = Path(config.data_dir())
    assert path == Path(config.__file__).resolve().parent.parent / "data"
    assert (path / "fashion_mnist_subset.npz").is_file()


def test_data_dir_honours_course_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert Path(config.data_dir()) == tmp_path


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_data_dir_that_is_not_a_folder_raises_helpful_error(monkeypatch, tmp_path, kind):
    target = tmp_path / "nowhere"
    if kind == "file":
        target.write_text("not a folder")
    monkeypatch.setenv("COURSE_DATA_DIR", str(target))
    with pytest.raises(FileNotFoundError) as info:
        config.data_dir()
    message = str(info.value)
    assert str(target) in message and "COURSE_DATA_DIR" in message
