"""The intervention views, driven by Streamlit's AppTest on the bundled mini model (offline)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

TIMEOUT = 120


def _input(img, fit: str = "crop"):
    """An image as the app hands it to a view: PNG bytes, their SHA-256, the model choice, the fit."""
    import io

    import se_viz
    from se_viz.ui.cache import NetworkInput, image_digest
    from se_viz.ui.state import ModelChoice

    buf = io.BytesIO()
    img.save(buf, format="PNG")
    data = buf.getvalue()
    return NetworkInput(data, image_digest(data), ModelChoice(se_viz.MINI_MODEL), fit)


def _intervene_app():
    from test_intervention_views import _input

    import se_viz
    from se_viz.demo import synthetic
    from se_viz.ui.intervention_views import render_intervene

    lm = se_viz.load_model(se_viz.MINI_MODEL)
    examples = synthetic.example_images(seed=0, per_class=1)
    group = se_viz.capture(lm.model, lm.preprocess([img for _, img in examples[1:4]]), blocks=lm.blocks)
    render_intervene(lm, _input(examples[0][1]), "red circle example", group=group)


def _sweep_app():
    from test_intervention_views import _input

    import se_viz
    from se_viz.demo import synthetic
    from se_viz.ui.intervention_views import render_sweep

    lm = se_viz.load_model(se_viz.MINI_MODEL)
    render_sweep(lm, _input(synthetic.example_images(seed=3, per_class=1)[5][1]), "stripes example")


def _set_app():
    import se_viz
    from se_viz.ui.intervention_views import render_set_ablation
    from se_viz.ui.state import ModelChoice

    render_set_ablation(se_viz.load_model(se_viz.MINI_MODEL), ModelChoice(se_viz.MINI_MODEL), "crop")


def _teach_app():
    import streamlit as st
    from test_intervention_views import _input

    import se_viz
    from se_viz.demo import synthetic
    from se_viz.ui.intervention_views import render_teach

    projector = st.toggle("projector", key="projector")  # the app's own display setting
    lm = se_viz.load_model(se_viz.MINI_MODEL)
    example = synthetic.example_images(seed=0, per_class=1)[8][1]
    render_teach(lm, _input(example), "checkerboard example", projector=projector)


def _figs(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_intervene_view_shows_old_and_new_top5():
    at = AppTest.from_function(_intervene_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.metric[0].value == "red circle"
    figs = _figs(at)
    assert figs and "Top-5 before and after" in figs[0]["layout"]["title"]["text"]
    at.selectbox(key="iv_edit_kind").set_value("replace by group mean").run()
    assert not at.exception and "mean of 3 image(s)" in _figs(at)[0]["layout"]["title"]["text"]
    at.selectbox(key="iv_edit_kind").set_value("switch off top-k").run()
    assert not at.exception and at.slider(key="iv_edit_k").value == 5


def _words(at) -> str:
    return " ".join(str(el.value) for kind in ("markdown", "caption", "text") for el in at.get(kind))


def test_sweep_view_runs_and_its_bar_goes_when_done():
    at = AppTest.from_function(_sweep_app, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.get("plotly_chart")
    at.button(key="iv_sweep_run").click().run()
    assert not at.exception
    # Finished: no bar and no "rerunning …" line stays under the button.
    assert not at.get("progress") and "rerunning" not in _words(at)
    fig = _figs(at)[0]
    assert "Knock-out sweep" in fig["layout"]["title"]["text"]
    assert sum(len(t["x"]) for t in fig["data"]) == 8  # one bar per SE block of the mini model
    table = at.dataframe[0]
    assert len(table.value) == 8
    config = json.loads(table.proto.columns)
    assert config["delta_logprob"]["label"] == "Δ log p of the predicted class (nats)"
    assert "percentage points" in config["delta_prob"]["label"] and "new_top1" in config
    assert table.value["delta_prob"].abs().max() <= 100.0 and not table.value.isna().any().any()


def test_progress_line_counts_steps_of_a_known_total():
    from se_viz.ui.intervention_views import progress_text

    fraction, line = progress_text("Sweep", 3, 10, "rerunning layer2.0")
    assert fraction == 0.3 and line == "Sweep — step 3 of 10: rerunning layer2.0"
    assert progress_text("Sweep", 12, 10, "head")[0] == 1.0  # never drawn past the end


def test_set_ablation_view_on_generated_images():
    at = AppTest.from_function(_set_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.select_slider(key="iv_set_n").set_value(50).run()
    at.button(key="iv_set_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["condition"].iloc[0] == "unmodified" and "SE in stage 5 only" in set(table["condition"])
    assert table["accuracy"].notna().all() and table["top1_agreement"].iloc[0] == 100.0
    assert not table.isna().any().any() and "None" not in set(table["stage"])  # empty, not "None"
    labels = {k: v.get("label") for k, v in json.loads(at.dataframe[0].proto.columns).items()}
    assert labels["top1_agreement"] == "same top-1 as the unedited network (% of images)"
    assert labels["mean_delta_logprob"] == "mean Δ log p of the unedited top-1 (nats)"
    fig = _figs(at)[0]
    assert "images (%): same top-1 as the unedited network" in fig["layout"]["xaxis"]["title"]["text"]
    assert "over 50 images" in fig["layout"]["title"]["text"]
    assert not at.get("progress")


def test_teach_view_walks_five_steps_and_enlarges_for_a_projector():
    at = AppTest.from_function(_teach_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert len(at.subheader) == 5 and len(at.latex) >= 5
    normal = _figs(at)
    assert len(normal) == 5
    at.toggle(key="projector").set_value(True).run()
    assert not at.exception
    big = _figs(at)
    assert big[0]["layout"]["font"]["size"] > normal[0]["layout"]["font"]["size"]
    assert all(r"\Large" in el.value for el in at.latex)
