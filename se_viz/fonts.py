"""Fonts for text drawn into pictures (the live overlay, a dataset's "cannot be read" tiles).

Pillow's own font has no Chinese glyphs, so a picture drawn for a reader of 简体中文 needs a CJK
font: Debian's ``fonts-noto-cjk`` (installed by ``.ci/run``). Without one, callers draw English.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

from PIL import ImageFont

__all__ = ["CJK_FONTS", "cjk_font_path", "font", "wrap_to_width"]

#: Fonts with Chinese glyphs, tried in order (Debian's fonts-noto-cjk): Pillow's own font has none.
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)


@functools.cache
def cjk_font_path() -> Optional[str]:
    """The first CJK font this machine has, or None."""
    return next((path for path in CJK_FONTS if Path(path).is_file()), None)


@functools.lru_cache(maxsize=32)
def font(size: int, cjk: bool = False) -> ImageFont.FreeTypeFont:
    """A font of ``size`` px: the CJK font when asked for and present, else Pillow's own."""
    path = cjk_font_path() if cjk else None
    if path is not None:
        return ImageFont.truetype(path, max(8, size))
    return ImageFont.load_default(size=max(8, size))


def wrap_to_width(text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` px: broken at spaces, and between any two
    characters of a word too long for a line (Chinese has no spaces between words)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if face.getlength(trial) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if line and face.getlength(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
    return lines + ([line] if line else [])
