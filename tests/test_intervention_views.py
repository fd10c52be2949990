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


def test_sweep_view_runs_with_a_progress_bar():
    at = AppTest.from_function(_sweep_app, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.get("plotly_chart")
    at.button(key="iv_sweep_run").click().run()
    assert not at.exception
    assert at.get("progress"), "a progress bar is drawn while the sweep runs"
    fig = _figs(at)[0]
    assert "Knock-out sweep" in fig["layout"]["title"]["text"]
    assert sum(len(t["x"]) for t in fig["data"]) == 8  # one bar per SE block of the mini model
    assert len(at.dataframe[0].value) == 8


def test_set_ablation_view_on_generated_images():
    at = AppTest.from_function(_set_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.select_slider(key="iv_set_n").set_value(50).run()
    at.button(key="iv_set_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["condition"].iloc[0] == "unmodified" and "SE in stage 5 only" in set(table["condition"])
    assert table["accuracy"].notna().all()


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
