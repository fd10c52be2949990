"""``se-viz train-demo``: train the bundled SE-ResNet mini on the synthetic task, reproducibly.

Training draws a fresh batch from :mod:`se_viz.synthetic` at every step (seeded by ``[seed,
step, 1]``), so the network never sees an image twice and there is no separate training set to
store. It then measures accuracy on a held-out set generated from a different seed, measures the
class specificity of every SE block on that set (:mod:`se_viz.specificity`), and writes into
``--out-dir``: ``se_resnet_mini.safetensors`` (weights), ``se_resnet_mini.json`` (the config
``load_model`` reads), ``se_resnet_mini.md`` (model card) and ``se_resnet_mini_examples.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Optional

import numpy as np
import safetensors
import timm
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file
from timm.data import create_transform, resolve_model_data_config
from torch import nn
from tqdm import tqdm

from ..analysis.specificity import SpecificityResult, class_specificity
from ..engine.blocks import find_se_blocks
from ..engine.capture import capture
from ..loading.catalog import MODELS_DIR
from ..loading.weights import read_weights
from . import synthetic
from .mini import DEFAULT_CONFIG, build_mini, read_config
from .plain_drawings import plain_drawings

__all__ = ["TrainResult", "add_arguments", "evaluate", "train_demo", "train_demo_cli", "write_report"]

STEM = "se_resnet_mini"
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "steps": 1000,
    "batch_size": 64,
    "lr": 4e-3,
    "weight_decay": 5e-4,
    "label_smoothing": 0.05,
    "eval_size": 1000,
    "eval_seed": 20240,
    "threads": 1,
}
# The plainly drawn test set (a different routine from training, see plain_drawings.py).
PLAIN_SIZE = 500
PLAIN_SEED = 0


@dataclass
class TrainResult:
    """What a training run produced: files, held-out accuracy, specificity and timing."""

    weights: Path
    config_path: Path
    card: Path
    accuracy: float
    per_class_accuracy: dict[str, float]
    specificity: SpecificityResult
    train_seconds: float
    params: int
    command: str
    plain_accuracy: float = float("nan")
    plain_per_class: Optional[dict[str, float]] = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``se-viz train-demo`` options to ``parser`` (defaults reproduce the bundled model)."""

    d = DEFAULTS
    parser.add_argument("--seed", type=int, default=d["seed"], help=f"training seed (default {d['seed']})")
    parser.add_argument(
        "--steps", type=int, default=d["steps"], help=f"optimiser steps (default {d['steps']})"
    )
    parser.add_argument(
        "--batch-size", type=int, default=d["batch_size"], help="images per step (default 64)"
    )
    parser.add_argument("--lr", type=float, default=d["lr"], help=f"peak learning rate (default {d['lr']})")
    parser.add_argument(
        "--eval-size",
        type=int,
        default=d["eval_size"],
        help=f"held-out images for accuracy and specificity (default {d['eval_size']})",
    )
    parser.add_argument(
        "--eval-seed",
        type=int,
        default=d["eval_seed"],
        help=f"seed of the held-out set (default {d['eval_seed']})",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=d["threads"],
        help="torch CPU threads (default 1: reproducible on any core count, robust on a shared CPU)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=MODELS_DIR,
        help=f"where weights, config and model card are written (default {MODELS_DIR})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="do not train: re-evaluate the weights in --out-dir and rewrite the model card",
    )


def _command(args: argparse.Namespace) -> str:
    """The full ``se-viz train-demo`` command equivalent to ``args`` (every option spelled out)."""

    parts = [
        "se-viz",
        "train-demo",
        "--seed",
        str(args.seed),
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--lr",
        repr(args.lr),
        "--eval-size",
        str(args.eval_size),
        "--eval-seed",
        str(args.eval_seed),
        "--threads",
        str(args.threads),
    ]
    if Path(args.out_dir).resolve() != Path(MODELS_DIR).resolve():
        parts += ["--out-dir", str(args.out_dir)]
    return shlex.join(parts)


