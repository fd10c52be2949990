"""The kinds of channel gate se_viz names, and the one test for each thing a kind is told by.

Both finders — the structural rule (:mod:`.blocks`) and the behavioural probe (:mod:`.probe`) —
ask these questions; each is answered here once, so the two cannot disagree on what a sigmoid,
a dense layer or a Gather-Excite module is.
"""

from __future__ import annotations

from typing import Optional

from torch import nn

from ..i18n import N_

__all__ = ["KINDS", "dense_dims", "gate_activation", "is_gather_excite"]

# Every kind of channel gate se_viz names: kind → what the block label, manifest and docs say.
# This is the one place a kind is put into words (the app's labels and the docs read it here).
# English in files (manifests); marked so a view shows a kind in the reader's language: _(label).
KINDS: dict[str, str] = {
    "se": N_("SE (sigmoid module)"),
    "se-functional": N_("SE (functional sigmoid)"),
    "eca": "ECA",
    "ese": N_("Effective SE (ESE)"),
    "cbam-channel": N_("CBAM channel gate"),
    "light-cbam-channel": N_("Light CBAM channel gate"),
    "gc": N_("Global Context (GC)"),
    "gather-excite": "Gather-Excite",
    "channel-scale": N_("other per-channel rescaling"),
}


def gate_activation(module: nn.Module) -> str:
    """``"sigmoid"`` or ``"hard-sigmoid"`` when the module is a gate nonlinearity, else ``""``.

    Told by the class name, whatever library defined it (``nn.Sigmoid``, timm's ``HardSigmoid``,
    ``Hardsigmoid`` …); SiLU and Swish hold a sigmoid but are activations, not gates.
    """
    name = type(module).__name__.lower()
    if "sigmoid" not in name or "swish" in name or "silu" in name:
        return ""
    return "hard-sigmoid" if "hard" in name else "sigmoid"


def dense_dims(module: nn.Module) -> Optional[tuple[int, int]]:
    """(in, out) of a dense layer — ``nn.Linear`` or a 1×1 ungrouped ``nn.Conv2d`` — else None."""
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (1, 1) and module.groups == 1:
        return module.in_channels, module.out_channels
    return None


def is_gather_excite(module: nn.Module) -> bool:
    """timm's ``GatherExcite`` (or a module named after it): its gate reads like SE, its name differs."""
    return "gatherexcite" in type(module).__name__.lower()
