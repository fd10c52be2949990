"""Classes of images and their gate profiles: the inputs of the paper's Fig. 6 and Fig. 7.

Hu et al. (§7.2) group 50 validation images per class, average each class's gates per channel
and compare the class means with the mean over all images, for the last SE block of each stage
and every block of the last stage, on 50 uniformly sampled channels. This module provides
each piece as a plain function so the same figure can be drawn for any images:

* where the groups come from — the predicted class (:func:`groups_from_predictions`), file-name
  prefixes (:func:`groups_from_prefixes`), folder names (:func:`groups_from_folders`), or any
  label array a gate dataset carries;
* class-mean gates with the within-class standard deviation (:func:`class_profiles`; the mean
  is :func:`se_viz.analysis.specificity.class_mean_gates`, reused);
* the paper's default blocks (:func:`paper_blocks`) and the channel subset
  (:func:`channel_subset`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Mapping, Optional, Sequence

import numpy as np

from ..i18n import N_, _
from .specificity import class_mean_gates

__all__ = [
    "CHANNEL_SUBSET",
    "CHANNEL_SEED",
    "GIVEN_LABELS",
    "NO_FOLDER",
    "ClassProfile",
    "channel_subset",
    "class_profiles",
    "group_options",
    "groups_from_folders",
    "groups_from_predictions",
    "groups_from_prefixes",
    "paper_blocks",
]

#: The paper samples 50 channels per block; the seed makes the sample the same on every run.
CHANNEL_SUBSET = 50
CHANNEL_SEED = 0
#: The group of files that sit at the top of an upload, outside any folder.
NO_FOLDER = "(no folder)"

# Trailing numbering of a file stem: "pug_01", "pug-2", "pug (3)", "pug 4", "pug5".
_NUMBERING = re.compile(r"[\s_\-.()\[\]]*\d*[\s_\-.()\[\]]*$")


# ---------------------------------------------------------------------------------------------
# Where groups come from

#: The grouping by classes that came with the images (a dataset's or demonstration's labels).
#: The options' keys are identifiers (a view compares them); they are shown as ``_(key)``.
GIVEN_LABELS = N_("given labels")


def group_options(
    names: Sequence[str], predicted: Sequence[str], labels: Optional[Sequence] = None
) -> dict[str, np.ndarray]:
    """Every way to group these images, by its name on screen: group name → class per image (N,).

    Given ``labels`` first (when there are any), then the ``predicted`` class names, the file-name
    prefix, and the folder when some name has one. The app's image views and its gate-dataset view
    offer the same choices, so they come from here.
    """
    out: dict[str, np.ndarray] = {}
    if labels is not None:
        out[GIVEN_LABELS] = np.asarray([str(x) for x in labels], dtype=object)
    out[N_("predicted class")] = np.asarray(predicted, dtype=object)
    out[N_("file-name prefix")] = groups_from_prefixes(names)
    if any("/" in str(x) or "\\" in str(x) for x in names):
        out[N_("folder")] = groups_from_folders(names)
    return out


def groups_from_predictions(logits: np.ndarray, class_names: Optional[Sequence[str]] = None) -> np.ndarray:
    """The predicted class of every image (argmax of ``logits`` (N, K)), as names (N,) of dtype object.

    ``class_names`` maps indices to names (``LoadedModel.labels``); missing or short lists fall
    back to ``"class i"``, as everywhere else in the app.
    """
    x = np.asarray(logits)
    if x.ndim != 2:
        raise ValueError(f"expected logits of shape (N, K), got {x.shape}")
    names = list(class_names or [])
    idx = x.argmax(axis=1)
    return np.array([names[j] if j < len(names) else _("class {j}").format(j=j) for j in idx], dtype=object)


def groups_from_prefixes(names: Sequence[str], separator: Optional[str] = None) -> np.ndarray:
    """The class of every file name from its prefix, as names (N,) of dtype object.

    Without ``separator`` the prefix is the file stem with its trailing numbering removed:
    ``"pug_01.jpg"``, ``"pug-2.png"``, ``"pug (3).jpg"`` and ``"pug4.jpg"`` are all ``"pug"``,
    ``"golden_retriever_7.jpg"`` is ``"golden_retriever"``. With ``separator`` it is the part of
    the stem before its first occurrence (``"pug.a.jpg"`` with ``"."`` → ``"pug"``). Folders
    are ignored; a stem that is nothing but numbering keeps its whole stem.
    """
    out = []
    for name in names:
        stem = PurePosixPath(str(name).replace("\\", "/")).name
        stem = stem.rsplit(".", 1)[0] if "." in stem else stem
        if separator:
            prefix = stem.split(separator, 1)[0]
        else:
            prefix = _NUMBERING.sub("", stem)
        out.append(prefix or stem)
    return np.array(out, dtype=object)


def groups_from_folders(paths: Sequence[str]) -> np.ndarray:
    """The class of every file from the folder that holds it (a ZIP with one folder per class).

    ``"pug/1.jpg"`` and ``"photos/pug/1.jpg"`` are both ``"pug"`` (the innermost folder);
    files outside any folder get :data:`NO_FOLDER`. Backslashes count as separators too.
    """
    out = []
    for p in paths:
        parent = PurePosixPath(str(p).replace("\\", "/")).parent.name
        out.append(parent or NO_FOLDER)
    return np.array(out, dtype=object)


# ---------------------------------------------------------------------------------------------
# Class profiles


@dataclass(frozen=True)
class ClassProfile:
    """Class-mean gates of one block and their spread within each class.

    ``classes`` (K,) are the sorted distinct labels, ``counts`` (K,) their image counts,
    ``mean`` and ``std`` (K, C) the per-channel mean and population standard deviation (ddof=0)
    of each class's gates, and ``overall`` (C,) the mean over *all* images — the paper's
    reference line ("all"). All float64.
    """

    block: str
    classes: np.ndarray
    counts: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    overall: np.ndarray

    def of(self, cls: object) -> int:
        """The row of class ``cls`` in ``mean`` / ``std``."""
        hits = np.flatnonzero(self.classes == cls)
        if hits.size == 0:
            raise KeyError(f"no class {cls!r}; classes are {self.classes.tolist()}")
        return int(hits[0])


def class_profiles(
    gates_by_block: Mapping[str, np.ndarray], labels: Sequence, blocks: Optional[Sequence[str]] = None
) -> dict[str, ClassProfile]:
    """:class:`ClassProfile` of every block in ``blocks`` (default: all), keyed by block name.

    ``labels`` holds one class per image (N,). The class means are exactly
    :func:`~se_viz.analysis.specificity.class_mean_gates`, so Fig. 6 and the specificity
    measure always agree.
    """
    y = np.asarray(labels)
    out: dict[str, ClassProfile] = {}
    for name in list(blocks) if blocks is not None else list(gates_by_block):
        g = np.asarray(gates_by_block[name], dtype=np.float64)
        classes, means = class_mean_gates(g, y)
        inverse = np.searchsorted(classes, y)
        counts = np.bincount(inverse, minlength=len(classes))
        # Sum of squared deviations per class as one (K, N) @ (N, C) product: np.add.at is
        # 9.7× slower on 500 × 2048 gates (timeit, best of 5, one BLAS thread).
        onehot = np.zeros((len(classes), g.shape[0]))
        onehot[inverse, np.arange(g.shape[0])] = 1.0
        var = onehot @ (g - means[inverse]) ** 2
        out[name] = ClassProfile(
            block=name,
            classes=classes,
            counts=counts,
            mean=means,
            std=np.sqrt(var / counts[:, None]),
            overall=g.mean(axis=0),
        )
    return out


# ---------------------------------------------------------------------------------------------
# Which blocks, which channels


def paper_blocks(blocks: Sequence) -> list[str]:
    """The paper's choice of blocks for Fig. 6: the last block of each stage and every block
    of the last stage, in forward order (SE-ResNet-50: SE_2_3, SE_3_4, SE_4_6, SE_5_1, SE_5_2,
    SE_5_3).

    ``blocks`` are :class:`~se_viz.BlockInfo` in forward order. Models without paper names
    (EfficientNet, MobileNet, user models) have no stages; there a "stage" is a run of
    consecutive blocks of equal width — where the network changes its channel count — and the
    same rule applies to those runs.
    """
    keys = []
    run = -1
    prev: object = object()
    for b in blocks:
        key = ("stage", b.stage) if b.stage is not None else ("width", b.channels)
        if key != prev:
            run += 1
            prev = key
        keys.append(run)
    if not keys:
        return []
    last_run = keys[-1]
    chosen = []
    for i, b in enumerate(blocks):
        last_of_run = i == len(blocks) - 1 or keys[i + 1] != keys[i]
        if last_of_run or keys[i] == last_run:
            chosen.append(b.name)
    return chosen


def channel_subset(
    channels: int, size: Optional[int] = CHANNEL_SUBSET, seed: int = CHANNEL_SEED
) -> np.ndarray:
    """Indices of the channels to draw: ``size`` sampled uniformly without replacement, sorted.

    As in the paper, 50 channels by default; the fixed ``seed`` gives the same subset on every
    run and machine (``numpy.random.default_rng(seed)``), so two figures of the same block show
    the same channels. ``size=None`` or ``size ≥ channels`` returns every channel.
    """
    c = int(channels)
    if size is None or int(size) >= c:
        return np.arange(c)
    if int(size) < 1:
        raise ValueError(f"a channel subset needs at least one channel, got {size}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(c, size=int(size), replace=False))
