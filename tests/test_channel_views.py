"""The Channels tab driven by Streamlit's AppTest: the drill-down opens a channel's atlas, and the
pruning view runs on the user's own (unlabelled) images."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import se_viz
from se_viz.demo import synthetic
from se_viz.ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 180


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def app_with_images(app_env):
    """The app on the bundled SE-ResNet mini with four generated images uploaded."""
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    pixels, _ = synthetic.generate(4, seed=11)
    files = [(f"img_{i}.png", _png(p), "image/png") for i, p in enumerate(pixels)]
    at.sidebar.file_uploader[0].set_value(files)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _figures(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_drilldown_opens_the_atlas_and_pruning_runs_on_unlabelled_uploads(app_with_images):
    at = app_with_images
    at.session_state["view"] = "Block drill-down"
    at.run()
    block = at.selectbox(key="drill_block").value
    at.selectbox(key=state.CHANNEL).set_value(7).run()
    at.button(key="drill_atlas").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["view"] == "Channels"
    assert at.selectbox(key="atlas_block").value == block and at.number_input(key="atlas_channel").value == 7
    titles = [f["layout"]["title"]["text"] for f in _figures(at)]
    assert any(t.startswith(f"Channel 7 of {block}") and "of 4 images" in t for t in titles), titles
    assert any("Class mix of the top" in m.value for m in at.markdown)
    # Rank by the squeeze instead: the title says so.
    at.segmented_control(key="atlas_by").set_value("squeeze z").run()
    assert any("by squeeze z_c" in f["layout"]["title"]["text"] for f in _figures(at))

    # The same session (one app start: they are slow) asks the pruning question of the uploads.
    at.segmented_control(key="channels_question").set_value("pruning").run()
    at.selectbox(key="prune_source").set_value("your images").run()
    at.multiselect(key="prune_blocks").set_value(["SE_5_2"]).run()
    at.button(key="prune_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # No labels: accuracy is not offered, agreement is shown with one line per ranking kind.
    assert "top-1 accuracy" not in at.segmented_control(key="prune_measure").options
    (fig,) = _figures(at)
    names = {t.get("name", "") for t in fig["data"] if t.get("mode") == "lines+markers"}
    assert {"mean gate", "gate × gradient", "weight L1"} <= names
    assert any(n.startswith("random (mean of 5") for n in names)
    assert "1 block(s)" in fig["layout"]["title"]["text"]