def train_demo_cli(args: argparse.Namespace) -> int:
    """Run ``se-viz train-demo`` with parsed ``args``; print a summary; return the exit code."""
    if getattr(args, "report_only", False):
        result = write_report(Path(args.out_dir), eval_size=args.eval_size, eval_seed=args.eval_seed)
    else:
        result = train_demo(
            out_dir=Path(args.out_dir),
            seed=args.seed,
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            eval_size=args.eval_size,
            eval_seed=args.eval_seed,
            threads=args.threads,
            progress=not args.no_progress,
            command=_command(args),
        )
    print(
        f"held-out accuracy {result.accuracy * 100:.2f} % on {args.eval_size} images; "
        f"plain drawings {result.plain_accuracy * 100:.2f} % on {PLAIN_SIZE}; "
        f"trained in {result.train_seconds / 60:.1f} min"
    )
    for s in result.specificity.stages:
        print(f"  stage {s.stage}: class specificity ratio {s.ratio:.2f}, mean gate {s.mean_gate:.2f}")
    if getattr(args, "report_only", False):
        print(f"rewrote {result.card} from {result.weights.name}")
    else:
        print(f"wrote {result.weights}, {result.config_path.name}, {result.card.name}")
    return 0


def evaluate(
    model: nn.Module, images: np.ndarray, labels: np.ndarray, config: dict[str, Any], batch_size: int = 250
) -> np.ndarray:
    """Predicted class indices (N,) of ``model`` (put in eval mode) on uint8 images (N, H, W, 3)."""
    model.eval()
    preds = []
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = synthetic.make_batch(images[i : i + batch_size], config["mean"], config["std"])
            preds.append(model(x).argmax(1).numpy())
    return np.concatenate(preds)


