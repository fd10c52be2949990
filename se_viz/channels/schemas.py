"""JSON Schemas of what ``se-viz atlas --json``, ``se-viz prune --json`` and ``se-viz faithfulness
--json`` print, so a script can validate the output (e.g. with the ``jsonschema`` package) and the
tests check the commands against the same documents that docs/channels.md describes."""

from __future__ import annotations

from typing import Any

__all__ = ["ATLAS_SCHEMA", "FAITHFULNESS_SCHEMA", "PRUNE_SCHEMA"]

_NUM = {"type": "number"}
_NUMS = {"type": "array", "items": _NUM}
_NULLABLE_STR = {"type": ["string", "null"]}

_ROW = {
    "type": "object",
    "required": ["rank", "index", "path", "label", "prediction", "s", "z"],
    "properties": {
        "rank": {"type": "integer", "minimum": 1},
        "index": {"type": "integer", "minimum": 0},
        "path": {"type": "string"},
        "label": _NULLABLE_STR,
        "prediction": _NULLABLE_STR,
        "s": _NUM,
        "z": _NUM,
    },
    "additionalProperties": False,
}
_PURITY = {
    "type": "object",
    "required": ["by", "purity", "counts"],
    "properties": {
        "by": {"enum": ["label", "prediction"]},
        "purity": _NUM,
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}

ATLAS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "format",
        "block",
        "channel",
        "ranked_by",
        "k",
        "images",
        "mean",
        "top",
        "bottom",
        "top_purity",
        "bottom_purity",
        "histogram",
    ],
    "properties": {
        "format": {"const": "se_viz.channel_atlas/1"},
        "block": {"type": "string"},
        "channel": {"type": "integer", "minimum": 0},
        "ranked_by": {"enum": ["s", "z"]},
        "k": {"type": "integer", "minimum": 1},
        "images": {"type": "integer", "minimum": 0},
        "mean": _NUM,
        "top": {"type": "array", "items": _ROW},
        "bottom": {"type": "array", "items": _ROW},
        "top_purity": _PURITY,
        "bottom_purity": _PURITY,
        "histogram": {
            "type": "object",
            "required": ["edges", "counts"],
            "properties": {"edges": _NUMS, "counts": {"type": "array", "items": {"type": "integer"}}},
        },
    },
}

_CURVE = {
    "type": "object",
    "required": ["ranking", "kind", "agreement", "delta_logprob", "accuracy", "macs_removed"],
    "properties": {
        "ranking": {"type": "string"},
        "kind": {"enum": ["mean gate", "gate × gradient", "weight L1", "random"]},
        "agreement": _NUMS,
        "delta_logprob": _NUMS,
        "accuracy": {"type": ["array", "null"], "items": _NUM},
        "macs_removed": _NUMS,
    },
}

PRUNE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "format",
        "model",
        "image_set",
        "scope",
        "blocks",
        "images",
        "fractions",
        "macs_total",
        "base_accuracy",
        "curves",
    ],
    "properties": {
        "format": {"const": "se_viz.pruning/1"},
        "model": {"type": "string"},
        "image_set": {"type": "string"},
        "scope": {"enum": ["block", "network"]},
        "blocks": {"type": "array", "items": {"type": "string"}},
        "images": {"type": "integer", "minimum": 1},
        "fractions": _NUMS,
        "macs_total": _NUM,
        "base_accuracy": {"type": ["number", "null"]},
        "curves": {"type": "array", "items": _CURVE, "minItems": 4},
    },
}

FAITHFULNESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "model", "image_set", "images", "results"],
    "properties": {
        "format": {"const": "se_viz.faithfulness/1"},
        "model": {"type": "string"},
        "image_set": {"type": "string"},
        "images": {"type": "integer", "minimum": 1},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["block", "x", "curves"],
                "properties": {
                    "block": {"type": "string"},
                    "x": _NUMS,
                    "curves": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "ranking",
                                "kind",
                                "deletion",
                                "insertion",
                                "deletion_auc",
                                "insertion_auc",
                            ],
                        },
                    },
                },
            },
        },
    },
}
