"""The bodies of ``se-viz atlas``, ``se-viz prune`` and ``se-viz faithfulness`` (``se_viz.cli`` only parses).

Each prints a readable table by default and, with ``--json``, one JSON document on stdout in the
formats documented in docs/channels.md (``se_viz.channel_atlas/1``, ``se_viz.pruning/1``,
``se_viz.faithfulness/1``), so scripts can rely on them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional, TextIO

import numpy as np

from ..datasets.reader import GateDataset, open_gate_dataset
from ..datasets.sources import file_name, read_bytes
from ..engine.capture import capture
from ..errors import InputError, ModelLoadError
from ..loading.image_sets import offline_sets
from ..loading.images import load_image
from ..loading.load import LoadedModel, load_model
from .atlas import ChannelAtlas, channel_maps, dataset_atlas
from .faithfulness import FAITHFULNESS_FORMAT, faithfulness_curves
from .images import ImageSet, fitting_sets, image_set
from .pruning import FRACTIONS, prune_curves
from .rankings import standard_rankings

__all__ = [
    "add_atlas_arguments",
    "add_study_arguments",
    "atlas_command",
    "atlas_html",
    "faithfulness_command",
    "model_of_dataset",
    "prune_command",
]


def add_atlas_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``se-viz atlas``."""
    parser.add_argument("dataset", metavar="DATASET", help="gate dataset folder or URI (from se-viz capture)")
    parser.add_argument("--block", required=True, help="SE block name, e.g. SE_5_2")
    parser.add_argument("--channel", type=int, required=True, help="channel index in the block")
    parser.add_argument("--k", type=int, default=8, help="images per side (default 8)")
    parser.add_argument(
        "--by", choices=("s", "z"), default="s", help="rank by the gate s (default) or the squeeze z"
    )
    parser.add_argument("--json", action="store_true", help="print the atlas as JSON (docs/channels.md)")
    parser.add_argument(
        "--html", metavar="FILE", help="also write a page with the images, u_c overlays and histogram"
    )
    parser.add_argument("--model", help="with --html: model to recompute u_c (default: the dataset's)")
    parser.add_argument("--weights", help="with --html: local weights file for --model")
    parser.add_argument("--batch-rows", type=int, default=4096, help="rows per streamed batch (default 4096)")


def model_of_dataset(
    ds: GateDataset, model: Optional[str] = None, weights: Optional[str] = None
) -> LoadedModel:
    """The network that captured ``ds`` (its manifest's id, weights file when one was given), or
    ``model``/``weights`` instead."""
    info = ds.manifest["model"]
    if model is None:
        kind = (info.get("weights") or {}).get("kind")
        path = (info.get("weights") or {}).get("path")
        if weights is None and kind not in ("bundled", "hub cache", "hub download", "untrained") and path:
            weights = path
        return load_model(info["id"], weights=weights, pretrained=bool(info.get("pretrained", True)))
    return load_model(model, weights=weights)


def _dataset_views(lm: LoadedModel, paths: list[str]) -> tuple[Any, list[np.ndarray]]:
    images = [load_image(read_bytes(p), name=file_name(p)) for p in paths]
    return lm.preprocess(images), [np.asarray(lm.input_view(img)) for img in images]


def atlas_html(atlas: ChannelAtlas, lm: LoadedModel, path: Path) -> None:
    """Write the atlas page: the 2k images read again from their paths, u_c recomputed for them
    (one batched pass), the overlay figure and the histogram, as one self-contained HTML file."""
    from ..figures.channels import atlas_figure, atlas_histogram

    rows = atlas.top + atlas.bottom
    batch, views = _dataset_views(lm, [r.path for r in rows])
    maps = channel_maps(lm.model, batch, lm.blocks, atlas.block, atlas.channel)
    k = len(atlas.top)
    atlas.with_maps(maps[:k], maps[k:])
    label = next((b.label for b in lm.blocks if b.name == atlas.block), atlas.block)
    figs = [
        atlas_figure(atlas, views[:k], views[k:], block_label=label),
        atlas_histogram(atlas, block_label=label),
    ]
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    page = "<html><head><meta charset='utf-8'><title>se_viz atlas</title></head><body>{}</body></html>"
    path.write_text(page.format("\n".join(parts)), encoding="utf-8")


def _print_atlas(atlas: ChannelAtlas, ds: GateDataset, out: TextIO) -> None:
    print(f"{ds!r}", file=out)
    print(
        f"channel {atlas.channel} of {atlas.block}, ranked by {atlas.quantity}, over {atlas.num_images} "
        f"images (mean {atlas.mean:.4f})",
        file=out,
    )
    for side, rows, pure in (("top", atlas.top, atlas.purity), ("bottom", atlas.bottom, atlas.bottom_purity)):
        print(
            f"\n{side} {len(rows)} — purity {100 * pure.purity:.0f} % {pure.majority} (by {pure.by})",
            file=out,
        )
        for r in rows:
            print(f"{r.rank:>4}  s={r.s:.4f}  z={r.z:+.4f}  {r.label or '-':<20} {r.path}", file=out)


