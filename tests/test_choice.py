"""The rules of model choice, without Streamlit: options, availability, the offline start."""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path

import pytest
import torch
from hub_cache import write_hub_cache

import se_viz
from se_viz.loading import choice as C
from se_viz.loading.archive import zip_images

PAPER = se_viz.DEFAULT_MODEL


def test_the_policy_module_is_pure():
    for module in (C, __import__("se_viz.loading.archive", fromlist=["x"])):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(n.split(".")[0] == "streamlit" for n in names), module.__name__


def test_availability_is_a_typed_value_for_every_kind_of_option(hf_cache, tmp_path):
    teaching = C.teaching_choice()
    assert teaching is not None and se_viz.catalog_entry(teaching.model_id).teaching
    assert C.availability(teaching) is C.Availability.BUNDLED
    assert C.availability(C.ModelChoice(PAPER)) is C.Availability.DOWNLOAD  # empty private cache
    assert C.availability(C.ModelChoice(PAPER, C.Weights.UNTRAINED)) is C.Availability.BUNDLED
    assert C.availability(C.ModelChoice(PAPER, C.Weights.FILE, str(tmp_path / "w.safetensors"))) is (
        C.Availability.LOCAL
    )
    write_hub_cache(hf_cache, "timm/legacy_seresnet18.in1k", {"w": torch.zeros(1)})
    assert C.availability(C.ModelChoice("legacy_seresnet18.in1k")) is C.Availability.CACHED
    # Every mark the picker shows comes from the enum, once.
    assert len({a.mark for a in C.Availability}) == len(C.Availability)
    assert C.option_label(C.ModelChoice("legacy_seresnet18.in1k")).endswith(C.Availability.CACHED.mark)


def test_options_list_every_catalog_model_then_one_untrained_per_architecture():
    options = C.model_options(None)
    published = [o for o in options if o.weights is C.Weights.PUBLISHED]
    untrained = [o for o in options if o.weights is C.Weights.UNTRAINED]
    assert [o.model_id for o in published] == [e.id for e in se_viz.catalog()]
    archs = [se_viz.catalog_entry(o.model_id).architecture for o in untrained]
    assert len(archs) == len(set(archs))
    labels = [C.option_label(o) for o in options]
    assert len(labels) == len(set(labels)), "Streamlit keeps a selectbox's value by its label"
    assert all("UNTRAINED" in C.option_label(o) for o in untrained)


def test_the_operator_choice_comes_first_and_wins_the_start():
    env = C.env_choice({"SE_VIZ_MODEL": "seresnet18", "SE_VIZ_WEIGHTS": ""})
    assert env == C.ModelChoice("seresnet18")  # not in the catalog: a plain timm name
    options = C.model_options(env)
    assert options[0] == env and C.ModelChoice("seresnet18", C.Weights.UNTRAINED) in options
    assert C.start_choice(env, lambda: False) == (env, None)
    assert C.env_choice({}) is None
    file = C.env_choice({"SE_VIZ_WEIGHTS": "/data/w.safetensors"})
    assert file == C.ModelChoice(PAPER, C.Weights.FILE, "/data/w.safetensors")


def test_offline_start_falls_back_to_the_teaching_model_only_when_no_download_can_happen(hf_cache):
    asked = []

    def online() -> bool:
        asked.append(True)
        return True

    assert C.start_choice(None, online) == (C.ModelChoice(PAPER), None)
    assert asked, "the hub is asked because the paper's weights need a download"
    start, note = C.start_choice(None, lambda: False)
    assert start == C.teaching_choice()
    assert "no network here" in note and C.Availability.DOWNLOAD.mark in note


def test_untrained_offer_has_the_same_architecture():
    options = C.model_options(None)
    offer = C.untrained_choice("seresnet50.ra2_in1k", options)
    assert offer is not None and offer.weights is C.Weights.UNTRAINED
    assert se_viz.catalog_entry(offer.model_id).architecture == "seresnet50"
    assert C.untrained_choice("no_such_model", options) is None


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_images_returns_members_by_path_or_raises_input_error():
    data = _zip({"pug/2.png": b"b", "pug/1.jpg": b"a", "notes.txt": b"x", "__MACOSX/pug/._1.jpg": b"m"})
    assert zip_images("set.zip", data) == [("pug/1.jpg", b"a"), ("pug/2.png", b"b")]
    with pytest.raises(se_viz.InputError, match="set.zip is not a readable ZIP"):
        zip_images("set.zip", b"not a zip")
    with pytest.raises(se_viz.InputError, match="more than 1 images"):
        zip_images("set.zip", data, max_images=1)
    with pytest.raises(se_viz.InputError, match="se-viz capture"):
        zip_images("set.zip", data, max_bytes=1)
