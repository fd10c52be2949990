"""What a Chinese reader would still find in English on a page (issue 23's test of every tab).

``page_texts(at)`` gathers everything an AppTest page shows a reader: titles, markdown, captions,
notices, widget labels, options and help, tab, expander and popover labels, metrics, table
columns and Plotly text (titles, axes, legends, trace names, hover templates, annotations).
``english_sentences(texts)`` keeps the runs of two or more English words left in them after
removing what stays English in both languages (docs/glossary.md): paper names, module paths,
symbols, numbers and units, model and file-format names, code in backticks and LaTeX.
"""

from __future__ import annotations

import io
import json
import re
from typing import Iterable

#: Words that stay as they are in the Chinese interface (names, formats, units, symbols).
ALLOWED_WORDS = {
    w.lower()
    for w in """
    se se_viz squeeze-and-excitation resnet resnet-50 se-resnet se-resnet-50 seresnet50 mini imagenet timm
    ray parquet csv npz html json png jpeg jpg webp gif bmp tiff zip svg pdf pytorch torch safetensors
    huggingface hugging face hub cam grad-cam relu sigmoid softmax top-1 top-3 top-5 top-k logit logits
    cpu gpu ram mb gb kb ms fps rgb url http https webrtc streamlit plotly numpy pandas arrow pyarrow
    stun turn ice ecamodule ecanet eca ceca cbam gc ese gather-excite mobilenetv3 efficientnet regnet
    mixnet ghostnet rexnet vovnet hgnet lcnet coatnet repvit nf-regnet id ok vs
    """.split()
}
_LATEX = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_CODE = re.compile(r"`[^`]*`")
_URL = re.compile(
    r"https?://\S+|\b[\w.-]+\.(?:py|png|jpg|jpeg|csv|npz|json|html|parquet|zip|md|safetensors)\b"
)
_IDENT = re.compile(r"\b\w+(?:[._]\w+)+\b|\bSE_\d+_\d+\b")  # module paths, snake_case, SE_3_2
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_HTML = re.compile(r"<[^>]+>|&\w+;")
_MATERIAL = re.compile(r":material/\w+:|:\w+\[[^\]]*\]|:\w+:")


#: Proto fields that hold identifiers, data or styling, not words for the reader.
_NOT_TEXT = {
    "id",
    "key",
    "form_id",
    "arrow_data",
    "spec",
    "data",
    "url",
    "file_id",
    "theme",
    "css_class",
    "tag",
}
_NOT_TEXT |= {"type", "icon"}


def _proto_strings(msg, out: list[str]) -> None:
    """Every human string field of a Streamlit element proto (ids, keys and data left out)."""
    for field, value in msg.ListFields():
        name = field.name
        if name in _NOT_TEXT:
            continue
        repeated = field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED
        if field.type == field.TYPE_MESSAGE:
            for v in value if repeated else [value]:
                _proto_strings(v, out)
        elif field.type == field.TYPE_STRING:
            out.extend(value if repeated else [value])


def _figure_strings(spec: dict, out: list[str]) -> None:
    """The words of a Plotly figure: layout titles and annotations, trace names and hover text."""

    def texts(node) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "name", "hovertemplate", "title", "ticktext", "legendgrouptitle") or (
                    k == "hovertext"
                ):
                    if isinstance(v, str):
                        out.append(v)
                    elif isinstance(v, list):
                        out.extend(x for x in v if isinstance(x, str))
                    else:
                        texts(v)
                elif isinstance(v, (dict, list)) and k not in ("x", "y", "z", "customdata", "colorscale"):
                    texts(v)
        elif isinstance(node, list):
            for v in node:
                texts(v)

    texts(spec.get("layout", {}))
    texts(spec.get("data", []))


def _table_columns(proto) -> list[str]:
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(io.BytesIO(proto.arrow_data.data)).read_all()
    except Exception:
        return []
    return [c for c in table.column_names if not c.startswith("__index_level")]


def _is_latex(proto) -> bool:
    try:
        return type(proto).Type.Name(proto.element_type) == "LATEX"
    except (AttributeError, ValueError):
        return False


def page_texts(at) -> list[str]:
    """Every string an AppTest page shows its reader (main area and sidebar)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is not None and kind not in ("latex", "code", "json"):
            if kind == "plotly_chart":
                _figure_strings(json.loads(proto.spec), out)
            elif kind in ("dataframe", "table"):
                out.extend(_table_columns(proto))
            elif not (kind == "markdown" and _is_latex(proto)):
                _proto_strings(proto, out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [t for t in out if t and t.strip()]


def english_sentences(texts: Iterable[str], allow: Iterable[str] = ()) -> list[str]:
    """The runs of two or more English words left in ``texts`` (each run once, in order).

    ``allow`` adds phrases a test expects to stay English (an image's file name, a class name of
    ImageNet, a model's name), removed before the words are counted.
    """
    allowed_words = ALLOWED_WORDS | {w.lower() for p in allow for w in _WORD.findall(p)}
    found: list[str] = []
    for text in texts:
        t = _MATERIAL.sub(" ", _HTML.sub(" ", _LATEX.sub(" ", _CODE.sub(" ", text))))
        for phrase in allow:
            t = t.replace(phrase, " ")
        t = _IDENT.sub(" ", _URL.sub(" ", t))
        # Split where a sentence could not continue: any non-Latin character other than spaces
        # and light punctuation (Chinese text, digits, symbols) ends a run.
        for chunk in re.split(r"[^A-Za-z'\- ,]+", t):
            words = [w for w in _WORD.findall(chunk) if w.lower() not in allowed_words and len(w) > 1]
            if len(words) >= 2:
                run = " ".join(words)
                if run not in found:
                    found.append(run)
    return found
