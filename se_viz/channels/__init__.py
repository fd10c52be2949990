"""Channels as first-class questions: what opens one gate, and would the network miss the channel?

* :mod:`.atlas` — a channel's top and bottom images over a set (streamed over gate datasets), its
  feature maps u_c recomputed for those images, the class mix of the top k, its gate histogram;
* :mod:`.rankings` — channel importance by mean gate, gate × gradient, weight L1 and random;
* :mod:`.pruning` — zero the least important channels per ranking and measure what is lost;
* :mod:`.faithfulness` — deletion and insertion curves over channels, with their areas;
* :mod:`.study` — all of it on a set of images in one call (what the CLI and the app run).
"""

from .atlas import ATLAS_FORMAT, AtlasRow, ChannelAtlas, Purity, atlas_of_capture, channel_maps, dataset_atlas
from .faithfulness import FAITHFULNESS_FORMAT, NETWORK, FaithfulnessCurves, faithfulness_curves
from .pruning import (
    FRACTIONS,
    PRUNE_FORMAT,
    SCOPES,
    ChannelCosts,
    ChannelMask,
    PruningCurves,
    channel_costs,
    chosen_channels,
    prune_curves,
)
from .rankings import (
    RANKING_KINDS,
    ChannelRanking,
    block_last_conv,
    gate_gradient_ranking,
    mean_gate_ranking,
    random_rankings,
    standard_rankings,
    weight_l1_ranking,
)

__all__ = [
    "ATLAS_FORMAT",
    "FAITHFULNESS_FORMAT",
    "FRACTIONS",
    "NETWORK",
    "PRUNE_FORMAT",
    "RANKING_KINDS",
    "SCOPES",
    "AtlasRow",
    "ChannelAtlas",
    "ChannelCosts",
    "ChannelMask",
    "ChannelRanking",
    "FaithfulnessCurves",
    "PruningCurves",
    "Purity",
    "atlas_of_capture",
    "block_last_conv",
    "channel_costs",
    "channel_maps",
    "chosen_channels",
    "dataset_atlas",
    "faithfulness_curves",
    "gate_gradient_ranking",
    "mean_gate_ranking",
    "prune_curves",
    "random_rankings",
    "standard_rankings",
    "weight_l1_ranking",
]
