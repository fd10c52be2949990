"""My own SE network: the tutorial SE layer inside a small ResNet, as se_viz's guide
"Your own network" (docs/your-own-network.md) uses it.

    python docs/examples/my_senet.py      # trains on se_viz's generated shapes, writes my_senet.safetensors
    SE_VIZ_CATALOG=docs/examples/my_models.toml SE_VIZ_MODEL=my_senet.shapes streamlit run app.py

Nothing here depends on se_viz except the training data of ``train``: se_viz finds the SE
layers by their structure and calls ``build()`` to make the network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn


class SELayer(nn.Module):
    """Squeeze-and-Excitation as the tutorials write it: pool, Linear → ReLU → Linear → Sigmoid, scale."""

    def __init__(self, channel: int, reduction: int = 4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channel, channel // reduction, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(channel // reduction, channel, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class SEBasicBlock(nn.Module):
    """A ResNet basic block with SE on the residual branch, before the addition (the paper's place)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.se = SELayer(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return self.relu(out + identity)


class MySENet(nn.Module):
    """Stem, three stages ``layer1``…``layer3`` of two SE blocks each (so se_viz names them
    SE_2_1 … SE_4_2, as the SE paper does), global pooling and a linear classifier."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 2, 1, bias=False)  # 64 px in, 32 px to layer1
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        stages, cin = [], widths[0]
        for i, cout in enumerate(widths):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(SEBasicBlock(cin, cout, stride), SEBasicBlock(cout, cout)))
            cin = cout
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def build() -> MySENet:
    """The factory se_viz calls, without arguments: the network, untrained (se_viz loads the weights)."""
    return MySENet(num_classes=10)


# The normalisation the weights are trained with: ImageNet's mean and std, which is also what se_viz
# uses when a catalog entry gives none (my_models.toml leaves them out to show that default).
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def train(out: Path, steps: int = 300, batch: int = 64, seed: int = 0) -> float:
    """Train ``build()`` on se_viz's generated shapes (10 classes, 64×64 px); save the weights as
    safetensors to ``out``; return the accuracy on 500 held-out images."""
    from safetensors.torch import save_file

    from se_viz.demo.synthetic import generate, make_batch

    torch.manual_seed(seed)
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=max(steps, 1))
    model.train()
    for step in range(steps):
        images, labels = generate(batch, seed=[seed, step, 1])
        loss = nn.functional.cross_entropy(model(make_batch(images, MEAN, STD)), torch.from_numpy(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    images, labels = generate(500, seed=10_000 + seed)
    with torch.inference_mode():
        accuracy = float((model(make_batch(images, MEAN, STD)).argmax(1).numpy() == labels).mean())
    save_file(model.state_dict(), str(out))
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train MySENet on generated shapes and save its weights.")
    parser.add_argument("--steps", type=int, default=300, help="training steps of 64 images (default 300)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("my_senet.safetensors"))
    args = parser.parse_args()
    acc = train(args.out, steps=args.steps)
    print(f"wrote {args.out} (held-out accuracy {100 * acc:.1f} %)")
