"""Image sets that fit the network (issue 27.4, 26.2): the channel commands and views never offer a
network drawn shapes as if it knew them, and say when accuracy needs labels."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
from PIL import Image

import se_viz
from se_viz.cli import main


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_prune_asks_for_images_when_the_model_knows_no_offline_set():
    code, _, err = _run(["prune", "--model", "legacy_seresnet50.in1k", "--untrained", "--json"])
    assert code == 2
    assert "was not trained on any offline image set" in err and "sub-folder per class" in err


def test_prune_on_unlabelled_files_says_accuracy_needs_labels(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / f"p{i}.png")
    code, out, err = _run(["prune", str(tmp_path), "--fractions", "0", "0.5", "--repeats", "1", "--json"])
    assert code == 0, err
    assert "accuracy is not measured" in err
    assert json.loads(out)["base_accuracy"] is None


def test_the_bundled_model_still_defaults_to_its_generated_shapes():
    code, out, err = _run(["prune", "-n", "4", "--fractions", "0", "0.5", "--repeats", "1", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert doc["image_set"] == "generated" and doc["image_args"] == ["generated"]
    assert doc["base_accuracy"] is not None, "the generated shapes carry labels the mini model knows"


def test_the_channel_views_start_an_imagenet_network_on_the_users_images(app_env, r50_checkpoint):
    from streamlit.testing.v1 import AppTest
    from test_app import APP

    app_env("legacy_seresnet50.in1k", r50_checkpoint)
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.sidebar.multiselect(key="samples").set_value(
        ["chelsea_cat.png", "coffee_cup.png", "astronaut.png", "cameraman.png"]
    ).run()
    at.session_state["view"] = "Channels"
    at.run()
    at.segmented_control(key="channels_question").set_value("pruning").run()
    assert not at.exception, [e.value for e in at.exception]
    source = at.selectbox(key="prune_source")
    assert source.value == "your images"
    shown = list(source.options)  # as the page shows them
    assert "generated shapes (not what this network was trained on)" in shown
    assert any("not accuracy" in c.value for c in at.caption), "it says accuracy needs labels"
    assert any("rankings × 10 fractions: about" in c.value for c in at.caption), "the cost is said first"
    assert se_viz  # the package under test
