"""Text drawn into pictures in Chinese (issue 23): a dataset's "cannot be read" tile and the live
overlay use a CJK font, and lines break between characters where Chinese has no spaces."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from se_viz import fonts


def test_lines_break_at_spaces_and_between_chinese_characters():
    face = fonts.font(12)
    english = fonts.wrap_to_width("not in the upload at all", face, 60)
    assert len(english) > 1 and all(face.getlength(line) <= 60 for line in english)
    assert " ".join(english) == "not in the upload at all"
    if fonts.cjk_font_path() is None:
        pytest.skip("no CJK font here (Debian: fonts-noto-cjk)")
    cjk = fonts.font(12, cjk=True)
    chinese = fonts.wrap_to_width("不在上传的压缩包中，无法读取这张图片", cjk, 60)
    assert len(chinese) > 1 and all(cjk.getlength(line) <= 60 for line in chinese)
    assert "".join(chinese) == "不在上传的压缩包中，无法读取这张图片"


def test_a_tile_draws_chinese_glyphs_not_boxes():
    if fonts.cjk_font_path() is None:
        pytest.skip("no CJK font here (Debian: fonts-noto-cjk)")
    from se_viz.ui.dataset_view import _tile

    def pixels(text: str) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(_tile(text))).convert("L"))

    a, b, blank = pixels("挤压"), pixels("激励"), pixels(" ")
    assert (a < 150).any(), "the text is drawn"
    assert not np.array_equal(a, b), "two words give two pictures (a missing font draws the same boxes)"
    assert not np.array_equal(a, blank)
