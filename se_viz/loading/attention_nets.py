"""Networks built from timm's attention layers for which timm registers no model name.

timm builds any of its ResNets with another attention module (``block_args=dict(attn_layer=…)``)
but publishes no name or weights for most of them; the catalog names them through a factory in
this module, so the CBAM ResNet people ask about can be picked like any other model (untrained:
structure only).
"""

from __future__ import annotations

import timm
from torch import nn

__all__ = ["cbam_resnet26"]


def cbam_resnet26() -> nn.Module:
    """timm's ResNet-26 with CBAM (channel gate, then spatial gate) in every bottleneck, untrained.

    ``zero_init_last=False`` so that, untrained, the attention modules see non-zero maps (timm
    zero-initialises the last BatchNorm of every residual branch otherwise, and every gate would
    sit at σ(0) = 0.5 on a zero input).
    """
    return timm.create_model(
        "resnet26", pretrained=False, block_args=dict(attn_layer="cbam"), zero_init_last=False
    )
