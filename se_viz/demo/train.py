"""``se-viz train-demo``: train the bundled SE-ResNet mini on the synthetic task, reproducibly.

Training draws a fresh batch from :mod:`se_viz.demo.synthetic` at every step (seeded by ``[seed,
step, 1]``), so the network never sees an image twice and there is no separate training set to
store. It then measures accuracy on a held-out set generated from a different seed and on three
sets drawn by other routines (:mod:`se_viz.demo.plain_drawings`, :mod:`se_viz.demo.texture_drawings`,
:mod:`se_viz.demo.colour_pair_drawings`),
measures the class specificity of every SE block on the held-out set
(:mod:`se_viz.analysis.specificity`), and writes into
``--out-dir``: ``se_resnet_mini.safetensors`` (weights), ``se_resnet_mini.json`` (the config
``load_model`` reads), ``se_resnet_mini.md`` (model card, :mod:`se_viz.demo.model_card`) and
``se_resnet_mini_examples.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import numpy as np
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
from .colour_pair_drawings import COLOUR_PAIR_SEED, COLOUR_PAIR_SIZE, colour_pair_drawings
from .mini import DEFAULT_CONFIG, build_mini, read_config
from .model_card import model_card
from .plain_drawings import plain_drawings
from .texture_drawings import TEXTURE_SEED, TEXTURE_SIZE, texture_drawings

__all__ = [
    "TrainResult",
    "add_arguments",
    "drawing_accuracy",
    "evaluate",
    "plain_drawing_accuracy",
    "card_facts",
    "colour_pair_accuracy",
    "run_facts",
    "texture_drawing_accuracy",
    "torch_settings",
    "train_demo",
    "training_recipe",
    "train_demo_cli",
    "write_report",
]

STEM = "se_resnet_mini"
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "steps": 2300,  # from scratch; the bundled model then was fine-tuned (--init-from, see its card)
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
    texture_accuracy: float = float("nan")
    texture_per_class: Optional[dict[str, float]] = None
    colour_pair_accuracy: float = float("nan")
    colour_pair_per_class: Optional[dict[str, float]] = None


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
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        metavar="WEIGHTS",
        help="start from these mini weights (a .safetensors file written by train-demo) instead of a "
        "random network: fine-tuning, best with a lower --lr so what the weights already know stays",
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
    if getattr(args, "init_from", None) is not None:
        parts += ["--init-from", str(args.init_from)]
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
            init_from=args.init_from,
            progress=not args.no_progress,
            command=_command(args),
        )
    print(
        f"held-out accuracy {result.accuracy * 100:.2f} % on {args.eval_size} images; "
        f"plain drawings {result.plain_accuracy * 100:.2f} % on {PLAIN_SIZE}; "
        f"texture drawings {result.texture_accuracy * 100:.2f} % on {TEXTURE_SIZE}; "
        f"colour-pair drawings {result.colour_pair_accuracy * 100:.2f} % on {COLOUR_PAIR_SIZE}; "
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
    init_from: Optional[Path] = None,
    progress: bool = True,
    command: Optional[str] = None,
) -> TrainResult:
    """Train the mini SE-ResNet on freshly generated batches and write weights, config and card.

    Seeded end to end (torch init, data stream, held-out set) and run with deterministic
    algorithms, so the same arguments on the same library versions give the same weights on
    CPU. AdamW with a one-cycle schedule and light label smoothing. Returns a
    :class:`TrainResult`; files go to ``out_dir`` (created if needed). The process-wide torch
    settings it needs (thread count, deterministic algorithms, the global RNG) are put back as
    they were when it returns or raises.

    ``init_from`` (a weights file of this architecture) fine-tunes instead of training from a
    random network: a retrain from scratch on a widened generator loses some of what the old
    weights did well, so continuing from them with a lower peak ``lr`` keeps those strengths
    while the new images teach the rest. The weights' metadata records where they started.
    """
    with torch_settings(threads=threads, deterministic=True):
        torch.manual_seed(seed)
        _train_and_save(
            Path(out_dir), seed=seed, steps=steps, batch_size=batch_size, lr=lr, threads=threads,
            init_from=init_from, progress=progress, command=command,
        )  # fmt: skip
        return write_report(Path(out_dir), eval_size=eval_size, eval_seed=eval_seed)


@contextlib.contextmanager
def torch_settings(*, threads: Optional[int] = None, deterministic: bool = False) -> Iterator[None]:
    """Set torch's process-wide thread count / deterministic mode for a block, then restore them.

    Training runs inside other processes (a notebook, the test suite, the app); leaving torch on
    one thread or in deterministic mode would silently slow down or change whatever runs next.
    The global CPU random state is restored too, since seeding it is part of training.
    """
    saved_threads = torch.get_num_threads()
    saved_deterministic = torch.are_deterministic_algorithms_enabled()
    saved_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    saved_rng = torch.get_rng_state()
    try:
        if threads is not None:
            torch.set_num_threads(max(1, int(threads)))
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        yield
    finally:
        torch.set_rng_state(saved_rng)
        torch.use_deterministic_algorithms(saved_deterministic, warn_only=saved_warn_only)
        torch.set_num_threads(saved_threads)


def _train_and_save(
    out_dir: Path,
    *,
    seed: int,
    steps: int,
    batch_size: int,
    lr: float,
    threads: int,
    init_from: Optional[Path],
    progress: bool,
    command: Optional[str],
) -> None:
    """The training loop proper; writes the weights (with the run's facts) and the config."""
    out_dir.mkdir(parents=True, exist_ok=True)

    config = dict(DEFAULT_CONFIG)
    config["classes"] = list(synthetic.CLASSES)
    model = build_mini(config)
    if init_from is not None:
        _load_start(model, Path(init_from))
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=DEFAULTS["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(steps, 2), pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=DEFAULTS["label_smoothing"])

    started = time.perf_counter()
    model.train()
    ema_loss, ema_acc = math.nan, math.nan
    bar = tqdm(range(steps), desc="train-demo", unit="step", disable=not progress, dynamic_ncols=True)
    for step in bar:
        images, labels = synthetic.generate(
            batch_size, [seed, step, 1], class_repeats=synthetic.TRAIN_CLASS_REPEATS
        )
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
        "weight_decay": DEFAULTS["weight_decay"],
        "label_smoothing": DEFAULTS["label_smoothing"],
        "command": command or f"se-viz train-demo --seed {seed} --steps {steps}",
    }
    if init_from is not None:
        meta.update(_start_facts(Path(init_from)))
    save_file(state, str(weights), metadata={k: str(v) for k, v in meta.items()})
    config_path = out_dir / f"{STEM}.json"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _load_start(model: nn.Module, weights: Path) -> None:
    """Load the weights a fine-tuning run starts from, or say plainly why they cannot be used."""
    if not weights.is_file():
        raise FileNotFoundError(
            f"There are no weights to start from at {weights}: give the path of a se_resnet_mini "
            ".safetensors file written by `se-viz train-demo`."
        )
    try:
        model.load_state_dict(read_weights(weights), strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"{weights} does not hold weights of the SE-ResNet mini (a different network or class "
            f"list), so training cannot start from it: {str(err).splitlines()[0]}"
        ) from err


def _start_facts(weights: Path) -> dict[str, Any]:
    """What a fine-tuned run records about its start: the file, and the command that made it."""
    start = run_facts(weights)
    return {
        "init_from": weights.name,
        "init_command": start.get("command", "?"),
        "init_steps": start.get("steps", "?"),
    }


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
    meta = run_facts(weights)

    ev_images, ev_labels = synthetic.generate(eval_size, eval_seed)
    preds = evaluate(model, ev_images, ev_labels, config)
    accuracy = float((preds == ev_labels).mean())
    per_class = {name: float((preds[ev_labels == k] == k).mean()) for k, name in enumerate(synthetic.CLASSES)}
    plain_acc, plain_per_class = plain_drawing_accuracy(model)
    texture_acc, texture_per_class = texture_drawing_accuracy(model)
    pair_acc, pair_per_class = colour_pair_accuracy(model)
    spec = _specificity(model, ev_images, ev_labels, config)
    # The same measure on the same images through a random network of the same shape: random
    # gates already depend on the input (mostly its colours), so this is the baseline the
    # trained numbers should be read against. timm zero-initialises the last BN of every block,
    # which would make every gate of a fresh net constant, so the baseline re-inits without it.
    with torch_settings():  # seeding the baseline must not move the caller's random state
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
        texture_accuracy=texture_acc,
        texture_per_class=texture_per_class,
        colour_pair_accuracy=pair_acc,
        colour_pair_per_class=pair_per_class,
    )
    text = model_card(
        result,
        config,
        model,
        baseline=baseline,
        recipe=training_recipe(meta),
        **card_facts(meta, eval_size=eval_size, eval_seed=eval_seed),
        threads=meta.get("threads", "?"),
        load_average=meta.get("load_average"),
    )
    card.write_text(text, encoding="utf-8")
    return result


