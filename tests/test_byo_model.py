"""Bring your own SE network: a user's factory, weights and catalog, in load_model, se-viz capture
and the app; every way the user's code can fail reads as one sentence.

The network is written here in the tutorial style, in two variants (Linear excitation without
bias, SE after the residual addition; 1×1-conv excitation with bias, SE before it), in a tiny
ResNet layout ``layer1``…``layer2`` so the paper's names SE_2_1 … SE_3_2 apply.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

import se_viz
from se_viz import ModelLoadError
from se_viz.cli import main
from se_viz.datasets.reader import open_gate_dataset

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
EXAMPLES = ROOT / "docs" / "examples"
VARIANTS = ("linear_after_add", "conv_before_add")
CLASSES = ["cat", "dog", "fox"]
BLOCKS = [
    ("SE_2_1", "layer1.0.se", 8),
    ("SE_2_2", "layer1.1.se", 8),
    ("SE_3_1", "layer2.0.se", 16),
    ("SE_3_2", "layer2.1.se", 16),
]

NET = '''
import torch
from torch import nn


class SELayer(nn.Module):
    """Tutorial SE: Linear -> ReLU -> Linear -> Sigmoid, no bias, inplace ReLU, x * y.view(b, c, 1, 1)."""

    def __init__(self, channel, reduction=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y


class ConvSE(nn.Module):
    """The 1x1-convolution variant (with bias), reduction 2."""

    def __init__(self, channel, reduction=2):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = nn.Conv2d(channel, channel // reduction, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channel // reduction, channel, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.conv2(self.relu(self.conv1(self.pool(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, se, se_after_add):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = se(cout)
        self.se_after_add = se_after_add
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.se_after_add:
            out = self.se(out)
        out = out + identity
        if self.se_after_add:
            out = self.se(out)
        return self.relu(out)


class TinySENet(nn.Module):
    def __init__(self, se, se_after_add, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        a = se_after_add
        self.layer1 = nn.Sequential(BasicBlock(8, 8, 1, se, a), BasicBlock(8, 8, 1, se, a))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, se, a), BasicBlock(16, 16, 1, se, a))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def linear_after_add():
    return TinySENet(SELayer, se_after_add=True)


def conv_before_add():
    return TinySENet(ConvSE, se_after_add=False)


def plain_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3)
    )


def raises():
    raise ValueError("widths must be positive\\nsecond line of the report")


def state_dict_only():
    return linear_after_add().state_dict()


def fixed_input():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), SELayer(8), nn.Flatten(), nn.Linear(8 * 32 * 32, 3))


NOT_A_FUNCTION = 3
'''


def _import(path: Path, name: str):
    """The test's own import of the user's file: the 'direct' module to compare against."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Path:
    """tiny_senet.py, seeded weights of both variants (safetensors), a class file, an image folder."""
    root = tmp_path_factory.mktemp("byo")
    path = root / "tiny_senet.py"
    path.write_text(NET)
    module = _import(path, "tiny_senet_direct")
    for seed, variant in enumerate(VARIANTS, start=1):
        torch.manual_seed(seed)
        model = getattr(module, variant)()
        gen = torch.Generator().manual_seed(seed)
        for m in model.modules():  # fixed, seeded statistics: a network that is not at init
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
        save_file(model.state_dict(), str(root / f"{variant}.safetensors"))
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    from se_viz.demo.synthetic import generate

    images, _ = generate(4, seed=5)
    for i, arr in enumerate(images):
        folder = root / "images" / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(folder / f"img_{i}.png")
    return path


def _direct(net: Path, variant: str) -> torch.nn.Module:
    """The user's network built and loaded by hand, without se_viz's loading."""
    model = getattr(_import(net, f"tiny_senet_{variant}"), variant)()
    model.load_state_dict(load_file(str(net.parent / f"{variant}.safetensors")))
    return model.eval()


def _photo() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.chelsea())


