"""Interventions: change SE gates during a forward pass and measure what the prediction does.

* :mod:`.edits` — what to put in place of a block's gates (neutralise, zero, replace, scale,
  switch off the top-/bottom-k channels);
* :mod:`.single` — one intervention on one batch, old and new top-5 side by side;
* :mod:`.chain` — the network as a chain of steps, so passes can restart mid-network;
* :mod:`.sweep` — the knock-out sweep (each block in turn) reusing the unmodified prefix;
* :mod:`.dataset` — the sweep and whole-stage ablations over many images.
"""

from .chain import PrefixRunner, Step, UnitTail, trunk_chain, unit_tail
from .dataset import (
    AblationCondition,
    SetAblationResult,
    ablate_over_images,
    ablation_conditions,
    condition_kind_label,
    condition_label,
)
from .edits import Edit, neutralise, replace, scale, switch_off_bottom, switch_off_top, zero
from .single import InterventionResult, intervene
from .sweep import SweepCost, SweepResult, knock_out_sweep, log_softmax, run_edit_sets, sweep_flop_limit

__all__ = [
    "AblationCondition",
    "InterventionResult",
    "SetAblationResult",
    "ablate_over_images",
    "ablation_conditions",
    "condition_kind_label",
    "condition_label",
    "intervene",
    "Edit",
    "PrefixRunner",
    "Step",
    "UnitTail",
    "SweepCost",
    "SweepResult",
    "knock_out_sweep",
    "log_softmax",
    "neutralise",
    "replace",
    "run_edit_sets",
    "scale",
    "sweep_flop_limit",
    "switch_off_bottom",
    "switch_off_top",
    "trunk_chain",
    "unit_tail",
    "zero",
]
