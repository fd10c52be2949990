"""Statistics and tables computed from a :class:`~se_viz.capture.Capture`.

Everything here is plain NumPy / pandas on the arrays a capture holds: no torch, no Streamlit,
no plotting. The UI shows these tables directly and :mod:`se_viz.figures` and
:mod:`se_viz.export` build on them, so column names are part of the app's contract.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd

from ..engine.capture import Capture
from ..i18n import N_

__all__ = [
    "ENTROPY_DEFINITION",
    "SORT_OPTIONS",
    "SUMMARY_COLUMNS",
    "LONG_COLUMNS",
    "block_summary",
    "channel_order",
    "check_image",
    "gate_entropy",
    "long_table",
    "NEAR_CHANCE_ENTROPY",
    "NEAR_CHANCE_RULE",
    "gate_spread",
    "near_chance",
    "prediction_entropy",
    "normalise_sort",
    "top_channels",
    "topk_predictions",
]

#: Shown translated: ``_(ENTROPY_DEFINITION)``.
ENTROPY_DEFINITION: str = N_(
    "Entropy is the Shannon entropy of the gates normalised to a distribution, p_c = s_c / Σ s, "
    "divided by log C so it lies in [0, 1]: 1 means every channel gets the same gate, lower values "
    "mean the block concentrates its weight on fewer channels."
)

# The channel orderings the UI offers, in display order ("gate ↓" = largest gate first).
# They are identifiers (state, links, tests); a view shows them translated: ``format_func=_``.
SORT_OPTIONS: tuple[str, ...] = (N_("natural"), N_("gate ↓"), N_("gate ↑"))

# ASCII spellings accepted as well, for callers (CLI, notebooks) that cannot type arrows.
_SORT_ALIASES = {
    "natural": "natural",
    "gate ↓": "gate ↓",
    "gate ↑": "gate ↑",
    "desc": "gate ↓",
    "descending": "gate ↓",
    "asc": "gate ↑",
    "ascending": "gate ↑",
}

SUMMARY_COLUMNS: tuple[str, ...] = (
    "block",
    "paper_name",
    "module_path",
    "stage",
    "channels",
    "mean",
    "std",
    "min",
    "max",
    "frac_below_0.1",
    "frac_above_0.9",
    "entropy",
    "z_mean",
    "z_std",
)
LONG_COLUMNS: tuple[str, ...] = ("image", "block", "paper_name", "module_path", "channel", "z", "s")


def check_image(cap: Capture, image: int) -> int:
    """Validate a batch index against ``cap`` and return it as a non-negative ``int``.

    Negative indices count from the end like Python sequences; anything outside the batch
    raises :class:`IndexError` with a message naming the batch size, so a stale UI selection
    (e.g. after removing an upload) fails loudly instead of silently showing another image.
    """
    n = cap.num_images
    i = int(image)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"Image index {image} is out of range: the capture holds {n} image(s).")
    return i


def gate_entropy(s: np.ndarray) -> float:
    """Normalised Shannon entropy of gate vector ``s`` (C,), in [0, 1].

    The gates are turned into a distribution p = s / Σs and H(p) is divided by log C, so equal
    gates give exactly 1 and a block that puts all its weight on one channel gives 0. Channels
    with s = 0 contribute 0 (the limit of p log p). A single channel counts as "all equal" (1);
    if every gate is 0 there is no distribution and the result is NaN.
    """
    s = np.asarray(s, dtype=np.float64).ravel()
    c = s.size
    if c == 0:
        return float("nan")
    if c == 1:
        return 1.0
    total = s.sum()
    if not np.isfinite(total) or total <= 0:
        return float("nan")
    p = s / total
    nz = p[p > 0]
    h = -np.sum(nz * np.log(nz))
    # Clip only floating-point overshoot (e.g. 1.0000000000000002 for equal gates).
    return float(np.clip(h / np.log(c), 0.0, 1.0))


def block_summary(cap: Capture, image: int = 0) -> pd.DataFrame:
    """One row of gate and squeeze statistics per SE block of image ``image``, in forward order.

    Columns are exactly :data:`SUMMARY_COLUMNS`: identity (``block``, ``paper_name`` — "" when
    the model has no paper naming —, ``module_path``, nullable-int ``stage``, ``channels``),
    gate statistics over channels (``mean``, ``std`` (population, ddof=0), ``min``, ``max``, the
    fractions of gates strictly below 0.1 and strictly above 0.9, normalised ``entropy`` — see
    :data:`ENTROPY_DEFINITION`) and the mean and std of the squeeze ``z``. Statistics are
    computed in float64 so they match a NumPy recomputation exactly.
    """
    i = check_image(cap, image)
    rows = []
    for b in cap.blocks:
        s = cap.gates[b.name][i].astype(np.float64)
        z = cap.squeeze[b.name][i].astype(np.float64)
        rows.append(
            {
                "block": b.name,
                "paper_name": b.paper_name or "",
                "module_path": b.path,
                "stage": b.stage if b.stage is not None else pd.NA,
                "channels": int(s.size),
                "mean": s.mean(),
                "std": s.std(),
                "min": s.min(),
                "max": s.max(),
                "frac_below_0.1": float(np.mean(s < 0.1)),
                "frac_above_0.9": float(np.mean(s > 0.9)),
                "entropy": gate_entropy(s),
                "z_mean": z.mean(),
                "z_std": z.std(),
            }
        )
    df = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    df["stage"] = df["stage"].astype("Int64")
    df["channels"] = df["channels"].astype("int64")
    return df


def normalise_sort(sort: str) -> str:
    """The canonical name (one of :data:`SORT_OPTIONS`) of channel order ``sort``.

    Accepts the UI's labels and the ASCII spellings "desc"/"asc"; anything else raises
    :class:`ValueError` listing the valid choices, so a typo never silently shows natural order.
    """
    key = _SORT_ALIASES.get(sort)
    if key is None:
        raise ValueError(f"Unknown channel order {sort!r}; choose one of {list(SORT_OPTIONS)}.")
    return key


def channel_order(values: np.ndarray, sort: str) -> np.ndarray:
    """The permutation of channel indices that displays ``values`` (C,) in order ``sort``.

    ``sort`` is one of :data:`SORT_OPTIONS`: ``"natural"`` (0, 1, …, C-1), ``"gate ↓"``
    (largest value first) or ``"gate ↑"`` (smallest first); "desc"/"asc" are accepted too.
    The sort is stable, so equal gates keep their channel order and the result is
    deterministic. ``values[channel_order(values, sort)]`` is the displayed row.
    """
    key = normalise_sort(sort)
    v = np.asarray(values).ravel()
    if key == "natural":
        return np.arange(v.size)
    if key == "gate ↑":
        return np.argsort(v, kind="stable")
    # Negating keeps the sort stable (ties stay in channel order), unlike reversing an ascending sort.
    return np.argsort(-v.astype(np.float64), kind="stable")


def top_channels(cap: Capture, block: str, image: int = 0, k: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` most up-weighted and the ``k`` most suppressed channels of one block.

    Returns ``(up, down)``, each with columns ``channel``, ``s``, ``z``, ``rank`` (1 = most
    extreme): ``up`` lists the highest gates first, ``down`` the lowest first. ``k`` is clipped
    to the block's channel count; ties are broken by channel index.
    """
    i = check_image(cap, image)
    cap.block(block)  # a clear KeyError listing the blocks when the name is wrong
    s = cap.gates[block][i]
    z = cap.squeeze[block][i]
    k = max(0, min(int(k), s.size))

    def table(order: np.ndarray) -> pd.DataFrame:
        idx = order[:k]
        return pd.DataFrame(
            {
                "channel": idx.astype("int64"),
                "s": s[idx].astype(np.float64),
                "z": z[idx].astype(np.float64),
                "rank": np.arange(1, k + 1, dtype="int64"),
            }
        )

    return table(channel_order(s, "gate ↓")), table(channel_order(s, "gate ↑"))


