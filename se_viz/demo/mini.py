"""The architecture of "SE-ResNet mini", the small SE network this project trains and bundles.

It is timm's own ``ResNet`` with basic blocks and ``attn_layer='se'`` (timm's ``SEModule``), so
it has exactly the SE blocks of a timm SE-ResNet — ``layer{s-1}.{b-1}.se`` → ``SE_s_b`` — and
loads through the same ``load_model`` path as every other catalog model. Its configuration
(classes, widths, input size, normalisation) lives in ``models/se_resnet_mini.json`` next to the
committed weights, written by ``se-viz train-demo``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from timm.models.resnet import BasicBlock, ResNet
from torch import nn

__all__ = ["DEFAULT_CONFIG", "build_mini", "read_config"]

DEFAULT_CONFIG: dict[str, Any] = {
    "architecture": "se_resnet_mini",
    "layers": [2, 2, 2, 2],
    "channels": [16, 32, 64, 128],
    "stem_width": 16,
    # timm's stem downsamples 4× (7×7 conv stride 2, then max-pool); at 64×64 that leaves 2×2
    # maps in the last stage. Without the pool the stem downsamples 2× (64→32) and stage 5 sees
    # 4×4, at about 2.4× the compute; it has no parameters, so both load the same weights file.
    "stem_pool": True,
    "input_size": [3, 64, 64],
    "mean": [0.5, 0.5, 0.5],
    "std": [0.25, 0.25, 0.25],
    "interpolation": "bilinear",
    "crop_pct": 1.0,
    "classes": [],
}


def read_config(path: Path) -> dict[str, Any]:
    """Read the mini model's JSON config, filling unspecified keys from the defaults."""
    config = dict(DEFAULT_CONFIG)
    config.update(json.loads(Path(path).read_text(encoding="utf-8")))
    return config


def build_mini(config: dict[str, Any]) -> ResNet:
    """Build the (untrained) mini SE-ResNet described by ``config``, with its pretrained_cfg set.

    The pretrained_cfg carries input size, mean/std, interpolation and crop so that timm's
    ``resolve_model_data_config`` gives the preprocessing the model was trained with.
    """
    num_classes = len(config["classes"]) or 10
    model = ResNet(
        block=BasicBlock,
        layers=tuple(config["layers"]),
        channels=tuple(config["channels"]),
        stem_width=int(config["stem_width"]),
        num_classes=num_classes,
        block_args=dict(attn_layer="se"),
    )
    if not config.get("stem_pool", True):
        model.maxpool = nn.Identity()
    model.pretrained_cfg = {
        "architecture": config["architecture"],
        "input_size": tuple(config["input_size"]),
        "mean": tuple(config["mean"]),
        "std": tuple(config["std"]),
        "interpolation": config["interpolation"],
        "crop_pct": float(config["crop_pct"]),
        "crop_mode": "center",
        "num_classes": num_classes,
        "classifier": "fc",
        "first_conv": "conv1",
    }
    model.default_cfg = model.pretrained_cfg
    return model
