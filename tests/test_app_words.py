"""Words that are true: the untrained banner states the spread it measured (AppTest)."""

from __future__ import annotations

from test_app import APP, _assert_clean

import se_viz

TIMEOUT = 60


def test_the_untrained_banner_states_the_measured_gate_spread(app_env):
    from streamlit.testing.v1 import AppTest

    from se_viz import analysis
    from se_viz.loading.samples import sample_photos

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"model": se_viz.MINI_MODEL, "weights": "untrained", "fit": "pad"})
    at.run()
    _assert_clean(at)
    banner = next(w.value for w in at.warning if "Untrained network" in w.value)
    assert "near 0.5" not in banner
    # The same numbers, measured here through the library on the same photo and fit.
    lm = se_viz.load_model(se_viz.MINI_MODEL, pretrained=False)
    photo = sample_photos()[0]
    cap = se_viz.capture(lm.model, lm.preprocess([se_viz.load_image(photo.data)], fit="pad"))
    widest = analysis.gate_spread(cap).sort_values("std", ascending=False, kind="stable").iloc[0]
    assert photo.title in banner and widest["block"] in banner
    assert f"between {widest['min']:.2f} and {widest['max']:.2f} (std {widest['std']:.2f}" in banner
