"""The bundled model's card cannot drift from the code: its descriptive parts are regenerated here."""

import importlib
import re
from pathlib import Path

import pytest

from se_viz.demo import colour_pair_drawings, model_card, plain_drawings, synthetic, texture_drawings
from se_viz.demo.mini import build_mini, read_config
from se_viz.demo.train import DEFAULTS, card_facts, run_facts, training_recipe
from se_viz.loading.catalog import MODELS_DIR

CARD = MODELS_DIR / "se_resnet_mini.md"
WEIGHTS = MODELS_DIR / "se_resnet_mini.safetensors"
REPO = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    config = read_config(MODELS_DIR / "se_resnet_mini.json")
    meta = run_facts(WEIGHTS)
    return model_card.described_blocks(
        config, build_mini(config), WEIGHTS, card_facts(meta), training_recipe(meta)
    )


def test_committed_card_says_what_the_code_does():
    # Architecture, classes, generator, both drawing routines, recipe and method, regenerated
    # from the code's constants and the weights' recorded run facts, stand verbatim in the card.
    # Only measured lines (accuracies, gate statistics, wall time, versions) are not compared.
    card = CARD.read_text(encoding="utf-8")
    missing = [block for block in _blocks() if block not in card]
    assert not missing, "models/se_resnet_mini.md is stale; run `se-viz train-demo --report-only`:\n" + (
        "\n---\n".join(missing)
    )


@pytest.mark.parametrize(
    ("module", "name", "value"),
    [
        (synthetic, "CLUTTER_ITEMS", (3, 9)),
        (synthetic, "DOT_RADIUS", (0.1, 0.2)),
        (plain_drawings, "CHECKER_CELLS", (4, 7)),
        (plain_drawings, "CANVAS_PX", (100, 150)),
        (texture_drawings, "DOTS_PER_ROW", (2, 5)),
        (texture_drawings, "ROTATED_P", 0.25),
        (synthetic, "EQUAL_BRIGHTNESS_P", 0.2),
        (synthetic, "LOOK_ALIKE_DOT_PERIOD_PX", (5.0, 6.0)),
        (synthetic, "LOOK_ALIKE_SMALL_BOX_P", 0.3),
        (colour_pair_drawings, "CELL_PX", (3.0, 4.0)),
    ],
)
def test_a_changed_constant_changes_the_card(monkeypatch, module, name, value):
    # The comparison above can fail: the card's text follows the routines' constants.
    before = _blocks()
    monkeypatch.setattr(module, name, value)
    assert _blocks() != before


def test_card_names_only_modules_and_files_that_exist():
    # Stale module names (``se_viz.synthetic``, ``se_viz.specificity``) once shipped in the card.
    card = CARD.read_text(encoding="utf-8")
    dotted = set(re.findall(r"`(se_viz(?:\.\w+)+)[`(]", card))
    paths = set(re.findall(r"`(se_viz/[\w/]+\.py)`", card))
    assert dotted and paths
    for name in dotted:
        module, _, attr = name.rpartition(".")
        try:
            importlib.import_module(name)
        except ImportError:
            assert hasattr(importlib.import_module(module), attr), name
    for path in paths:
        assert (REPO / path).is_file(), path


def test_card_states_the_four_test_sets_and_their_seeds():
    card = CARD.read_text(encoding="utf-8")
    facts = card_facts(run_facts(WEIGHTS))
    assert f"on {facts['eval_size']} generated images (seed {DEFAULTS['eval_seed']}" in card
    assert f"on {facts['plain_size']} drawings (seed {facts['plain_seed']})" in card
    assert f"on {facts['texture_size']} drawings (seed {facts['texture_seed']})" in card
    assert f"on {facts['colour_pair_size']} drawings (seed {facts['colour_pair_seed']})" in card


def test_interpretation_of_gates_that_rise_with_every_stage():
    # All-rising stages once crashed the card writer (a strict zip over consecutive pairs).
    from types import SimpleNamespace

    def stage(s, ratio, between):
        return SimpleNamespace(stage=s, ratio=ratio, between=between, saturated=0.1, mean_gate=0.6)

    spec = SimpleNamespace(stages=[stage(2, 0.9, 0.05), stage(3, 1.5, 0.1), stage(4, 2.5, 0.2)])
    text = model_card.interpretation(spec)
    assert "It rises with every stage" in text and "drift apart with depth" in text
    falling = SimpleNamespace(stages=[stage(2, 2.0, 0.2), stage(3, 1.0, 0.1)])
    assert "does not rise steadily" in model_card.interpretation(falling)