def train_demo(
    out_dir: Path,
    *,
    seed: int = DEFAULTS["seed"],
    steps: int = DEFAULTS["steps"],
    batch_size: int = DEFAULTS["batch_size"],
    lr: float = DEFAULTS["lr"],
    eval_size: int = DEFAULTS["eval_size"],
    eval_seed: int = DEFAULTS["eval_seed"],
    threads: int = DEFAULTS["threads"],
    progress: bool = True,
    command: Optional[str] = None,
) -> TrainResult:
    """Train the mini SE-ResNet on freshly generated batches and write weights, config and card.

    Seeded end to end (torch init, data stream, held-out set) and run with deterministic
    algorithms, so the same arguments on the same library versions give the same weights on
    CPU. AdamW with a one-cycle schedule and light label smoothing. Returns a
    :class:`TrainResult`; files go to ``out_dir`` (created if needed).
    """

    torch.set_num_threads(max(1, int(threads)))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    config = dict(DEFAULT_CONFIG)
    config["classes"] = list(synthetic.CLASSES)
    model = build_mini(config)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=DEFAULTS["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 2), pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=DEFAULTS["label_smoothing"])

    started = time.perf_counter()
    model.train()
    ema_loss, ema_acc = math.nan, math.nan
    bar = tqdm(range(steps), desc="train-demo", unit="step", disable=not progress, dynamic_ncols=True)
    for step in bar:
        images, labels = synthetic.generate(batch_size, [seed, step, 1])
        x = synthetic.make_batch(images, config["mean"], config["std"])
        y = torch.from_numpy(labels)
        logits = model(x)
        loss = loss_fn(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        acc = float((logits.argmax(1) == y).float().mean())
        loss_value = float(loss.detach())
        # Smoothed numbers for the bar: single batches of 64 are too noisy to read.
        ema_loss = loss_value if math.isnan(ema_loss) else 0.95 * ema_loss + 0.05 * loss_value
        ema_acc = acc if math.isnan(ema_acc) else 0.95 * ema_acc + 0.05 * acc
        bar.set_postfix(loss=f"{ema_loss:.3f}", acc=f"{ema_acc * 100:.1f}%")
    bar.close()
    train_seconds = time.perf_counter() - started
    model.eval()

    weights = out_dir / f"{STEM}.safetensors"
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # The run's facts travel with the weights, so the card can be rebuilt from the file alone.
    load = os.getloadavg()[1] if hasattr(os, "getloadavg") else float("nan")
    meta = {
        "architecture": STEM,
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "threads": threads,
        "load_average": round(load, 1),
        "train_seconds": round(train_seconds, 1),
        "params": params,
        "command": command or f"se-viz train-demo --seed {seed} --steps {steps}",
    }
    save_file(state, str(weights), metadata={k: str(v) for k, v in meta.items()})
    config_path = out_dir / f"{STEM}.json"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    return write_report(out_dir, eval_size=eval_size, eval_seed=eval_seed)


def write_report(
    out_dir: Path, *, eval_size: int = DEFAULTS["eval_size"], eval_seed: int = DEFAULTS["eval_seed"]
) -> TrainResult:
    """Evaluate the trained weights in ``out_dir`` and (re)write the model card and example grid.

    Everything comes from the files written by training: the config JSON, and the weights with
    the run's facts (seed, steps, command, wall time) in their safetensors metadata, so the card
    can be rebuilt without training (``se-viz train-demo --report-only``). Accuracy and class
    specificity are measured on a held-out set of ``eval_size`` images generated from
    ``eval_seed`` — a plain integer seed, which never coincides with a training batch's
    ``[seed, step, 1]``.
    """

    out_dir = Path(out_dir)
    weights = out_dir / f"{STEM}.safetensors"
    config_path = out_dir / f"{STEM}.json"
    config = read_config(config_path)
    model = build_mini(config)
    model.load_state_dict(read_weights(weights), strict=True)
    model.eval()
    with safe_open(str(weights), framework="pt") as fh:
        meta = fh.metadata() or {}

    ev_images, ev_labels = synthetic.generate(eval_size, eval_seed)
    preds = evaluate(model, ev_images, ev_labels, config)
    accuracy = float((preds == ev_labels).mean())
    per_class = {name: float((preds[ev_labels == k] == k).mean()) for k, name in enumerate(synthetic.CLASSES)}
    plain_acc, plain_per_class = plain_drawing_accuracy(model)
    spec = _specificity(model, ev_images, ev_labels, config)
    # The same measure on the same images through a random network of the same shape: random
    # gates already depend on the input (mostly its colours), so this is the baseline the
    # trained numbers should be read against. timm zero-initialises the last BN of every block,
    # which would make every gate of a fresh net constant, so the baseline re-inits without it.
    torch.manual_seed(int(meta.get("seed", 0)))
    random_net = build_mini(config)
    for module in random_net.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
    baseline = _specificity(random_net.eval(), ev_images, ev_labels, config)

    _example_grid(out_dir / f"{STEM}_examples.png")
    card = out_dir / f"{STEM}.md"
    result = TrainResult(
        weights=weights,
        config_path=config_path,
        card=card,
        accuracy=accuracy,
        per_class_accuracy=per_class,
        specificity=spec,
        train_seconds=float(meta.get("train_seconds", "nan")),
        params=sum(p.numel() for p in model.parameters()),
        command=meta.get("command", "se-viz train-demo"),
        plain_accuracy=plain_acc,
        plain_per_class=plain_per_class,
    )
    hp = dict(
        seed=meta.get("seed", "?"),
        steps=int(meta.get("steps", 0)),
        batch_size=int(meta.get("batch_size", 0)),
        lr=meta.get("lr", "?"),
        threads=meta.get("threads", "?"),
        eval_size=eval_size,
        eval_seed=eval_seed,
        load_average=meta.get("load_average"),
    )
    card.write_text(_model_card(result, config, model, baseline=baseline, **hp), encoding="utf-8")
    return result


def plain_drawing_accuracy(
    model: nn.Module, n: int = PLAIN_SIZE, seed: int = PLAIN_SEED
) -> tuple[float, dict[str, float]]:
    """Top-1 accuracy (overall, per class) on ``n`` plain paint-program drawings.

    The drawings (:mod:`se_viz.demo.plain_drawings`, 128–320 px) go through the model's own
    timm preprocessing — resize to 64×64 — exactly as an uploaded drawing does in the app.
    """

    transform = create_transform(**resolve_model_data_config(model), is_training=False)
    images, labels = plain_drawings(n, seed)
    model.eval()
    with torch.inference_mode():
        preds = model(torch.stack([transform(img) for img in images])).argmax(1).numpy()
    per_class = {name: float((preds[labels == k] == k).mean()) for k, name in enumerate(synthetic.CLASSES)}
    return float((preds == labels).mean()), per_class


def _specificity(
    model: nn.Module, images: np.ndarray, labels: np.ndarray, config: dict[str, Any]
) -> SpecificityResult:

    gates: dict[str, list[np.ndarray]] = {}
    blocks = find_se_blocks(model)  # once, not per batch
    for i in range(0, len(images), 250):
        cap = capture(
            model, synthetic.make_batch(images[i : i + 250], config["mean"], config["std"]), blocks=blocks
        )
        for name, g in cap.gates.items():
            gates.setdefault(name, []).append(g)
    return class_specificity({k: np.concatenate(v) for k, v in gates.items()}, labels, blocks)


def _example_grid(path: Path, per_class: int = 4, seed: int = 0) -> None:
    """A small PNG: one row per class, ``per_class`` examples each (same as ``example_images``)."""

    examples = synthetic.example_images(seed=seed, per_class=per_class)
    k = len(synthetic.CLASSES)
    s, pad = synthetic.IMAGE_SIZE, 2
    grid = Image.new("RGB", (per_class * (s + pad) + pad, k * (s + pad) + pad), (255, 255, 255))
    for i, (_, img) in enumerate(examples):
        row, col = divmod(i, per_class)
        grid.paste(img, (pad + col * (s + pad), pad + row * (s + pad)))
    # The pixel noise makes a true-colour PNG ~400 kB; a 256-colour palette keeps it small.
    grid.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


def _model_card(
    r: TrainResult, config: dict[str, Any], model: nn.Module, *, baseline: SpecificityResult, **hp: Any
) -> str:

    blocks = find_se_blocks(model)
    size_mb = r.weights.stat().st_size / 1e6
    lines = [
        "# SE-ResNet mini — synthetic shapes (works offline)",
        "",
        "A small SE-ResNet trained by this project on images generated in code, bundled so that",
        "se_viz works without any network and its gates mean something. Load it with",
        '`se_viz.load_model("se_resnet_mini.synthetic")`. This card is written by `se-viz train-demo`.',
        "",
        "## Architecture",
        "",
        f"timm `ResNet` with `BasicBlock`, layers {config['layers']}, channels {config['channels']}, "
        f"stem width {config['stem_width']}, `attn_layer='se'` (timm `SEModule`, reduction 1/16 "
        f"rounded up to a multiple of 8). Stem: 7×7 conv stride 2"
        + (
            " + 3×3 max-pool stride 2 (64×64 → 16×16)"
            if config.get("stem_pool", True)
            else " (no max-pool; 64×64 → 32×32)"
        )
        + f". **{r.params:,} parameters**; weights {size_mb:.1f} MB (safetensors, fp32).",
        "",
        f"Input {config['input_size'][1]}×{config['input_size'][2]} RGB, normalised with mean "
        f"{config['mean']} and std {config['std']}. {len(blocks)} SE blocks, named as in the paper:",
        "",
        "| block | module | channels C | reduced r |",
        "| --- | --- | ---: | ---: |",
        *[f"| {b.name} | `{b.path}` | {b.channels} | {b.reduced} |" for b in blocks],
        "",
        "## Classes",
        "",
        "![Four generated examples of every class, one row per class, in the order below]"
        "(se_resnet_mini_examples.png)",
        "",
        *[f"{i}. {name}" for i, name in enumerate(synthetic.CLASSES)],
        "",
        "## Data generator (`se_viz/demo/synthetic.py`)",
        "",
        *_generator_facts(),
        "",
        "Training draws a fresh batch at every step (seed sequence `[seed, step, 1]`), so no image",
        "is seen twice; the held-out set comes from a plain integer seed and never overlaps it.",
        "",
        "## Training",
        "",
        f"* Command: `{r.command}`",
        f"* Seed {hp['seed']}; {hp['steps']} steps × {hp['batch_size']} images = "
        f"{hp['steps'] * hp['batch_size']:,} generated images; AdamW (peak lr {hp['lr']}, weight decay "
        f"{DEFAULTS['weight_decay']}), one-cycle schedule, label smoothing {DEFAULTS['label_smoothing']}.",
        f"* Wall time of the training loop: **{r.train_seconds / 60:.1f} min** ({r.train_seconds:.0f} s) on "
        f"{hp['threads']} CPU thread(s) ({platform.processor() or platform.machine()}), no GPU"
        + (
            f"; the machine was shared (5-minute load average {hp['load_average']} at the end)."
            if hp.get("load_average") not in (None, "nan")
            else "."
        ),
        f"* Versions: Python {platform.python_version()}, torch {torch.__version__}, "
        f"timm {timm.__version__}, "
        f"safetensors {safetensors.__version__}, numpy {np.__version__}.",
        "",
        "## Accuracy on a fresh held-out set",
        "",
        f"**{r.accuracy * 100:.1f} %** top-1 on {hp['eval_size']} generated images (seed {hp['eval_seed']}, "
        f"balanced: {hp['eval_size'] // len(synthetic.CLASSES)} per class).",
        "",
        "| class | accuracy |",
        "| --- | ---: |",
        *[f"| {name} | {acc * 100:.1f} % |" for name, acc in r.per_class_accuracy.items()],
        "",
        "## Accuracy on plain drawings (a different routine)",
        "",
        f"**{r.plain_accuracy * 100:.1f} %** top-1 on {PLAIN_SIZE} drawings made by "
        f"`se_viz/demo/plain_drawings.py` (seed {PLAIN_SEED}): what a teacher draws in a paint program — "
        "white canvas of 128–320 px, paint-box colours or black, no noise, no clutter, no anti-aliasing "
        "— red disc, blue axis-aligned square, upright green triangle, five-pointed star, ring outline, "
        "3–10 stripe pairs (horizontal, vertical, 45° either way), axis-aligned checkerboards of 3–10 "
        "cells, square dot grids of 3–8 per row; resized to 64×64 by the model's own preprocessing.",
        "",
        "| class | accuracy |",
        "| --- | ---: |",
        *[f"| {name} | {acc * 100:.1f} % |" for name, acc in (r.plain_per_class or {}).items()],
        "",
        "## Class specificity of the SE gates",
        "",
        "Measured with `se_viz.specificity.class_specificity` on the held-out set, grouped by the",
        "true class. Per block, with gate vectors g ∈ [0, 1]^C and class means μ_k:",
        "",
        "* **between** = mean over all class pairs of ‖μ_k − μ_l‖₂ / √C (RMS per-channel difference",
        "  between class-mean gates);",
        "* **within** = mean over classes of the mean ‖g_i − μ_k‖₂ / √C over that class's images;",
        "* **ratio** = between / within — about 0 when every class gets the same gates on average,",
        f"  well above 1 when gates separate classes (sampling floor ≈ √(2/n) ≈ "
        f"{math.sqrt(2 / max(1, hp['eval_size'] // len(synthetic.CLASSES))):.2f} here);",
        "* **saturated** = fraction of gate values within 0.05 of 0 or 1.",
        "",
        "Per stage the numbers are means over the stage's blocks. *Random-net ratio*: the same",
        "measure on the same images through a randomly initialised network of the same shape",
        "(timm's init, but without zeroing the last BN of each block, which would make every gate",
        "constant); a random network's gates already depend on the input, mostly on its colours.",
        "",
        "| stage | blocks | between | within | ratio | mean gate | saturated | random-net ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {s.stage} | {', '.join(s.blocks)} | {s.between:.3g} | {s.within:.3g} | **{s.ratio:.2f}** | "
            f"{s.mean_gate:.2f} | {s.saturated * 100:.0f} % | {u.ratio:.2f} |"
            for s, u in zip(r.specificity.stages, baseline.stages, strict=True)
        ],
        "",
        "| block | between | within | ratio | mean gate | saturated |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {b.name} | {b.between:.3g} | {b.within:.3g} | {b.ratio:.2f} | {b.mean_gate:.2f} | "
            f"{b.saturated * 100:.0f} % |"
            for b in r.specificity.blocks
        ],
        "",
        "### Interpretation",
        "",
        _interpretation(r.specificity, baseline),
        "",
    ]
    return "\n".join(lines)