def long_table(cap: Capture, image_names: Sequence[str]) -> pd.DataFrame:
    """Every captured number in long format: one row per (image, block, channel).

    Columns are exactly :data:`LONG_COLUMNS` (``image``, ``block``, ``paper_name``,
    ``module_path``, ``channel``, ``z``, ``s``); rows are ordered image by image, then blocks in
    forward order, then channels, so the table has N × ΣC rows. ``image_names`` must hold one
    name per image of the batch. Built with vectorised repeats, as SENet-154 captures reach
    hundreds of thousands of rows.
    """
    names = [str(n) for n in image_names]
    n = cap.num_images
    if len(names) != n:
        raise ValueError(f"Got {len(names)} image name(s) for a capture of {n} image(s).")
    widths = np.array([cap.gates[b.name].shape[1] for b in cap.blocks], dtype=np.int64)
    per_image = int(widths.sum())
    block_col = np.repeat(np.array([b.name for b in cap.blocks], dtype=object), widths)
    paper_col = np.repeat(np.array([b.paper_name or "" for b in cap.blocks], dtype=object), widths)
    path_col = np.repeat(np.array([b.path for b in cap.blocks], dtype=object), widths)
    channel_col = (
        np.concatenate([np.arange(w, dtype=np.int64) for w in widths])
        if len(widths)
        else np.zeros(0, np.int64)
    )
    if cap.blocks:
        z = np.concatenate([cap.squeeze[b.name] for b in cap.blocks], axis=1).reshape(-1)
        s = np.concatenate([cap.gates[b.name] for b in cap.blocks], axis=1).reshape(-1)
    else:
        z = s = np.zeros(0, dtype=np.float32)
    return pd.DataFrame(
        {
            "image": np.repeat(np.array(names, dtype=object), per_image),
            "block": np.tile(block_col, n),
            "paper_name": np.tile(paper_col, n),
            "module_path": np.tile(path_col, n),
            "channel": np.tile(channel_col, n),
            "z": z,
            "s": s,
        },
        columns=list(LONG_COLUMNS),
    )


