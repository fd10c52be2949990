"""Shared test set-up: no network, no hub retries, small deterministic torch."""

import os

# Set before anything imports huggingface_hub: a failed download would otherwise retry ~46 s.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest
import torch

torch.manual_seed(0)


@pytest.fixture(scope="session")
def legacy_r50():
    """An untrained legacy SE-ResNet-50 (the paper's architecture), loaded through load_model."""
    import se_viz

    return se_viz.load_model("legacy_seresnet50.in1k", pretrained=False)


@pytest.fixture(scope="session")
def sample_images():
    """Three real photos from scikit-image's bundled data (offline), as RGB PIL images."""
    from PIL import Image
    from skimage import data

    return [
        Image.fromarray(data.chelsea()),
        Image.fromarray(data.astronaut()),
        Image.fromarray(data.coffee()),
    ]


@pytest.fixture
def hf_cache(tmp_path, monkeypatch):
    """An empty, private Hugging Face cache for tests that write checkpoints into it."""
    cache = tmp_path / "hf"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def r50_checkpoint(tmp_path_factory) -> Path:
    """An untrained legacy SE-ResNet-50 state dict written to a local .safetensors file."""
    import timm
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "legacy_seresnet50_untrained.safetensors"
    save_file(timm.create_model("legacy_seresnet50").state_dict(), str(path))
    return path


@pytest.fixture
def app_env(monkeypatch, hf_cache):
    """Set (or clear) SE_VIZ_MODEL / SE_VIZ_WEIGHTS for an app started in this test."""

    def use(model: str | None, weights: Path | None = None) -> None:
        for var, val in (("SE_VIZ_MODEL", model), ("SE_VIZ_WEIGHTS", weights)):
            if val is None:
                monkeypatch.delenv(var, raising=False)
            else:
                monkeypatch.setenv(var, str(val))

    return use
