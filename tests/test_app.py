"""The Streamlit app driven by AppTest: start, inputs, every view's figures, exports, errors.

Models are offline: the app starts from a local weights file (SE_VIZ_MODEL + SE_VIZ_WEIGHTS),
which is exactly the path an operator without network uses. Most tests use SE-ResNet mini
(fast); one uses an untrained SE-ResNet-50 to check the honest per-stage heatmap widths.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import se_viz

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 180


# --------------------------------------------------------------------------------------------
# helpers


def _decode(value):
    """A Plotly JSON array: plain list, or a base64 typed array {dtype, bdata, shape}."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            arr = arr.reshape([int(x) for x in str(value["shape"]).split(",")])
        return arr
    return np.asarray(value)


def _figures(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _axis_titles(fig: dict) -> list[str]:
    out = []
    for key, val in fig["layout"].items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(val, dict) and "title" in val:
            out.append(val["title"].get("text", ""))
    return out


def _png(name: str = "chelsea", size=None) -> bytes:
    from PIL import Image
    from skimage import data

    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    if size:
        img = img.resize(size)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _view(at, name: str):
    at.session_state["view"] = name
    at.run()
    _assert_clean(at)
    return at


# --------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def mini_ckpt(tmp_path_factory) -> Path:
    """SE-ResNet mini weights in a local file (the bundled ones if present, else untrained)."""
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("mini") / "mini.safetensors"
    try:
        lm = se_viz.load_model(se_viz.MINI_MODEL)
    except se_viz.ModelLoadError:
        lm = se_viz.load_model(se_viz.MINI_MODEL, pretrained=False)
    save_file(lm.model.state_dict(), str(path))
    return path


@pytest.fixture(scope="module")
def mini_lm(mini_ckpt):
    return se_viz.load_model(se_viz.MINI_MODEL, weights=mini_ckpt)


@pytest.fixture
def mini_app(app_env, mini_ckpt):
    """The app started on SE-ResNet mini from a local file."""
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, mini_ckpt)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    return at


@pytest.fixture
def mini_with_cat(mini_app):
    mini_app.sidebar.file_uploader[0].set_value(("cat.png", _png("chelsea"), "image/png"))
    mini_app.run()
    _assert_clean(mini_app)
    return mini_app


def _expected_capture(lm, data: bytes):
    return se_viz.capture(lm.model, lm.preprocess([se_viz.load_image(data)]))


# --------------------------------------------------------------------------------------------
# start and inputs


def test_start_shows_title_equations_status_and_empty_state(mini_app):
    at = mini_app
    assert "Squeeze-and-Excitation" in at.title[0].value
    latex = " ".join(el.value for el in at.latex)
    assert len(at.latex) == 3
    assert r"z_c = \frac{1}{H W}" in latex and r"\sigma" in latex and r"s_c \cdot u_c" in latex
    assert at.expander[0].proto.expanded  # the introduction is open until an image is analysed
    assert any("Loaded" in s.value and "local file" in s.value for s in at.sidebar.info)
    assert any("No image yet" in i.value for i in at.info)
    assert at.sidebar.file_uploader[0].accept_multiple_files
    assert set(at.sidebar.file_uploader[0].allowed_type) >= {".jpg", ".png", ".webp", ".bmp", ".gif", ".tiff"}


def test_picker_lists_every_catalog_model_and_untrained_variants(mini_app):
    box = mini_app.sidebar.selectbox[0]
    labels = list(box.options)  # AppTest shows the formatted labels
    text = "\n".join(labels)
    for entry in se_viz.catalog():
        assert any(lbl.startswith(entry.name) for lbl in labels), entry.name
    # Streamlit keeps a selectbox's value by its label: labels must be unique, or picking one
    # model silently loads another (this happened with the three SE-ResNet-50 variants).
    assert len(set(labels)) == len(labels)
    architectures = {e.architecture for e in se_viz.catalog()}
    assert sum("UNTRAINED, structure only" in lbl for lbl in labels) == len(architectures)
    assert "weights from local file mini.safetensors" in text
    # Every option says what it needs: offline here, the hub models need a download.
    assert all(
        ("works offline" in lbl) or ("needs a download" in lbl) or ("local file" in lbl) for lbl in labels
    )
    for entry in se_viz.catalog():
        label = next(lbl for lbl in labels if lbl.startswith(entry.name))
        assert label.endswith("works offline" if entry.offline else "needs a download"), label


