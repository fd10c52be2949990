"""find_se_blocks recognises every SE kind the issue lists, and only those."""

import pytest
import timm
import torch
import torchvision
from torch import nn

import se_viz
from se_viz.engine.blocks import NoSEBlocksError, paper_name


class LinearSE(nn.Module):
    """The tutorial SE layer: pool -> Linear reduce -> ReLU -> Linear expand -> Sigmoid -> multiply."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        b, c, _, _ = x.shape
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class ConvSE(nn.Module):
    """The same with 1x1 convolutions, as in many papers' code."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, channels // reduction, 1)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(channels // reduction, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return x * self.sigmoid(self.expand(self.relu(self.reduce(self.pool(x)))))


class TinyNet(nn.Module):
    """A user's own small network with SE layers between plain convolutions."""

    def __init__(self, se_cls):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.se1 = se_cls(16)
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.se2 = se_cls(32)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        x = self.se1(torch.relu(self.conv1(x)))
        x = self.se2(torch.relu(self.conv2(x)))
        return self.head(x.mean((2, 3)))


def test_paper_names_of_legacy_seresnet50(legacy_r50):
    blocks = legacy_r50.blocks
    assert [b.name for b in blocks] == [
        f"SE_{s}_{b}" for s, n in ((2, 3), (3, 4), (4, 6), (5, 3)) for b in range(1, n + 1)
    ]
    assert [b.channels for b in blocks] == [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3
    assert all(b.reduced == b.channels // 16 for b in blocks)
    assert blocks[0].path == "layer1.0.se_module" and blocks[-1].path == "layer4.2.se_module"
    assert {b.gate_kind for b in blocks} == {"sigmoid"}
    assert blocks[4].stage == 3 and blocks[4].label == "SE_3_2 · layer2.1.se_module"


def test_paper_name_mapping():
    assert paper_name("layer1.0.se") == "SE_2_1"
    assert paper_name("layer4.2.se_module") == "SE_5_3"
    assert paper_name("features.3.block.1") is None


@pytest.mark.parametrize(
    "arch, count, first, kind",
    [
        ("seresnet50", 16, "SE_2_1", "sigmoid"),
        ("seresnext26d_32x4d", 8, "SE_2_1", "sigmoid"),
        ("legacy_seresnet18", 8, "SE_2_1", "sigmoid"),
        ("legacy_senet154", 50, "SE_2_1", "sigmoid"),
        ("efficientnet_b0", 16, "blocks.0.0.se", "sigmoid"),
    ],
)
def test_timm_models(arch, count, first, kind):
    model = timm.create_model(arch, pretrained=False)
    blocks = se_viz.find_se_blocks(model)
    assert len(blocks) == count  # and nothing else: EfficientNet's other layers are no gates
    assert blocks[0].name == first
    assert {b.gate_kind for b in blocks} == {kind}
    assert {b.kind for b in blocks} == {"se"} and blocks[0].label.count("·") <= 1  # labels as before
    for b in blocks:
        module = model.get_submodule(b.path)
        assert b.module_type == type(module).__name__
        assert model.get_submodule(b.reduce_path) is not None


def test_timm_module_kinds():
    new = se_viz.find_se_blocks(timm.create_model("seresnet50"))[0]
    legacy = se_viz.find_se_blocks(timm.create_model("legacy_seresnet50"))[0]
    eff = se_viz.find_se_blocks(timm.create_model("efficientnet_b0"))[0]
    assert (new.path, new.reduce_path, new.gate_path) == (
        "layer1.0.se",
        "layer1.0.se.fc1",
        "layer1.0.se.gate",
    )
    assert (legacy.reduce_path, legacy.gate_path) == ("layer1.0.se_module.fc1", "layer1.0.se_module.sigmoid")
    assert (eff.reduce_path, eff.gate_path) == ("blocks.0.0.se.conv_reduce", "blocks.0.0.se.gate")


@pytest.mark.parametrize(
    "ctor, count, kind",
    [
        (torchvision.models.regnet_y_400mf, 16, "sigmoid"),
        (torchvision.models.efficientnet_b0, 16, "sigmoid"),
        (torchvision.models.mobilenet_v3_small, 9, "hard-sigmoid"),
    ],
)
def test_torchvision_squeeze_excitation(ctor, count, kind):
    model = ctor()
    blocks = se_viz.find_se_blocks(model)
    assert len(blocks) == count
    assert {b.module_type for b in blocks} == {"SqueezeExcitation"}
    assert {b.gate_kind for b in blocks} == {kind}
    assert all(b.paper_name is None and b.name == b.path for b in blocks)


@pytest.mark.parametrize("se_cls", [LinearSE, ConvSE])
def test_user_written_se(se_cls):
    model = TinyNet(se_cls)
    blocks = se_viz.find_se_blocks(model)
    assert [b.path for b in blocks] == ["se1", "se2"]
    assert [(b.channels, b.reduced) for b in blocks] == [(16, 4), (32, 8)]
    assert blocks[0].gate_kind == "sigmoid"


def test_model_without_se_names_the_model():
    with pytest.raises(NoSEBlocksError, match="resnet18"):
        # Dropout at evaluation and BatchNorm scale channels, but not by the image: no gate.
        se_viz.find_se_blocks(timm.create_model("resnet18", drop_rate=0.5), "resnet18")
    with pytest.raises(NoSEBlocksError, match="Sequential"):
        se_viz.find_se_blocks(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()))


def test_bottleneck_is_not_mistaken_for_se():
    # Two 1x1 convs C->r->C with a sigmoid but also a 3x3 conv: not an SE block.
    block = nn.Sequential(
        nn.Conv2d(64, 16, 1), nn.Conv2d(16, 16, 3, padding=1), nn.Conv2d(16, 64, 1), nn.Sigmoid()
    )
    with pytest.raises(NoSEBlocksError):
        se_viz.find_se_blocks(block)
