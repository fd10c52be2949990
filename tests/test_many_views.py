"""The many-image views under Streamlit's AppTest: they draw, say the right things, and never
run the network (a forward hook on the model counts passes through every interaction)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from random_captures import random_capture
from streamlit.testing.v1 import AppTest

import se_viz
from se_viz.demo.gate_set import BATCH_SIZE, demo_gate_set
from se_viz.figures import PAPER_FIG6, PAPER_FIG7, PAPER_PRUNING, PAPER_SPECIFICITY

TIMEOUT = 90


def _compare_app(cap, names, thumbs):
    from se_viz.ui.many_views import render_compare

    render_compare(cap, names, thumbs)


def _classes_app(cap, names, thumbs, lm, labels):
    from se_viz.ui.many_views import render_classes

    render_classes(cap, names, thumbs, class_names=lm.labels if lm is not None else None, labels=labels)


def _demo_app(lm, per_class, out):
    import streamlit as st

    from se_viz.ui.many_views import render_demo_button

    gate_set = render_demo_button(lm, per_class=per_class)
    if gate_set is not None:
        out.append(gate_set)
        st.write(f"demo: {gate_set.capture.num_images} images")


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model("se_resnet_mini.synthetic")


@pytest.fixture(scope="module")
def gate_set(mini):
    return demo_gate_set(mini, per_class=4, seed=3)


@pytest.fixture
def passes(mini):
    """Forward passes through the mini model while the test runs."""
    count = []
    handle = mini.model.register_forward_pre_hook(lambda *_: count.append(1))
    yield count
    handle.remove()


def _charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _titles(at) -> list[str]:
    return [c["layout"]["title"]["text"] for c in _charts(at)]


def _text(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_compare_view_draws_heatmaps_and_distances(gate_set, passes):
    cap, names, thumbs = gate_set.capture, gate_set.names, gate_set.thumbnails
    at = AppTest.from_function(_compare_app, default_timeout=TIMEOUT, args=(cap, names, thumbs)).run()
    assert not at.exception
    titles = _titles(at)
    assert len(titles) == 2 and titles[0].startswith("Gates of 2 images side by side")
    assert titles[1].startswith("Where the network treats the images alike")
    assert f"**{names[0]} ↔ {names[1]}**: most alike at" in _text(at)
    assert len(at.get("image")) == 2  # the two chosen images as thumbnails
    # Four images: four image columns plus the spread.
    at.multiselect[0].set_value([0, 1, 2, 3]).run()
    assert not at.exception
    heat = _charts(at)[0]
    assert sum(t["type"] == "heatmap" for t in heat["data"]) == 4 * 5  # 4 stages × (4 images + spread)
    assert "spread max − min" in _titles(at)[0] or "spread" in json.dumps(heat["layout"]["annotations"])
    assert passes == []


def test_compare_view_needs_two_images(gate_set):
    one = gate_set.capture.select(0)
    at = AppTest.from_function(
        _compare_app, default_timeout=TIMEOUT, args=(one, gate_set.names[:1], None)
    ).run()
    assert not at.exception and "two to four images" in at.info[0].value


def test_class_views_on_the_demonstration(gate_set, mini, passes):
    cap = gate_set.capture
    at = AppTest.from_function(
        _classes_app,
        default_timeout=TIMEOUT,
        args=(cap, gate_set.names, gate_set.thumbnails, mini, gate_set.labels),
    ).run()
    assert not at.exception
    titles = _titles(at)
    assert any("Fig. 6" in t for t in titles) and any("Fig. 7" in t for t in titles)
    assert any(t.startswith("Class specificity against depth") for t in titles)
    assert any(t.startswith("Saturation per SE block") for t in titles)
    assert any(t.startswith("Images by how the network recalibrates them") for t in titles)
    text = _text(at)
    for caption in (PAPER_FIG6, PAPER_FIG7, PAPER_SPECIFICITY, PAPER_PRUNING):
        assert caption in text
    assert "Most class-specific:" in text
    assert "No block is close to identity" in text and "The nearest is SE_" in text  # in words
    # Grouping from the given labels: ten classes of four images; default blocks are the paper's.
    assert at.radio[0].value == "given labels"
    assert "10 group(s)" in at.caption[0].value
    assert at.multiselect[0].value == ["SE_2_2", "SE_3_2", "SE_4_2", "SE_5_1", "SE_5_2"]
    fig6 = next(c for c in _charts(at) if "Fig. 6" in c["layout"]["title"]["text"])
    assert sum(t.get("showlegend", True) is not False for t in fig6["data"]) == 11  # 10 classes + all
    # Nearest images: the chosen one and five neighbours as thumbnails.
    assert len(at.get("image")) == 6
    # Interactions: other grouping, all channels, another image, another scope — no forward pass.
    at.radio[0].set_value("predicted class").run()
    at.radio[1].set_value("all channels").run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("many_query_"))).set_value(7).run()
    scope = next(s for s in at.selectbox if s.key.startswith("many_scope_"))
    scope.set_value("SE_3_1").run()
    assert not at.exception
    fig6 = next(c for c in _charts(at) if "Fig. 6" in c["layout"]["title"]["text"])
    x_titles = {v.get("title", {}).get("text") for k, v in fig6["layout"].items() if k.startswith("xaxis")}
    assert "channel index" in x_titles
    assert passes == []


def test_class_views_on_uploads_with_folders_and_one_group():
    # An SE-ResNet-50 layout with random gates; files in one folder per class.
    cap = random_capture(n=12, num_classes=3, seed=2)
    names = [f"{k}/{k}_{i}.jpg" for i, k in enumerate(["pug", "plane", "cliff"] * 4)]
    at = AppTest.from_function(
        _classes_app, default_timeout=TIMEOUT, args=(cap, names, None, None, None)
    ).run()
    assert not at.exception
    assert list(at.radio[0].options) == ["predicted class", "file-name prefix", "folder"]
    assert at.multiselect[0].value == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]
    at.radio[0].set_value("folder").run()
    assert not at.exception and "3 group(s): cliff (4), plane (4), pug (4)" in at.caption[0].value
    assert len(at.dataframe) == 1  # no thumbnails: the neighbours as a table
    # One group only: a clear message, the other views still drawn.
    same = [f"x_{i}.jpg" for i in range(12)]
    at = AppTest.from_function(
        _classes_app, default_timeout=TIMEOUT, args=(cap, same, None, None, None)
    ).run()
    at.radio[0].set_value("file-name prefix").run()
    assert not at.exception and "one group" in at.warning[0].value
    assert any(t.startswith("Saturation per SE block") for t in _titles(at))


def test_demo_button_says_its_cost_and_runs_the_network_once_per_batch_on_click(mini, passes):
    out = []
    at = AppTest.from_function(_demo_app, default_timeout=TIMEOUT, args=(mini, 8, out)).run()
    assert not at.exception and out == []
    assert at.button[0].label == "Analyse 80 generated images"
    # Before the click: its size and the seconds measured for this model (the calibration is the
    # only network run so far).
    assert re.fullmatch(r"80 images: about \d+ s on this server \(you can cancel it\)", at.caption[-1].value)
    calibration = len(passes)
    at.button[0].click().run()
    assert not at.exception
    assert len(out) == 1 and out[0].capture.num_images == 80
    assert len(passes) - calibration == math.ceil(80 / BATCH_SIZE)
    assert "demo: 80 images" in at.markdown[0].value
    at.run()  # handed over once per click: the next run of the page gets nothing new
    assert len(out) == 1
    assert (
        np.mean(out[0].labels == se_viz.analysis.groups_from_predictions(out[0].capture.logits, mini.labels))
        > 0.9
    )