def test_offline_start_uses_what_works_and_says_why_in_plain_words(app_env):
    """No env, no network: the app starts on the bundled model and says in one sentence why; the
    paper's network, picked anyway, explains itself plainly with the operator details tucked away."""
    from streamlit.testing.v1 import AppTest

    from se_viz.loading.choice import teaching_choice
    from se_viz.ui.state import ModelChoice

    app_env(None, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    assert teaching_choice() is not None, "the bundled SE-ResNet mini must ship with se_viz"
    assert at.session_state["model"] == ModelChoice(se_viz.MINI_MODEL)
    assert any("no network here" in i.value and "needs a download" in i.value for i in at.info)
    assert not _errors(at)
    at.sidebar.selectbox[0].set_value(ModelChoice(se_viz.DEFAULT_MODEL)).run()
    _assert_clean(at)
    msg = " ".join(_errors(at))
    assert "needs a download" in msg and "HF_HUB_OFFLINE" not in msg and "SE_VIZ_WEIGHTS" not in msg
    details = next(e for e in at.expander if e.label == "Details for the operator")
    assert any("HF_HUB_OFFLINE" in m.value for m in details.markdown)
    keys = [b.key for b in at.button]
    assert {"use_mini", "use_untrained"} <= set(keys) and keys.count("retry") == 1
    assert at.sidebar.file_uploader and at.sidebar.multiselect  # the rest of the app is usable
    at.button(key="use_mini").click().run()
    _assert_clean(at)
    assert not _errors(at)
    assert any("bundled with se_viz" in s.value for s in at.sidebar.success)


def test_untrained_offer_loads_the_same_architecture(app_env):
    """The one-click 'untrained' offer loads the paper's network, not another SE-ResNet-50."""
    from streamlit.testing.v1 import AppTest

    from se_viz.ui.state import ModelChoice, Weights

    app_env(se_viz.DEFAULT_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.button(key="use_untrained").click().run()
    _assert_clean(at)
    assert at.session_state["model"] == ModelChoice(se_viz.DEFAULT_MODEL, Weights.UNTRAINED)
    assert any("Untrained network" in w.value for w in at.warning)
    assert any("untrained, random weights" in w.value for w in at.sidebar.warning)
    assert not any("paper authors" in w.value for w in at.sidebar.warning)
    at.sidebar.file_uploader[0].set_value(("cat.png", _png("chelsea", (320, 240)), "image/png"))
    at.run()
    # The call-out appears exactly when the served (random) network's top-1 is near chance.
    from se_viz.analysis import near_chance
    from se_viz.ui.cache import load_model_cached

    served = load_model_cached(at.session_state["model"])
    probs = _expected_capture(served, _png("chelsea", (320, 240))).probabilities()[0]
    assert any("Near chance" in w.value for w in at.warning) == near_chance(probs)
    _view(at, "Gate heatmap")
    ticks = " ".join(map(str, _figures(at)[0]["data"][0]["y"]))
    assert "SE_2_1 · layer1.0.se_module" in ticks  # the legacy (paper) module names


def _top5(table) -> pd.DataFrame:
    df = table.value
    return df.assign(**{"probability (%)": df["probability (%)"].astype(float)})


def test_upload_shows_predictions_matching_the_model_and_names_a_bad_file(mini_with_cat, mini_lm):
    at = mini_with_cat
    good = _png("coffee")
    at.sidebar.file_uploader[0].set_value(
        [
            ("coffee.png", good, "image/png"),
            ("broken.jpg", b"this is not a jpeg", "image/jpeg"),
            ("empty.webp", b"", "image/webp"),
        ]
    )
    at.run()
    _assert_clean(at)
    errors = _errors(at)
    assert any("broken.jpg" in e and "cannot be used" in e for e in errors)
    assert any("empty.webp" in e for e in errors)
    # The good file still works: its top-5 table equals the model's own top-5.
    tables = [_top5(t) for t in at.table]
    assert len(tables) == 1
    table = tables[0]
    probs = _expected_capture(mini_lm, good).probabilities()[0]
    order = np.argsort(-probs)[:5]
    assert list(table["class index"]) == [int(i) for i in order]
    assert np.allclose(table["probability (%)"].to_numpy(), probs[order] * 100, atol=0.06)
    assert list(table["class"]) == [mini_lm.labels[i] for i in order]
    assert len(at.image) >= 1


def test_sample_gallery_is_one_click_away(mini_app):
    at = mini_app
    at.button(key="use_photos").click().run()
    _assert_clean(at)
    from se_viz.loading.samples import sample_photos

    assert at.sidebar.multiselect[0].value == [s.name for s in sample_photos()]
    assert len(at.table) == len(sample_photos())


# --------------------------------------------------------------------------------------------
# views


def test_heatmap_figure_matches_the_capture(mini_with_cat, mini_lm):
    at = _view(mini_with_cat, "Gate heatmap")
    (fig,) = _figures(at)
    cap = _expected_capture(mini_lm, _png("chelsea"))
    heat = [t for t in fig["data"] if t["type"] == "heatmap"]
    stages = sorted({b.stage for b in cap.blocks})
    assert len(heat) == len(stages)
    for trace, stage in zip(heat, stages, strict=True):
        blocks = [b for b in cap.blocks if b.stage == stage]
        z = _decode(trace["z"])
        assert z.shape == (len(blocks), blocks[0].channels)
        expected = np.stack([cap.gates[b.name][0] for b in blocks])
        assert np.allclose(z, expected, atol=1e-5)
        custom = _decode(trace["customdata"]).reshape(z.shape + (2,))  # (channel, z) per cell
        assert np.array_equal(custom[0, :, 0], np.arange(z.shape[1]))
        assert np.allclose(custom[..., 1], np.stack([cap.squeeze[b.name][0] for b in blocks]), atol=1e-4)
        assert (trace.get("zmin"), trace.get("zmax")) in ((0, 1), (0.0, 1.0), (None, None))
        ticks = " ".join(map(str, trace["y"]))
        assert blocks[0].paper_name in ticks and blocks[0].path in ticks
    assert "channel index" in " ".join(_axis_titles(fig))
    # Sorting by gate reorders each row: first column is the largest gate.
    at.segmented_control(key="heat_sort").set_value("gate ↓").run()
    _assert_clean(at)
    (fig,) = _figures(at)
    z = _decode(fig["data"][0]["z"])
    assert np.allclose(z[:, 0], z.max(axis=1))


def test_distributions_and_summary_table(mini_with_cat, mini_lm):
    at = _view(mini_with_cat, "Distributions")
    figs = _figures(at)
    assert len(figs) == 2
    cap = _expected_capture(mini_lm, _png("chelsea"))
    for fig in figs:
        assert {t["type"] for t in fig["data"]} == {"violin"}
        assert len(fig["data"]) == len(cap.blocks)
    for kind, trace_type in (("box", "box"), ("histogram", "histogram")):
        at.segmented_control(key="dist_kind").set_value(kind).run()
        _assert_clean(at)
        assert {t["type"] for f in _figures(at) for t in f["data"]} == {trace_type}
    summary = at.table[0].value
    assert list(summary["SE block"]) == [b.label for b in cap.blocks]  # every row, no repeated column
    assert list(summary.columns) == [
        "SE block",
        "C",
        "mean s",
        "std s",
        "s < 0.1",
        "s > 0.9",
        "entropy",
        "mean z",
    ]
    first = cap.gates[cap.block_names[0]][0]
    assert float(summary["mean s"].iloc[0]) == pytest.approx(first.mean(), abs=1e-5)
    assert float(summary["s < 0.1"].iloc[0]) == pytest.approx((first < 0.1).mean())


def test_drilldown_bar_scatter_topk_and_feature_maps(mini_with_cat, mini_lm):
    at = _view(mini_with_cat, "Block drill-down")
    cap = _expected_capture(mini_lm, _png("chelsea"))
    block = cap.block_names[-1]
    assert at.selectbox(key="drill_block").value == block
    bar, scatter, maps = _figures(at)
    s = cap.gates[block][0]
    assert bar["data"][0]["type"] == "bar"
    assert np.allclose(_decode(bar["data"][0]["y"]), np.sort(s)[::-1], atol=1e-6)  # default gate ↓
    assert scatter["data"][0]["type"] == "scatter"
    assert np.allclose(_decode(scatter["data"][0]["x"]), cap.squeeze[block][0], atol=1e-5)
    assert np.allclose(_decode(scatter["data"][0]["y"]), s, atol=1e-6)
    up = at.table[0].value
    down = at.table[1].value
    assert list(up["channel"]) == [int(i) for i in np.argsort(-s, kind="stable")[:3]]
    assert list(down["channel"]) == [int(i) for i in np.argsort(s, kind="stable")[:3]]
    heat = [t for t in maps["data"] if t["type"] == "heatmap"]
    assert len(heat) == 2 * 6  # (3 up + 3 down) channels × (before, after)
    scales = {(t.get("coloraxis"), t.get("zmin"), t.get("zmax")) for t in heat}
    assert len(scales) == 1, "all feature maps must share one colour scale"
    # Another block, natural order: bars in channel order.
    first = cap.block_names[0]
    at.selectbox(key="drill_block").set_value(first).run()
    at.segmented_control(key="drill_sort").set_value("natural").run()
    _assert_clean(at)
    bar = _figures(at)[0]
    assert np.allclose(_decode(bar["data"][0]["y"]), cap.gates[first][0], atol=1e-6)


def test_view_block_and_sort_changes_run_no_forward_pass(mini_with_cat):
    """Observed on the served model itself (a forward hook), not through a production counter."""
    from se_viz.ui.cache import load_model_cached

    at = mini_with_cat
    passes: list[int] = []
    handle = load_model_cached(at.session_state["model"]).model.register_forward_pre_hook(
        lambda *_: passes.append(1)
    )
    try:
        _run_view_changes(at)
        assert passes == []
        # An image no test has shown before: exactly one pass (with maps: it is now the one shown).
        at.sidebar.file_uploader[0].set_value(
            [("cat.png", _png("chelsea"), "image/png"), ("new.png", _png("astronaut", (97, 83)), "image/png")]
        )
        at.run()
        assert passes == [1]
    finally:
        handle.remove()


def _run_view_changes(at) -> None:
    for view in ("Gate heatmap", "Distributions", "Block drill-down", "Export", "Predictions"):
        _view(at, view)
    _view(at, "Gate heatmap")
    at.segmented_control(key="heat_sort").set_value("gate ↑").run()
    _view(at, "Distributions")
    at.segmented_control(key="dist_kind").set_value("histogram").run()
    _view(at, "Block drill-down")
    for block in at.selectbox(key="drill_block").options[:3]:
        at.selectbox(key="drill_block").set_value(block).run()
    at.segmented_control(key="drill_sort").set_value("gate ↑").run()
    at.slider(key="drill_k").set_value(5).run()
    _assert_clean(at)


def test_exports_parse_with_the_right_rows(mini_with_cat, mini_lm, monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager

    made: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    at = mini_with_cat
    at.sidebar.file_uploader[0].set_value(
        [("cat.png", _png("chelsea"), "image/png"), ("coffee.png", _png("coffee"), "image/png")]
    )
    _view(at, "Export")
    csv_name = next(n for n in made if n.endswith(".csv") and n.startswith("se_capture"))
    npz_name = next(n for n in made if n.endswith(".npz"))
    summary_name = next(n for n in made if n.startswith("se_summary"))
    report_name = next(n for n in made if n.endswith(".html"))
    channels = sum(b.channels for b in mini_lm.blocks)
    raw = made[csv_name]()
    assert raw.startswith(b"#") and mini_lm.source.sha256.encode() in raw  # provenance first
    df = pd.read_csv(io.BytesIO(raw), comment="#")
    assert list(df.columns) == ["image", "block", "paper_name", "module_path", "channel", "z", "s"]
    assert len(df) == 2 * channels
    assert set(df["image"]) == {"cat.png", "coffee.png"}
    cap = _expected_capture(mini_lm, _png("coffee"))
    last = cap.block_names[-1]
    rows = df[(df["image"] == "coffee.png") & (df["block"] == last)].sort_values("channel")
    assert np.allclose(rows["s"].to_numpy(), cap.gates[last][0], atol=1e-5)
    # The NPZ holds the image shown in detail (the newest upload), with the maps of one block.
    npz = np.load(io.BytesIO(made[npz_name]()))
    assert list(npz["image_names"]) == ["coffee.png"]
    assert npz[f"gates/{last}"].shape == (1, cap.block(last).channels)
    assert npz[f"maps_in/{last}"].shape[:2] == (1, cap.block(last).channels)
    manifest = json.loads(str(npz["manifest"]))
    assert manifest["weights"]["sha256"] == mini_lm.source.sha256
    assert manifest["labels"] == mini_lm.labels
    summary = pd.read_csv(io.BytesIO(made[summary_name]()), comment="#")
    assert len(summary) == len(mini_lm.blocks) and "entropy" in summary.columns
    # All charts of the image in one standalone HTML file, with one copy of plotly.js.
    html = made[report_name]()
    assert b"<html" in html[:500].lower() and b"se-viz-manifest" in html
    assert html.count(b"Plotly.newPlot") == 5 and len(html) < 7_000_000


def test_detail_view_follows_the_chosen_image(mini_with_cat, mini_lm):
    at = mini_with_cat
    coffee = _png("coffee")
    at.sidebar.file_uploader[0].set_value(
        [("cat.png", _png("chelsea"), "image/png"), ("coffee.png", coffee, "image/png")]
    )
    at.run()
    at.selectbox(key="detail_image").set_value("coffee.png").run()
    _view(at, "Gate heatmap")
    z = _decode(_figures(at)[0]["data"][0]["z"])
    cap = _expected_capture(mini_lm, coffee)
    assert np.allclose(z[0], cap.gates[cap.block_names[0]][0], atol=1e-5)


def test_seresnet50_heatmap_shows_honest_stage_widths(app_env, r50_checkpoint):
    """The paper's network from a local file: panels 256, 512, 1024 and 2048 channels wide."""
    from streamlit.testing.v1 import AppTest

    app_env("legacy_seresnet50.in1k", r50_checkpoint)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    assert any("local file" in s.value and "16 SE blocks" in s.value for s in at.sidebar.info)
    assert not any("paper authors" in s.value for s in at.sidebar.info)
    assert any("Weights from a local file" in w.value for w in at.warning)
    at.sidebar.file_uploader[0].set_value(("cat.jpg", _png("chelsea"), "image/png"))
    _view(at, "Gate heatmap")
    (fig,) = _figures(at)
    widths = [_decode(t["z"]).shape for t in fig["data"] if t["type"] == "heatmap"]
    assert widths == [(3, 256), (4, 512), (6, 1024), (3, 2048)]
    ranges = [v["range"] for k, v in fig["layout"].items() if k.startswith("xaxis") and "range" in v]
    assert [round(r[1] - r[0]) for r in ranges] == [256, 512, 1024, 2048]
    ticks = " ".join(map(str, fig["data"][0]["y"]))
    assert "SE_2_1" in ticks and "layer1.0.se_module" in ticks


def test_a_failing_view_shows_a_sentence_not_a_traceback(mini_with_cat, monkeypatch):
    from se_viz import figures

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug in a figure builder")

    monkeypatch.setattr(figures, "gate_heatmap", broken)
    at = _view(mini_with_cat, "Gate heatmap")
    assert any("gate heatmap could not be drawn" in e and "try" in e for e in _errors(at))
    assert not any("simulated bug" in e for e in _errors(at)), "the code's own words go to the log"
    assert not any("Traceback" in e for e in _errors(at))
    at = _view(at, "Distributions")  # the other views still work
    assert len(_figures(at)) == 2 and not _errors(at)


def test_every_upload_format_works_side_by_side(mini_app):
    from PIL import Image
    from skimage import data

    img = Image.fromarray(data.astronaut()).resize((200, 200))
    files = []
    for fmt, ext, mime in (
        ("JPEG", "jpg", "image/jpeg"),
        ("PNG", "png", "image/png"),
        ("WEBP", "webp", "image/webp"),
        ("BMP", "bmp", "image/bmp"),
        ("GIF", "gif", "image/gif"),
        ("TIFF", "tiff", "image/tiff"),
    ):
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        files.append((f"astronaut.{ext}", buf.getvalue(), mime))
    at = mini_app
    at.sidebar.file_uploader[0].set_value(files)
    at.run()
    _assert_clean(at)
    assert not _errors(at)
    assert len(at.table) == len(files)
    assert at.selectbox(key="detail_image").options == [f[0] for f in files]


def test_timm_name_from_the_environment_offline(app_env):
    """SE_VIZ_MODEL may be any timm name; offline it fails clearly and offers its untrained twin."""
    from streamlit.testing.v1 import AppTest

    app_env("seresnet18", None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    assert any("seresnet18" in e and "needs a download" in e for e in _errors(at))
    at.button(key="use_untrained").click().run()
    _assert_clean(at)
    from se_viz.ui.state import ModelChoice, Weights

    assert at.session_state["model"] == ModelChoice("seresnet18", Weights.UNTRAINED)
    assert any("Untrained network" in w.value for w in at.warning)


def test_missing_weights_file_says_so(app_env, tmp_path):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, tmp_path / "nowhere.safetensors")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    msg = " ".join(_errors(at))
    assert "could not be loaded" in msg and "nowhere.safetensors" in msg
    assert at.sidebar.file_uploader  # the rest of the app is still there


def _untrained_with_a_photo(app_env, model: str):
    """The app with ``model``'s untrained offer accepted and one photo uploaded."""
    from streamlit.testing.v1 import AppTest

    app_env(model, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.button(key="use_untrained").click().run()
    at.sidebar.file_uploader[0].set_value(("cat.png", _png("chelsea", (320, 240)), "image/png"))
    at.run()
    _assert_clean(at)
    return at


def test_efficientnet_untrained_every_view_renders(app_env):
    """A non-ResNet SE network (no paper names): module paths label the blocks in every view."""

    at = _untrained_with_a_photo(app_env, "efficientnet_b0.ra_in1k")
    counts = {"Gate heatmap": 1, "Distributions": 2, "Block drill-down": 3, "Export": 0}
    for view, n in counts.items():
        at = _view(at, view)
        assert len(_figures(at)) == n and not _errors(at), view
    at = _view(at, "Gate heatmap")
    ticks = [str(y) for t in _figures(at)[0]["data"] for y in t["y"]]
    assert len(ticks) == 16 and all(t.startswith("blocks.") for t in ticks)


def test_mini_model_says_what_it_knows_when_shown_a_photo(app_env):
    from streamlit.testing.v1 import AppTest

    from se_viz.loading.choice import teaching_choice
    from se_viz.loading.samples import synthetic_samples

    if teaching_choice() is None:
        pytest.skip("the bundled SE-ResNet mini weights are not in this checkout")
    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.file_uploader[0].set_value(("cat.png", _png("chelsea"), "image/png"))
    at.run()
    _assert_clean(at)
    assert any("generated classes" in i.value for i in at.info)
    at.button(key="use_synthetic_hint").click().run()
    _assert_clean(at)
    tables = [t.value for t in at.table]
    examples = synthetic_samples()
    assert len(tables) == 1 + len(examples)
    # The trained mini model gets its own generated examples right (they are its classes).
    for table, sample in zip(tables[1:], examples, strict=True):
        assert f"synthetic: {table['class'].iloc[0]}" == sample.title


def test_an_eca_network_shows_its_gates_and_says_why_teach_cannot_walk_them(app_env):
    """ECA-ResNet-26t (untrained): its gates are found by what they do, named "ECA" in the block
    labels, drawn in every view; Teach says why it has no step-by-step walk instead of failing."""

    at = _untrained_with_a_photo(app_env, "ecaresnet26t.ra2_in1k")
    status = [*at.sidebar.info, *at.sidebar.success, *at.sidebar.warning]
    assert any("channel gates" in str(e.value) for e in status), [e.value for e in status]
    for view, n in {"Gate heatmap": 1, "Distributions": 2, "Block drill-down": 3}.items():
        at = _view(at, view)
        assert len(_figures(at)) == n and not _errors(at), view
    at = _view(at, "Gate heatmap")
    ticks = [str(y) for t in _figures(at)[0]["data"] for y in t["y"]]
    assert ticks and all("ECA" in t for t in ticks), ticks[:3]
    at = _view(at, "Teach one block")
    assert not _errors(at)
    assert any("no step-by-step walk" in i.value and "ECA" in i.value for i in at.info)