def run_facts(weights: Path) -> dict[str, str]:
    """The training run's facts stored in the weights' safetensors metadata (seed, steps, command …)."""
    with safe_open(str(weights), framework="pt") as fh:
        return dict(fh.metadata() or {})


def training_recipe(meta: dict[str, str]) -> dict[str, Any]:
    """The fixed training constants of the run in ``meta`` (older weights predate recording them)."""
    return {k: meta.get(k, DEFAULTS[k]) for k in ("weight_decay", "label_smoothing")}


def card_facts(
    meta: dict[str, str], *, eval_size: int = DEFAULTS["eval_size"], eval_seed: int = DEFAULTS["eval_seed"]
) -> dict[str, Any]:
    """What the card states about a run and its test sets, none of it measured."""
    return dict(
        command=meta.get("command", "se-viz train-demo"),
        init_command=meta.get("init_command"),
        init_steps=meta.get("init_steps"),
        seed=meta.get("seed", "?"),
        steps=int(meta.get("steps", 0)),
        batch_size=int(meta.get("batch_size", 0)),
        lr=meta.get("lr", "?"),
        eval_size=eval_size,
        eval_seed=eval_seed,
        plain_size=PLAIN_SIZE,
        plain_seed=PLAIN_SEED,
        texture_size=TEXTURE_SIZE,
        texture_seed=TEXTURE_SEED,
        colour_pair_size=COLOUR_PAIR_SIZE,
        colour_pair_seed=COLOUR_PAIR_SEED,
    )


