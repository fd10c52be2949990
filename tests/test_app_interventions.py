"""The intervention and teaching views inside the app (AppTest), on the bundled mini model."""

from __future__ import annotations

from test_app import APP, TIMEOUT, _assert_clean, _errors, _figures, _view

import se_viz


def test_interventions_and_teaching_tabs(app_env):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.button(key="use_synthetic").click().run()
    _assert_clean(at)
    at = _view(at, "Interventions")
    assert not _errors(at) and len(_figures(at)) == 1  # old and new top-5 of the edited block
    assert any("originally predicted" in m.label for m in at.metric)
    at.segmented_control(key="interventions_question").set_value("knock-out sweep").run()
    _assert_clean(at)
    run = next(b for b in at.button if "sweep" in b.label.lower())
    run.click().run()
    _assert_clean(at)
    assert not _errors(at) and _figures(at), "the sweep's chart"
    at.segmented_control(key="interventions_question").set_value("over all images").run()
    _assert_clean(at)
    assert not _errors(at)
    at = _view(at, "Teach one block")
    assert not _errors(at)
    assert len(at.latex) >= 3 and len(_figures(at)) >= 3
    at.sidebar.toggle(key="projector").set_value(True).run()
    _assert_clean(at)
    assert not _errors(at)