def _sentence(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


# --------------------------------------------------------------------------------------------
# load_model with a factory


@pytest.mark.parametrize("variant", VARIANTS)
def test_factory_file_with_weights_gives_the_gates_of_the_user_network(net, variant):
    weights = net.parent / f"{variant}.safetensors"
    lm = se_viz.load_model(f"{net}:{variant}", weights=weights)
    assert [(b.name, b.path, b.channels) for b in lm.blocks] == BLOCKS
    assert lm.source.kind == "local file" and lm.source.path == weights
    x = lm.preprocess([_photo()])
    cap = se_viz.capture(lm.model, x)
    direct = se_viz.capture(_direct(net, variant), x)
    assert cap.block_names == [b for b, _, _ in BLOCKS]
    for name in cap.block_names:
        np.testing.assert_array_equal(cap.gates[name], direct.gates[name])
        np.testing.assert_array_equal(cap.squeeze[name], direct.squeeze[name])
    np.testing.assert_array_equal(cap.logits, direct.logits)
    # The weights really are the file's: the factory's own initialisation gives other gates.
    fresh = se_viz.capture(getattr(_import(net, "tiny_senet_fresh"), variant)().eval(), x)
    assert not np.allclose(fresh.gates["SE_3_2"], cap.gates["SE_3_2"])
    # Nothing was given but the factory: every preprocessing value and the classes are defaults,
    # and the model says so, naming where they came from.
    assert lm.defaults == ["input_size", "mean", "std", "interpolation", "crop_pct", "classes"]
    assert lm.labels == ["class 0", "class 1", "class 2"]
    note = lm.defaults_note
    assert "input 224×224 px" in note and "mean (0.485, 0.456, 0.406)" in note
    assert "timm.data.resolve_model_data_config" in note and "“class 0” … “class 2”" in note


def test_module_factory_on_the_python_path(net, monkeypatch):
    monkeypatch.syspath_prepend(str(net.parent))
    lm = se_viz.load_model("tiny_senet:conv_before_add", weights=net.parent / "conv_before_add.safetensors")
    assert [b.name for b in lm.blocks] == [b for b, _, _ in BLOCKS]
    assert lm.entry.user and lm.entry.architecture == "tiny_senet:conv_before_add"


def test_factory_without_weights_says_so(net):
    lm = se_viz.load_model(f"{net}:linear_after_add")
    assert lm.source.kind == "factory" and "as your factory built it" in lm.weights_source


# --------------------------------------------------------------------------------------------
# se-viz capture


def test_se_viz_capture_with_a_factory_writes_the_same_gates(net, tmp_path):
    variant = "conv_before_add"
    weights = net.parent / f"{variant}.safetensors"
    out = tmp_path / "gates"
    spec = f"{net}:{variant}"
    assert (
        main(
            [
                "capture",
                str(net.parent / "images"),
                "--model",
                spec,
                "--weights",
                str(weights),
                "--out",
                str(out),
                "--workers",
                "0",
                "--threads",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    ds = open_gate_dataset(out)
    assert len(ds) == 4 and ds.block_names == [b for b, _, _ in BLOCKS]
    lm = se_viz.load_model(spec, weights=weights)
    direct = se_viz.capture(_direct(net, variant), lm.preprocess([se_viz.load_image(p) for p in ds.paths]))
    for name in ds.block_names:
        np.testing.assert_allclose(ds.gates(name), direct.gates[name], atol=1e-6, rtol=0)
    np.testing.assert_allclose(ds.logits(), direct.logits, atol=1e-5, rtol=0)


def test_se_viz_capture_names_a_broken_factory_in_one_line(net, tmp_path, capsys):
    assert (
        main(
            [
                "capture",
                str(net.parent / "images"),
                "--model",
                f"{net}:biuld",
                "--out",
                str(tmp_path / "gates"),
                "--workers",
                "0",
                "--no-progress",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("se-viz capture: The factory module tiny_senet.py has no function 'biuld'")
    assert "\n" not in err


# --------------------------------------------------------------------------------------------
# A user catalog


def _catalog(net: Path, body: str) -> Path:
    path = net.parent / f"catalog_{abs(hash(body))}.toml"
    path.write_text(body)
    return path


ENTRY = """
[[model]]
id = "tiny.linear"
name = "Tiny SE-Net (test)"
factory = "tiny_senet.py:linear_after_add"
weights = "linear_after_add.safetensors"
classes = "classes.txt"
input_size = 64
mean = [0.5, 0.5, 0.5]
std = [0.25, 0.25, 0.25]

[[model]]
id = "tiny.conv"
factory = "tiny_senet.py:conv_before_add"
weights = "conv_before_add.safetensors"
classes = ["cat", "dog", "fox"]
input_size = [3, 48, 48]
interpolation = "bilinear"
crop_pct = 1.0
"""


def test_catalog_entries_join_the_shelf_and_load_by_id(net, monkeypatch):
    monkeypatch.setenv("SE_VIZ_CATALOG", str(_catalog(net, ENTRY)))
    entries = {e.id: e for e in se_viz.catalog()}
    assert se_viz.DEFAULT_MODEL in entries and not entries[se_viz.DEFAULT_MODEL].user
    assert entries["tiny.linear"].user and entries["tiny.linear"].builder == "factory"
    lm = se_viz.load_model("tiny.linear")
    assert lm.labels == CLASSES and lm.source.path == net.parent / "linear_after_add.safetensors"
    assert lm.data_config["input_size"] == (3, 64, 64) and lm.data_config["mean"] == (0.5, 0.5, 0.5)
    assert lm.defaults == ["interpolation", "crop_pct"]
    assert lm.defaults_note.startswith("Defaults: bicubic interpolation, centre crop 87.5 % from timm's")
    other = se_viz.load_model("tiny.conv")
    assert other.labels == CLASSES and other.data_config["input_size"] == (3, 48, 48)
    assert other.defaults == ["mean", "std"]
    x = lm.preprocess([_photo()])
    assert tuple(x.shape) == (1, 3, 64, 64)
    np.testing.assert_array_equal(
        se_viz.capture(lm.model, x).gates["SE_2_1"],
        se_viz.capture(_direct(net, "linear_after_add"), x).gates["SE_2_1"],
    )


def test_the_app_shows_the_users_network_in_every_view(net, app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from se_viz.ui.state import ModelChoice

    monkeypatch.setenv("SE_VIZ_CATALOG", str(_catalog(net, ENTRY)))
    app_env("tiny.linear")
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.sidebar.selectbox[0]
    assert picker.value == ModelChoice("tiny.linear")
    labels = list(picker.options)  # AppTest shows the formatted labels
    assert "Tiny SE-Net (test) · your model" in labels and "tiny.conv · your model" in labels
    assert any("SE-ResNet-50 (paper authors' weights)" in label for label in labels)
    assert not any("UNTRAINED" in label and "Tiny" in label for label in labels)
    status = " ".join(i.value for i in at.sidebar.info)
    assert (
        "your model" in status and "Tiny SE-Net (test)" in status and "linear_after_add.safetensors" in status
    )
    assert "4 SE blocks · 3 classes · input 64×64 px" in status
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "bicubic interpolation, centre crop 87.5 %" in captions and "resolve_model_data_config" in captions

    buf = io.BytesIO()
    _photo().save(buf, format="PNG")
    at.sidebar.file_uploader[0].set_value(("cat.png", buf.getvalue(), "image/png"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    table = at.table[0].value
    lm = se_viz.load_model("tiny.linear")
    expected = se_viz.capture(_direct(net, "linear_after_add"), lm.preprocess([_photo()]))
    order = np.argsort(-expected.probabilities()[0])
    assert list(table["class"]) == [CLASSES[i] for i in order]

    at.session_state["view"] = "Gate heatmap"
    at.run()
    assert not at.exception and not at.error
    (fig,) = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    heat = [t for t in fig["data"] if t["type"] == "heatmap"]
    assert len(heat) == 2  # one panel per stage: 8 and 16 channels
    for trace, names in zip(heat, (["SE_2_1", "SE_2_2"], ["SE_3_1", "SE_3_2"]), strict=True):
        z = _plotly_array(trace["z"])
        np.testing.assert_allclose(z, np.stack([expected.gates[n][0] for n in names]), atol=1e-5)
        assert "layer1.0.se" in " ".join(map(str, heat[0]["y"]))
    for view in ("Distributions", "Block drill-down"):
        at.session_state["view"] = view
        at.run()
        assert not at.exception and not at.error, (view, [e.value for e in at.error])
        assert at.get("plotly_chart"), view


def test_only_the_operator_chooses_code(net, app_env, monkeypatch):
    """The picker offers catalog entries and the operator's SE_VIZ_MODEL, nothing else: the
    browser only sends which of these options it wants."""
    from se_viz.loading.choice import env_choice, model_options

    monkeypatch.setenv("SE_VIZ_CATALOG", str(_catalog(net, ENTRY)))
    app_env(f"{net}:conv_before_add", net.parent / "conv_before_add.safetensors")
    options = model_options(env_choice())
    allowed = {e.id for e in se_viz.catalog()} | {f"{net}:conv_before_add"}
    assert {o.model_id for o in options} <= allowed
    factories = [o for o in options if se_viz.catalog_entry(o.model_id).user]
    assert {o.model_id for o in factories} == {"tiny.linear", "tiny.conv", f"{net}:conv_before_add"}
    assert all(o.weights.value != "untrained" for o in factories)


def _plotly_array(value):
    import base64

    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return arr.reshape([int(v) for v in str(value["shape"]).split(",")]) if "shape" in value else arr
    return np.asarray(value)


# --------------------------------------------------------------------------------------------
# Every failure is one sentence


def test_a_factory_module_that_does_not_import(net):
    broken = net.parent / "broken_import.py"
    broken.write_text("import no_such_package_xyz\n\ndef build():\n    pass\n")
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{broken}:build")
    assert _sentence(exc) == (
        "The factory module broken_import.py cannot be imported (ModuleNotFoundError: "
        "No module named 'no_such_package_xyz'): fix the file."
    )
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model("no_such_module_xyz.models:build")
    assert _sentence(exc).startswith(
        "The factory module 'no_such_module_xyz.models' cannot be imported "
        "(ModuleNotFoundError: No module named 'no_such_module_xyz')"
    )
    with pytest.raises(ModelLoadError, match=r"The factory file .*missing\.py does not exist"):
        se_viz.load_model(f"{net.parent / 'missing.py'}:build")


def test_a_factory_name_that_is_missing(net):
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{net}:biuld")
    text = _sentence(exc)
    assert text.startswith("The factory module tiny_senet.py has no function 'biuld' (it defines ")
    assert "conv_before_add" in text and "linear_after_add" in text
    with pytest.raises(ModelLoadError, match="'NOT_A_FUNCTION' in tiny_senet.py is a int, not a function"):
        se_viz.load_model(f"{net}:NOT_A_FUNCTION")


def test_a_factory_that_raises_or_returns_no_network(net):
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{net}:raises")
    assert _sentence(exc) == (
        "The factory tiny_senet.py:raises raised ValueError: widths must be positive — it "
        "must build the network when called without arguments."
    )
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{net}:state_dict_only")
    assert _sentence(exc).startswith(
        "The factory tiny_senet.py:state_dict_only returned a OrderedDict, not a torch.nn.Module"
    )


def test_a_network_without_se_blocks_lists_the_recognised_shapes(net):
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{net}:plain_cnn")
    text = _sentence(exc)
    assert text.startswith("The model 'tiny_senet.py:plain_cnn' has no Squeeze-and-Excitation block")
    for shape in (
        "nn.Linear or a 1×1 nn.Conv2d",
        "nn.Sigmoid or nn.Hardsigmoid",
        "torch.sigmoid()",
        "the tutorial SELayer",
    ):
        assert shape in text


def test_a_network_that_cannot_take_the_input_size(net, monkeypatch):
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{net}:fixed_input")
    text = _sentence(exc)
    assert text.startswith(
        "The network of tiny_senet.py:fixed_input fails on a 3×224×224 input (RuntimeError: "
    )
    assert text.endswith("): set input_size in its catalog entry.")
    monkeypatch.setenv(
        "SE_VIZ_CATALOG",
        str(
            _catalog(net, '[[model]]\nid = "fixed"\nfactory = "tiny_senet.py:fixed_input"\ninput_size = 32\n')
        ),
    )
    assert se_viz.load_model("fixed").labels == ["class 0", "class 1", "class 2"]


def test_weights_that_do_not_fit_the_factory(net):
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model(f"{net}:linear_after_add", weights=net.parent / "conv_before_add.safetensors")
    text = _sentence(exc)
    assert text.startswith(
        "The weights in conv_before_add.safetensors do not fit the architecture "
        "'tiny_senet.py:linear_after_add': "
    )
    assert "Pick the model these weights were trained for." in text


def test_class_names_that_do_not_match_the_outputs(net, monkeypatch):
    (net.parent / "two.txt").write_text("cat\ndog\n")
    catalog = _catalog(net, ENTRY.replace('classes = "classes.txt"', 'classes = "two.txt"'))
    monkeypatch.setenv("SE_VIZ_CATALOG", str(catalog))
    with pytest.raises(ModelLoadError) as exc:
        se_viz.load_model("tiny.linear")
    assert _sentence(exc) == (
        "The class names of 'tiny.linear' (two.txt) are 2, but the network has 3 outputs: "
        "give one name per output, in output order."
    )


@pytest.mark.parametrize(
    "body, sentence",
    [
        ('[[model]]\nid = "x"\n', "Entry 1 of the model catalog {name} needs a 'factory' (text)."),
        (
            '[[model]]\nid = "x"\nfactory = "tiny_senet.py:build"\nlayers = 3\n',
            "Entry 1 of the model catalog {name} has unknown field(s) layers; the fields are ",
        ),
        (
            '[[model]]\nid = "x"\nfactory = "tiny_senet.py:build"\ninput_size = "big"\n',
            "The entry 'x' of the model catalog {name}: input_size must be a side in pixels",
        ),
        (
            '[[model]]\nid = "legacy_seresnet50.in1k"\nfactory = "tiny_senet.py:build"\n',
            "The id 'legacy_seresnet50.in1k' in {name} is already a built-in model",
        ),
        ("[[model\n", "The model catalog {name} cannot be read ("),
        (
            '[[model]]\nid = "a"\nname = "Mine"\nfactory = "m.py:f"\n'
            '[[model]]\nid = "b"\nname = "Mine"\nfactory = "m.py:g"\n',
            "The model catalog {name} lists the name 'Mine' twice.",
        ),
    ],
)
def test_catalog_mistakes_are_named(net, monkeypatch, body, sentence):
    catalog = _catalog(net, body)
    monkeypatch.setenv("SE_VIZ_CATALOG", str(catalog))
    with pytest.raises(ModelLoadError) as exc:
        se_viz.catalog()
    assert _sentence(exc).startswith(sentence.format(name=catalog.name))


# --------------------------------------------------------------------------------------------
# The documented example


def test_the_documented_example_loads_through_its_catalog(tmp_path, monkeypatch):
    folder = tmp_path / "examples"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("*.safetensors", "__pycache__"))
    example = _import(folder / "my_senet.py", "my_senet_doc_example")
    accuracy = example.train(folder / "my_senet.safetensors", steps=2, batch=8)
    assert 0.0 <= accuracy <= 1.0
    monkeypatch.setenv("SE_VIZ_CATALOG", str(folder / "my_models.toml"))
    lm = se_viz.load_model("my_senet.shapes")
    from se_viz.demo.synthetic import CLASSES as SHAPES

    assert lm.labels == SHAPES
    assert [b.name for b in lm.blocks] == [f"SE_{s}_{b}" for s in (2, 3, 4) for b in (1, 2)]
    assert lm.data_config["input_size"] == (3, 64, 64) and lm.defaults == ["mean", "std"]
    assert lm.display_name == "My SE-Net"
    # The guide shows the catalog file and the commands exactly as they are.
    guide = (ROOT / "docs" / "your-own-network.md").read_text()
    assert (EXAMPLES / "my_models.toml").read_text().strip() in guide
    for command in (
        "python docs/examples/my_senet.py",
        "SE_VIZ_CATALOG=docs/examples/my_models.toml SE_VIZ_MODEL=my_senet.shapes streamlit run app.py",
        "se-viz capture",
    ):
        assert command in guide


def test_the_app_names_a_broken_catalog_instead_of_drawing(net, app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    catalog = _catalog(net, '[[model]]\nid = "x"\n')
    monkeypatch.setenv("SE_VIZ_CATALOG", str(catalog))
    app_env(None)
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"**The model catalog cannot be used.** Entry 1 of the model catalog {catalog.name} "
        "needs a 'factory' (text)."
    ]


def test_the_readme_sends_a_newcomer_to_the_guide():
    """The README says in one row where to go; the guide (checked above) shows the files as they are."""
    readme = (ROOT / "README.md").read_text()
    assert "[docs/your-own-network.md](docs/your-own-network.md)" in readme