def drawing_accuracy(
    model: nn.Module, images: Sequence[Image.Image], labels: np.ndarray
) -> tuple[float, dict[str, float]]:
    """Top-1 accuracy (overall, per class) of ``model`` on drawings of any size.

    The drawings go through the model's own timm preprocessing — resize to 64×64 — exactly as
    an uploaded drawing does in the app, not through the training batcher.
    """
    transform = create_transform(**resolve_model_data_config(model), is_training=False)
    model.eval()
    preds = []
    with torch.inference_mode():
        for i in range(0, len(images), 100):
            batch = torch.stack([transform(img) for img in images[i : i + 100]])
            preds.append(model(batch).argmax(1).numpy())
    pred = np.concatenate(preds)
    per_class = {name: float((pred[labels == k] == k).mean()) for k, name in enumerate(synthetic.CLASSES)}
    return float((pred == labels).mean()), per_class


def plain_drawing_accuracy(
    model: nn.Module, n: int = PLAIN_SIZE, seed: int = PLAIN_SEED
) -> tuple[float, dict[str, float]]:
    """Top-1 accuracy (overall, per class) on ``n`` plain paint-program drawings (:mod:`.plain_drawings`)."""
    return drawing_accuracy(model, *plain_drawings(n, seed))


def texture_drawing_accuracy(
    model: nn.Module, n: int = TEXTURE_SIZE, seed: int = TEXTURE_SEED
) -> tuple[float, dict[str, float]]:
    """Top-1 accuracy (overall, per class) on ``n`` texture drawings (:mod:`.texture_drawings`)."""
    return drawing_accuracy(model, *texture_drawings(n, seed))


def colour_pair_accuracy(
    model: nn.Module, n: int = COLOUR_PAIR_SIZE, seed: int = COLOUR_PAIR_SEED
) -> tuple[float, dict[str, float]]:
    """Top-1 accuracy (overall, per class) on ``n`` colour-pair drawings (:mod:`.colour_pair_drawings`)."""
    return drawing_accuracy(model, *colour_pair_drawings(n, seed))


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
    # The pixel noise makes a true-colour PNG of this grid 348 kB; a 256-colour palette makes it
    # 102 kB (both saved with optimize=True, sizes read from the files).
    grid.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
