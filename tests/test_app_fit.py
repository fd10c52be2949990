"""Every view computes on the image it names: one input per image, whatever the fit.

A wide image is cropped and padded very differently, so a view that preprocessed on its own (as
Interventions and Teach once did, always with the centre crop) shows numbers of another input.
The app is driven through AppTest; the numbers each view computed are read back from the
process-wide stores, under the one result key every view uses.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from test_app import APP, _assert_clean, _view

import se_viz

TIMEOUT = 60


def _wide_png() -> bytes:
    """A 192×48 image whose left, middle and right differ: the crop keeps only the middle."""
    from PIL import Image

    x = np.linspace(0, 1, 192)[None, :, None]
    y = np.linspace(0, 1, 48)[:, None, None]
    rgb = np.concatenate(
        [np.broadcast_to(x, (48, 192, 1)), np.broadcast_to(y, (48, 192, 1)), (x * y) ** 0.5], 2
    )
    buf = io.BytesIO()
    Image.fromarray((rgb * 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_every_view_computes_on_the_fitted_image(app_env, fit):
    from streamlit.testing.v1 import AppTest

    from se_viz import interventions as iv
    from se_viz.ui.cache import capture_store, image_digest, result_key, result_store
    from se_viz.ui.state import ModelChoice

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.segmented_control(key="fit").set_value(fit)
    data = _wide_png()
    at.sidebar.file_uploader[0].set_value(("wide.png", data, "image/png"))
    at.run()
    _assert_clean(at)
    at = _view(at, "Interventions")
    at.selectbox(key="iv_edit_block").set_value("SE_5_2").run()
    at.segmented_control(key="interventions_question").set_value("knock-out sweep").run()
    at.button(key="iv_sweep_run").click().run()
    at = _view(at, "Teach one block")
    _assert_clean(at)

    digest, choice = image_digest(data), ModelChoice(se_viz.MINI_MODEL)
    # Predictions, heatmap and drill-down all draw this one capture (with every block's maps).
    cap = capture_store().get(result_key("capture", digest, choice, fit), True, pytest.fail)
    store = result_store()
    edited = store.peek(result_key("intervene", digest, choice, fit, "SE_5_2", iv.neutralise()))
    sweep = store.peek(result_key("sweep", digest, choice, fit))
    walk = store.peek(result_key("walk", digest, choice, fit, "SE_2_1"))
    assert edited is not None and sweep is not None and walk is not None

    np.testing.assert_allclose(edited.before.logits, cap.logits, atol=1e-5)
    np.testing.assert_allclose(sweep.base_logits, cap.logits, atol=1e-5)
    np.testing.assert_allclose(walk.s, cap.gates["SE_2_1"][0], atol=1e-5)
    np.testing.assert_allclose(walk.z, cap.squeeze["SE_2_1"][0], atol=1e-5)

    # And the fit matters for this image: the other fit gives other numbers.
    lm = se_viz.load_model(se_viz.MINI_MODEL)
    other = "pad" if fit == "crop" else "crop"
    x = lm.preprocess([se_viz.load_image(data)], fit=other)
    assert np.abs(se_viz.capture(lm.model, x, blocks=lm.blocks).logits - cap.logits).max() > 1e-2


def test_no_view_keys_results_any_other_way():
    """The result store refuses any key but a ResultKey, and no UI module hashes pixels."""
    import ast
    from pathlib import Path

    from se_viz.ui.cache import ResultStore

    store = ResultStore(2)
    with pytest.raises(TypeError):
        store.get(("sweep", "model|published", "abc"), lambda: 1)
    ui = Path(se_viz.__file__).parent / "ui"
    for path in ui.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        assert "tobytes" not in calls, f"{path.name} hashes pixels"


def _fingerprint(at) -> str:
    """What the open view shows, minus the image picker itself."""
    parts = [el.proto.spec for el in at.get("plotly_chart")]
    parts += [m.value for m in at.markdown] + [m.value for m in at.metric] + [str(t.value) for t in at.table]
    parts += [s.value for s in at.subheader]
    return "\n".join(parts)


def test_the_image_picker_names_exactly_the_views_it_drives(app_env):
    """Switch the picked image in every tab: the views the picker's label names change, the others
    do not (the label is derived from the tab list, so a new view cannot be left out silently)."""
    from streamlit.testing.v1 import AppTest

    from se_viz.ui import DETAIL_VIEWS, VIEWS, picker_label

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.sidebar.multiselect(key="samples").set_value(["synthetic_star.png", "synthetic_ring.png"]).run()
    label = at.selectbox(key="detail_image").label
    assert label == picker_label() and all(v.lower() in label for v in DETAIL_VIEWS)
    driven = []
    for view in VIEWS:
        at = _view(at, view)
        shown = {}
        for image in ("synthetic_star.png", "synthetic_ring.png"):
            at.selectbox(key="detail_image").set_value(image).run()
            _assert_clean(at)
            shown[image] = _fingerprint(at)
        if shown["synthetic_star.png"] != shown["synthetic_ring.png"]:
            driven.append(view)
    assert driven == DETAIL_VIEWS