def topk_predictions(
    cap: Capture, labels: Optional[Sequence[str]], image: int = 0, k: int = 5
) -> pd.DataFrame:
    """The ``k`` most probable classes of image ``image``: columns ``rank``, ``class_index``,
    ``label``, ``probability``.

    Probabilities are the softmax of the captured logits (0–1, float64). ``labels`` maps class
    indices to names; missing or short label lists fall back to ``"class i"`` rather than
    failing, because user-supplied weights can have any number of classes.
    """
    i = check_image(cap, image)
    p = cap.probabilities()[i]
    k = max(0, min(int(k), p.size))
    idx = np.argsort(-p, kind="stable")[:k]
    labels = list(labels or [])
    return pd.DataFrame(
        {
            "rank": np.arange(1, k + 1, dtype="int64"),
            "class_index": idx.astype("int64"),
            "label": [labels[j] if j < len(labels) else f"class {j}" for j in idx],
            "probability": p[idx],
        }
    )


#: A prediction is "near chance" when its softmax keeps at least this share of the uniform
#: distribution's entropy (log K): see :data:`NEAR_CHANCE_RULE`.
NEAR_CHANCE_ENTROPY: float = 0.9

NEAR_CHANCE_RULE: str = (
    "A prediction is called near chance when the entropy of its class probabilities is at least "
    f"{NEAR_CHANCE_ENTROPY:.0%} of the entropy of pure guessing (log K for K classes): the network "
    "spreads its belief almost evenly over all classes, whatever its top-1 happens to be."
)


def prediction_entropy(probabilities: np.ndarray) -> float:
    """Shannon entropy of one image's class probabilities (K,) divided by log K, in [0, 1]:
    1 for pure guessing, 0 for certainty."""
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if p.size == 0:
        raise ValueError("A prediction needs at least one class probability.")
    return gate_entropy(p)  # the same normalised entropy: p is already a distribution


def near_chance(probabilities: np.ndarray, threshold: float = NEAR_CHANCE_ENTROPY) -> bool:
    """True when a prediction is no better than guessing, judged from the whole distribution.

    ``probabilities`` is one image's class probabilities (K,), e.g. ``cap.probabilities()[i]``.
    The rule (:data:`NEAR_CHANCE_RULE`): normalised entropy ≥ ``threshold``. A top-1 threshold
    would flip between 0.2 % and 0.3 % of 1000 classes although both are noise; the entropy of
    both is above 0.99. This is the typical sign of untrained or wrong weights, or of an image
    unlike anything the network was trained on.
    """
    return prediction_entropy(probabilities) >= threshold


def gate_spread(cap: Capture) -> pd.DataFrame:
    """How far each block's gates spread over all images and channels of ``cap``.

    One row per block in forward order: ``block``, ``min``, ``max``, ``std`` of its gates s. An
    untrained network's gates are not "near 0.5": this measures what they really do.
    """
    rows = []
    for name in cap.block_names:
        s = np.asarray(cap.gates[name], dtype=np.float64)
        rows.append({"block": name, "min": float(s.min()), "max": float(s.max()), "std": float(s.std())})
    return pd.DataFrame(rows, columns=["block", "min", "max", "std"])