def _generator_facts() -> list[str]:
    """The data generator described from its own constants (so the card cannot drift from it)."""
    g = synthetic

    def pct(p):
        return f"{p * 100:.0f} %"

    bg = ", ".join(f"{name} {pct(p)}" for name, p in g.BACKGROUND_P.items())
    return [
        "Numpy + Pillow only, seeded with `numpy.random.Generator`. Every 64×64 image has one object on",
        f"a background — {bg} (gradients carry {g.CLUTTER_ITEMS[0]}–{g.CLUTTER_ITEMS[1]} clutter items:",
        f"short thin lines and small specks in muted colours) — and Gaussian pixel noise (σ "
        f"{g.NOISE_SIGMA[0]:g}–{g.NOISE_SIGMA[1]:g}).",
        "",
        f"* *red circle*, *blue square*, *green triangle*: fixed hue ±{g.HUE_JITTER:g} (HSV), saturation "
        f"{g.VIVID_SATURATION[0]:g}–{g.VIVID_SATURATION[1]:g}, "
        f"value {g.VIVID_VALUE[0]:g}–{g.VIVID_VALUE[1]:g}, "
        f"random position, radius {pct(g.SHAPE_RADIUS[0])}–{pct(g.SHAPE_RADIUS[1])} of the image, upright "
        f"{pct(g.AXIS_ALIGNED_P)} of the time and otherwise at any rotation, slight shading. Colour and "
        "shape both identify the class.",
        f"* *star*, *ring* (width {pct(g.RING_WIDTH[0])}–{pct(g.RING_WIDTH[1])} of the radius): the same, "
        f"but in a random hue or ({pct(g.DARK_INK_P)}) black / dark grey — only the shape identifies them.",
        f"* *horizontal / vertical / diagonal (45° or 135°) stripes*: a square-wave grating, period "
        f"{g.PERIOD_PX[0]:g}–{g.PERIOD_PX[1]:g} px (log-uniform: fine and coarse), duty 35–65 %, orientation "
        f"jittered ±{g.ORIENTATION_JITTER_DEG:g}° — only the orientation identifies them.",
        f"* *checkerboard* (cells {g.CHECKER_CELL_PX[0]:g}–{g.CHECKER_CELL_PX[1]:g} px) and *dots* (period "
        f"{max(5.0, g.PERIOD_PX[0]):g}–{g.PERIOD_PX[1]:g} px): "
        f"unrotated {pct(g.AXIS_ALIGNED_P)} of the time, "
        "otherwise at any rotation.",
        f"* Textures fill the whole image {pct(g.WHOLE_IMAGE_TEXTURE_P)} of the time, otherwise an ellipse "
        f"or box of half-size {pct(g.TEXTURE_HALF_SIZE[0])}–{pct(g.TEXTURE_HALF_SIZE[1])} (never less than "
        f"about two periods); {pct(g.INK_ON_WHITE_P)} are one ink (black or a colour) on white, the rest two "
        "vivid colours kept apart in brightness.",
    ]


