"""Captures with random gates and no model behind them: test data at realistic sizes.

Test-only (it lived in ``se_viz.demo`` before, and shipped in the wheel for no user).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from se_viz.engine.blocks import BlockInfo
from se_viz.engine.capture import Capture

#: SE-ResNet-50: (blocks, channels) per stage 2…5 — 16 SE blocks of 256…2048 channels.
R50_LAYOUT: tuple[tuple[int, int], ...] = ((3, 256), (4, 512), (6, 1024), (3, 2048))


def random_capture(
    layout: Sequence[tuple[int, int]] = R50_LAYOUT,
    n: int = 500,
    num_classes: int = 4,
    seed: int = 0,
) -> Capture:
    """A capture of ``n`` images with uniform random gates in [0, 1] and no model behind it.

    ``layout`` lists (blocks, channels) per stage, starting at stage 2 as in the paper (the
    default is SE-ResNet-50's 16 blocks); block names are ``SE_s_b`` with paths
    ``layer{s-1}.{b-1}.se_module``. Squeeze values are random normals and the logits random
    over ``num_classes`` classes. For tests and for timing the figures at realistic sizes.
    """
    rng = np.random.default_rng(seed)
    blocks, gates, squeeze = [], {}, {}
    for s, (count, channels) in enumerate(layout, start=2):
        for b in range(1, count + 1):
            name, path = f"SE_{s}_{b}", f"layer{s - 1}.{b - 1}.se_module"
            blocks.append(
                BlockInfo(
                    name=name,
                    path=path,
                    channels=int(channels),
                    reduced=max(1, math.ceil(channels / 16)),
                    gate_kind="sigmoid",
                    paper_name=name,
                    reduce_path=f"{path}.fc1",
                    gate_path=f"{path}.sigmoid",
                    module_type="SEModule",
                    index=len(blocks),
                )
            )
            gates[name] = rng.random((n, channels), dtype=np.float32)
            squeeze[name] = rng.standard_normal((n, channels), dtype=np.float32)
    logits = rng.standard_normal((n, num_classes), dtype=np.float32)
    return Capture(blocks=blocks, gates=gates, squeeze=squeeze, logits=logits)
