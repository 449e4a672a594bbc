"""The shared core: frozen_eval restores each module's own mode and every requires_grad flag
(also after an exception); resolve_targets accepts what users pass and rejects what is wrong."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.core import frozen_eval, resolve_targets, train_mode


def mixed_model() -> nn.Module:
    """Dropout frozen on purpose (eval) inside a model in train mode, one parameter frozen."""
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model.train()
    model[1].eval()
    model[0].bias.requires_grad_(False)
    return model


def state(model: nn.Module) -> tuple[list[bool], list[bool]]:
    return [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()]


@pytest.mark.parametrize("fail", [False, True])
def test_frozen_eval_restores_each_module_mode_and_every_flag(fail):
    model = mixed_model()
    before = state(model)
    with pytest.raises(RuntimeError) if fail else torch.enable_grad():
        with frozen_eval(model) as device:
            assert device == torch.device("cpu")
            assert not any(m.training for m in model.modules())
            assert not any(p.requires_grad for p in model.parameters())
            if fail:
                raise RuntimeError("inside")
    assert state(model) == before
    assert not model[1].training  # model.train(was) would have switched the frozen dropout back on


def test_frozen_eval_makes_repeated_passes_identical():
    model = mixed_model()
    x = torch.randn(8, 4)
    with frozen_eval(model):
        torch.testing.assert_close(model(x), model(x), rtol=0, atol=0)  # no dropout, no batch statistics


@pytest.mark.parametrize(
    "target, n, expected",
    [
        (3, 2, [3, 3]),
        (np.int64(1), 3, [1, 1, 1]),
        ([0, 2], 2, [0, 2]),
        ((4,), 2, [4, 4]),
        (torch.tensor([1, 0]), 2, [1, 0]),
        (torch.tensor(5, dtype=torch.int32), 1, [5]),
    ],
)
def test_resolve_targets_accepts_ints_lists_and_integer_tensors(target, n, expected):
    t = resolve_targets(target, n, num_classes=10)
    assert t.dtype == torch.long and t.tolist() == expected


@pytest.mark.parametrize(
    "target, n, message",
    [
        (10, 1, "out of range.*10 classes"),
        (-1, 1, "start at 0"),
        ([1, 2, 3], 2, "3 targets for a batch of 2"),
        ("cat", 1, "class index"),
        (2.0, 1, "class index"),
        (True, 1, "bool"),
        ([1, 2.5], 2, "integer class indices"),
        (torch.tensor([0.0, 1.0]), 2, "integer class indices"),
        (torch.tensor([True]), 1, "integer class indices"),
    ],
)
def test_resolve_targets_rejects_what_is_wrong(target, n, message):
    with pytest.raises(ValueError, match=message):
        resolve_targets(target, n, num_classes=10)


def test_resolve_targets_returns_a_copy():
    source = torch.tensor([1, 2])
    resolve_targets(source, 2)[0] = 7
    assert source.tolist() == [1, 2]


def test_train_mode_trains_every_module_and_restores_each_one():
    model = mixed_model()
    model.eval()
    model[2].train()  # one module in train mode inside an eval model
    before = state(model)
    with pytest.raises(RuntimeError):
        with train_mode(model):
            assert all(m.training for m in model.modules())
            raise RuntimeError("inside")
    assert state(model) == before
