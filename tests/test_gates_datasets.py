"""An operator's own attention network (ECA, CBAM's channel gate, SE with torch.sigmoid) through
the whole path a researcher uses: a factory file as for SE_VIZ_MODEL, load_model, a gate dataset
written by the local engine and by Ray Data, and the manifest that names each gate's kind."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets_helpers import expected_capture, make_image_folder, rows_equal

import se_viz
from se_viz.datasets.job import CaptureJob
from se_viz.datasets.local import run_local
from se_viz.datasets.reader import open_gate_dataset
from se_viz.datasets.sources import expand_inputs

NET = """
import torch
from timm.layers.cbam import CbamModule
from timm.layers.eca import EcaModule
from torch import nn


class FunctionalSE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(c, c // 4), nn.Linear(c // 4, c)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3))))))[:, :, None, None]


class AttnNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU())
        self.layer1 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), EcaModule(32))
        self.layer2 = nn.Sequential(nn.Conv2d(32, 32, 3, stride=2, padding=1), CbamModule(32, rd_ratio=1 / 4))
        self.layer3 = nn.Sequential(nn.Conv2d(32, 64, 3, stride=2, padding=1), FunctionalSE(64))
        self.head = nn.Linear(64, 3)

    def forward(self, x):
        return self.head(self.layer3(self.layer2(self.layer1(self.stem(x)))).mean((2, 3)))


def build():
    torch.manual_seed(0)
    return AttnNet()
"""


@pytest.fixture(scope="module")
def attn_net(tmp_path_factory):
    root = tmp_path_factory.mktemp("attn")
    (root / "attn_net.py").write_text(NET)
    catalog = root / "models.toml"
    catalog.write_text(
        '[[model]]\nid = "attn.shapes"\nfactory = "attn_net.py:build"\ninput_size = 64\ncrop_pct = 1.0\n'
    )
    return root, catalog


def test_the_kinds_in_load_model_and_in_the_local_dataset_manifest(attn_net, tmp_path, monkeypatch):
    root, catalog = attn_net
    monkeypatch.setenv("SE_VIZ_CATALOG", str(catalog))
    lm = se_viz.load_model("attn.shapes")
    assert [(b.name, b.kind) for b in lm.blocks] == [
        ("SE_2_2", "eca"),
        ("SE_3_2", "cbam-channel"),
        ("SE_4_2", "se-functional"),
    ]
    items = expand_inputs([make_image_folder(tmp_path / "shapes")])
    job = CaptureJob(out=tmp_path / "local", model="attn.shapes", batch_size=8, workers=0)
    run_local(job, items, progress=False)
    ds = open_gate_dataset(tmp_path / "local")
    manifest = json.loads((tmp_path / "local" / "_manifest.json").read_text())
    assert [b["kind"] for b in manifest["blocks"]] == ["eca", "cbam-channel", "se-functional"]
    assert [b.kind for b in ds.blocks] == ["eca", "cbam-channel", "se-functional"]
    want = expected_capture(lm, ds.paths)
    for name in ds.block_names:
        np.testing.assert_allclose(ds.gates(name), want.gates[name], atol=1e-6, rtol=0)
        np.testing.assert_allclose(ds.squeeze(name), want.squeeze[name], atol=1e-6, rtol=0)


@pytest.mark.slow
def test_ray_writes_the_same_gates(attn_net, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    import ray

    from se_viz.datasets.ray_engine import ray_runtime, run_ray

    root, catalog = attn_net
    monkeypatch.setenv("SE_VIZ_CATALOG", str(catalog))
    items = expand_inputs([make_image_folder(tmp_path / "shapes")])
    common = dict(model="attn.shapes", batch_size=8, threads=1)
    run_local(CaptureJob(out=tmp_path / "local", workers=0, **common), items, progress=False)
    with ray_runtime(num_cpus=2):
        run_ray(CaptureJob(out=tmp_path / "ray", **common), items, progress=False)
    assert not ray.is_initialized()
    a, b = open_gate_dataset(tmp_path / "local"), open_gate_dataset(tmp_path / "ray")
    rows_equal(a, b)
    assert [x.kind for x in b.blocks] == ["eca", "cbam-channel", "se-functional"]