def atlas_command(
    args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None
) -> int:
    """Run ``se-viz atlas``; exit status 2 when the dataset, block or channel cannot be used."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        ds = open_gate_dataset(args.dataset)
        atlas = dataset_atlas(
            ds, args.block, args.channel, args.k, quantity=args.by, batch_rows=args.batch_rows
        )
        if args.html:
            atlas_html(atlas, model_of_dataset(ds, args.model, args.weights), Path(args.html))
    except (FileNotFoundError, ValueError, KeyError, OSError, ModelLoadError, InputError) as exc:
        print(f"se-viz atlas: {exc}", file=err)
        return 2
    if args.json:
        json.dump(atlas.to_json(), out, indent=1)
        print(file=out)
    else:
        _print_atlas(atlas, ds, out)
    if args.html:
        print(f"wrote {args.html}", file=err)
    return 0


def add_study_arguments(parser: argparse.ArgumentParser, pruning: bool) -> None:
    """The arguments ``se-viz prune`` and ``se-viz faithfulness`` share (and the ones of each)."""
    parser.add_argument(
        "images",
        nargs="*",
        default=[],
        metavar="IMAGES",
        help="image files / folders (class = top-level sub-folder, for accuracy), or the name of an "
        f"offline set ({', '.join(offline_sets()) or 'none registered'}); default: the first offline set "
        "whose classes the model knows (the bundled mini model's generated shapes), else required",
    )
    parser.add_argument("--model", default="se_resnet_mini.synthetic", help="catalog id or timm name")
    parser.add_argument("--weights", help="local weights file")
    parser.add_argument("--untrained", action="store_true", help="random init (structure only)")
    parser.add_argument("-n", type=int, default=100, help="images of an offline set (default 100)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the offline set")
    parser.add_argument("--repeats", type=int, default=5, help="random rankings (default 5)")
    parser.add_argument("--random-seed", type=int, default=0, help="seed of the first random ranking")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch (default 32)")
    parser.add_argument("--json", action="store_true", help="print JSON (docs/channels.md)")
    if pruning:
        parser.add_argument(
            "--scope", choices=("block", "network"), default="block", help="rank per block or network-wide"
        )
        parser.add_argument("--block", action="append", help="prune only this block (repeatable)")
        parser.add_argument(
            "--fractions",
            type=float,
            nargs="+",
            default=list(FRACTIONS),
            help="fractions of channels to prune (default 0 0.1 … 0.9)",
        )
    else:
        parser.add_argument(
            "--block",
            action="append",
            help="curves for this block (repeatable; default every block and the whole network)",
        )
        parser.add_argument("--steps", type=int, default=11, help="points per curve (default 11)")


def _study_inputs(args: argparse.Namespace, err: TextIO) -> tuple[LoadedModel, ImageSet, list]:
    lm = load_model(args.model, weights=args.weights, pretrained=not args.untrained)
    spec = list(args.images)
    if not spec:
        known = fitting_sets(lm)
        if not known:
            raise ValueError(
                f"{lm.name} was not trained on any offline image set here: name image files or folders "
                "(one sub-folder per class, named like the model's classes, to measure accuracy)"
            )
        spec = known[:1]
    args.images = spec  # the JSON names the set that was used
    images = image_set(lm, spec, n=args.n, seed=args.seed)
    if not images.has_labels:
        print(
            "note: none of these images has a class the model knows, so accuracy is not measured "
            "(put them in one sub-folder per class, named like the model's classes)",
            file=err,
        )
    gates = capture(lm.model, images.images, blocks=lm.blocks).gates
    rankings = standard_rankings(
        lm.model, images.images, lm.blocks, gates, repeats=args.repeats, seed=args.random_seed
    )
    return lm, images, rankings


def prune_command(
    args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None
) -> int:
    """Run ``se-viz prune``: rank the channels on the images, prune by every ranking, print the curves."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        lm, images, rankings = _study_inputs(args, err)
        curves = prune_curves(
            lm.model,
            images.images,
            rankings,
            lm.blocks,
            labels=images.labels if images.has_labels else None,
            fractions=args.fractions,
            scope=args.scope,
            prune_blocks=args.block,
            batch_size=args.batch_size,
        )
    except (FileNotFoundError, ValueError, KeyError, ModelLoadError, InputError) as exc:
        print(f"se-viz prune: {exc}", file=err)
        return 2
    if args.json:
        doc = {
            "model": lm.name,
            "image_set": images.name,
            "image_args": list(args.images),
            **curves.to_json(),
        }
        json.dump(doc, out, indent=1)
        print(file=out)
    else:
        print(f"{lm.name} on {len(images)} {images.name} images; scope {args.scope}", file=out)
        print(curves.table().to_string(index=False, float_format=lambda v: f"{v:.4f}"), file=out)
    return 0


def faithfulness_command(
    args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None
) -> int:
    """Run ``se-viz faithfulness``: deletion and insertion curves per block and over the network."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        lm, images, rankings = _study_inputs(args, err)
        targets = args.block or [b.name for b in lm.blocks] + [None]
        results = [
            faithfulness_curves(
                lm.model,
                images.images,
                rankings,
                lm.blocks,
                block=b,
                steps=args.steps,
                batch_size=args.batch_size,
            )
            for b in targets
        ]
    except (FileNotFoundError, ValueError, KeyError, ModelLoadError, InputError) as exc:
        print(f"se-viz faithfulness: {exc}", file=err)
        return 2
    if args.json:
        doc = {
            "format": FAITHFULNESS_FORMAT,
            "model": lm.name,
            "image_set": images.name,
            "images": len(images),
            "results": [r.to_json() for r in results],
        }
        json.dump(doc, out, indent=1)
        print(file=out)
    else:
        import pandas as pd

        table = pd.concat([r.table() for r in results], ignore_index=True)
        print(f"{lm.name} on {len(images)} {images.name} images", file=out)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"), file=out)
    return 0