def _interpretation(spec: SpecificityResult, baseline: Optional[SpecificityResult] = None) -> str:
    """Plain sentences stating what the measured per-stage numbers show (no claim beyond them)."""
    stages = [s for s in spec.stages if s.stage is not None]
    if not stages:
        return "No stage information was available."
    ratios = ", ".join(f"stage {s.stage} {s.ratio:.2f}" for s in stages)
    top = max(stages, key=lambda s: s.ratio)
    low = min(stages, key=lambda s: s.ratio)
    text = [f"Ratio of between-class to within-class spread of the gates, by stage: {ratios}."]
    if all(a.ratio <= b.ratio for a, b in pairwise(stages)):
        text.append("It rises with every stage, the trend the SE paper reports for ImageNet.")
    else:
        text.append(
            f"It does not rise steadily with depth (highest in stage {top.stage}, lowest in stage "
            f"{low.stage}), so on this measure the network does not reproduce the SE paper's picture "
            "of class-agnostic early and class-specific late blocks."
        )
    first, last = stages[0], stages[-1]
    if all(a.between <= b.between for a, b in pairwise(stages)) and last.between > 2 * first.between:
        text.append(
            f"In absolute terms the class-mean gates do drift apart with depth (between = "
            f"{first.between:.3f} in stage {first.stage}, {last.between:.3f} in stage {last.stage}, "
            "RMS per channel), but the variation among images of one class grows about as fast."
        )
    if baseline is not None:
        base = [b for b in baseline.stages if b.stage is not None]
        if len(base) == len(stages) and all(s.ratio > b.ratio for s, b in zip(stages, base, strict=True)):
            text.append(
                "Every stage is more class-specific than in the same network with random weights "
                f"(ratios {min(b.ratio for b in base):.2f}–{max(b.ratio for b in base):.2f})."
            )
    if last.saturated >= 0.5 or last.mean_gate >= 0.9:
        text.append(
            f"The last stage's gates are largely saturated (mean {last.mean_gate:.2f}, "
            f"{last.saturated * 100:.0f} % within 0.05 of 0 or 1), much as the paper saw in SE_5_2."
        )
    text.append("These numbers describe one small network on a synthetic task, not SE networks in general.")
    return " ".join(text)
