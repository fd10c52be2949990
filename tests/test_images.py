"""load_image: every mode and format becomes RGB; every bad input becomes one InputError."""

import io
import math
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from timm.data import create_transform

from se_viz import InputError, load_image
from se_viz.loading.fit import EXTREME_ASPECT, TINY_UPSCALE, _resized, upscale_factor
from se_viz.loading.images import ImageFacts, crop_fraction, describe_image, fit_notices


def encode(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    arr[:, :32] = (200, 30, 30)  # a red left half, to check colours survive
    return Image.fromarray(arr, "RGB")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"])
def test_formats(photo, fmt):
    img = load_image(encode(photo, fmt))
    assert img.mode == "RGB" and img.size == (64, 48)
    r, g, b = img.getpixel((5, 5))
    assert r > 150 and g < 90 and b < 90


def test_path_and_missing_path(tmp_path, photo):
    path = tmp_path / "cat.png"
    path.write_bytes(encode(photo, "PNG"))
    assert load_image(path).size == (64, 48)
    assert load_image(str(path)).size == (64, 48)
    with pytest.raises(InputError, match="missing.png: cannot open"):
        load_image(tmp_path / "missing.png")


def test_exif_orientation_is_applied(photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = encode(photo, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).size == (64, 48)
    img = load_image(data)
    assert img.size == (48, 64)
    # The red half was on the left; after a 90° clockwise turn it is at the top.
    r, g, _ = img.getpixel((24, 5))
    assert r > 150 and g < 90


def test_grayscale_palette_and_alpha():
    gray = load_image(encode(Image.new("L", (10, 8), 77), "PNG"))
    assert gray.mode == "RGB" and gray.getpixel((0, 0)) == (77, 77, 77)

    pal = Image.new("P", (10, 8), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    assert load_image(encode(pal, "PNG")).getpixel((3, 3)) == (0, 0, 255)

    # Transparent pixels are composited on white, half-transparent ones blended.
    rgba = Image.new("RGBA", (10, 8), (255, 0, 0, 0))
    rgba.putpixel((1, 1), (255, 0, 0, 255))
    rgba.putpixel((2, 2), (0, 0, 0, 128))
    img = load_image(encode(rgba, "PNG"))
    assert img.getpixel((0, 0)) == (255, 255, 255)
    assert img.getpixel((1, 1)) == (255, 0, 0)
    assert all(120 <= c <= 135 for c in img.getpixel((2, 2)))

    la = Image.new("LA", (4, 4), (0, 0))
    assert load_image(encode(la, "PNG")).getpixel((0, 0)) == (255, 255, 255)

    trans_pal = Image.new("P", (4, 4), 0)
    trans_pal.putpalette([10, 20, 30] + [0] * 765)
    trans_pal.info["transparency"] = 0
    assert load_image(encode(trans_pal, "PNG", transparency=0)).getpixel((0, 0)) == (255, 255, 255)


def test_cmyk_sixteen_bit_float_and_animated():
    cmyk = Image.new("CMYK", (6, 6), (0, 255, 255, 0))  # pure red in CMYK
    for fmt in ("JPEG", "TIFF"):
        r, g, b = load_image(encode(cmyk, fmt)).getpixel((2, 2))
        assert r > 200 and g < 60 and b < 60

    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    sixteen = Image.fromarray(ramp)  # uint16 -> mode I;16
    assert sixteen.mode == "I;16"
    img = load_image(encode(sixteen, "PNG"))
    assert img.mode == "RGB" and img.getpixel((0, 0))[0] == 0 and img.getpixel((7, 7))[0] > 200

    flt = Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8), "F")
    img = load_image(encode(flt, "TIFF"))
    assert img.getpixel((0, 0)) == (0, 0, 0) and img.getpixel((7, 7)) == (255, 255, 255)

    frames = [Image.new("RGB", (8, 8), c) for c in ((0, 200, 0), (200, 0, 0), (0, 0, 200))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    r, g, b = load_image(buf.getvalue()).getpixel((4, 4))
    assert g > 150 and r < 60  # the first frame, green


def _png_with_size(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height (valid CRCs), with almost no data behind it."""
    small = encode(Image.new("RGB", (1, 1)), "PNG")
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    patched = struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return small[:8] + patched + small[8 + 25 :]


def test_oversize_is_refused_before_decoding():
    data = _png_with_size(10_000, 6_000)  # 60 megapixels, ~70 bytes
    with pytest.raises(InputError, match="60 megapixels; the limit is 50"):
        load_image(data)


@pytest.mark.parametrize(
    "data, pattern",
    [
        (b"", "empty"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj", "PDF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
        (b"<svg width='10'></svg>", "SVG"),
        (b"<!DOCTYPE html><html></html>", "web page"),
        (b"hello, this is a text file", "not an image"),
    ],
)
def test_non_images(data, pattern):
    with pytest.raises(InputError, match=f"(?i){pattern}") as info:
        load_image(data)
    assert "\n" not in str(info.value)


def test_truncated_images(photo):
    for fmt in ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"):
        data = encode(photo, fmt)
        for cut in (len(data) // 3, len(data) // 2, len(data) * 9 // 10):
            with pytest.raises(InputError) as info:
                load_image(data[:cut])
            assert "\n" not in str(info.value)


def test_name_starts_the_message():
    with pytest.raises(InputError, match=r"^holiday\.jpg: the file is empty"):
        load_image(b"", name="holiday.jpg")


def test_wrong_type():
    with pytest.raises(InputError, match="bytes or a file path"):
        load_image(12345)  # type: ignore[arg-type]


def test_no_other_exception_escapes(photo):
    """Random and mutated bytes: either an RGB image or an InputError, nothing else."""
    rng = random.Random(1234)
    seeds = [encode(photo, fmt) for fmt in ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")]
    seeds.append(encode(Image.new("CMYK", (5, 5)), "TIFF"))
    cases = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(150)]
    for seed in seeds:
        for _ in range(60):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 12)):
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            if rng.random() < 0.3:
                data = data[: rng.randrange(1, len(data))]
            cases.append(bytes(data))
    ok = 0
    for data in cases:
        try:
            img = load_image(data)
        except InputError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            assert img.mode == "RGB"
            ok += 1
    assert ok > 0  # some mutations still decode: the loop exercised both outcomes


# ---------------------------------------------------------------------------------------------
# describe_image and fit notices (issue 11)


def test_describe_image_reads_size_frames_format_and_mode(photo, tmp_path):
    assert describe_image(encode(photo, "PNG")) == ImageFacts(64, 48, 1, "PNG", "RGB")
    path = tmp_path / "p.png"
    path.write_bytes(encode(Image.new("P", (5, 7)), "PNG"))
    assert describe_image(path) == ImageFacts(5, 7, 1, "PNG", "P")
    frames = [Image.new("RGB", (8, 4), c) for c in ((0, 200, 0), (200, 0, 0), (0, 0, 200))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    facts = describe_image(buf.getvalue())
    assert (facts.width, facts.height, facts.frames, facts.format) == (8, 4, 3, "GIF")
    assert describe_image(encode(Image.fromarray(np.zeros((3, 2), np.uint16)), "PNG")).mode == "I;16"


def test_describe_image_reports_the_displayed_size_of_a_rotated_jpeg(photo):
    exif = Image.Exif()
    exif[0x0112] = 6
    facts = describe_image(encode(photo, "JPEG", exif=exif.tobytes()))
    assert (
        (facts.width, facts.height) == load_image(encode(photo, "JPEG", exif=exif.tobytes())).size == (48, 64)
    )


def test_describe_image_reads_only_the_header():
    # 60 megapixels claimed by a ~70-byte PNG: described (nothing decoded), refused by load_image.
    facts = describe_image(_png_with_size(10_000, 6_000))
    assert (facts.width, facts.height, facts.format) == (10_000, 6_000, "PNG")


@pytest.mark.parametrize(
    "data, pattern", [(b"", "empty"), (b"%PDF-1.7\n", "PDF"), (b"hello", "not an image")]
)
def test_describe_image_refuses_what_load_image_refuses(data, pattern):
    with pytest.raises(InputError, match=pattern):
        describe_image(data, name="x.bin")


def test_crop_fraction_hand_computed():
    # Square 100×100, ImageNet eval (224, crop_pct 0.875): resized to 256×256, centre 224² kept.
    assert crop_fraction(100, 100, (224, 224), 0.875) == pytest.approx(0.875**2)
    # 500×375: shorter side → 256, longer → int(256·500/375) = 341; keep 224/341 × 224/256.
    assert crop_fraction(500, 375, (3, 224, 224), 0.875) == pytest.approx(224 / 341 * 0.875)
    # The mini model (64 px, crop_pct 1): a 10000×10 banner → 64000×64, 64 columns kept = 0.1 %.
    assert crop_fraction(10_000, 10, (3, 64, 64), 1.0) == pytest.approx(0.001)
    assert crop_fraction(10, 10_000, (64, 64), 1.0) == pytest.approx(0.001)
    assert crop_fraction(10_000, 10, (64, 64), 1.0, fit="pad") == 1.0
    with pytest.raises(ValueError, match="crop' or 'pad"):
        crop_fraction(10, 10, (64, 64), 1.0, fit="squash")


@pytest.mark.parametrize(
    "input_size, crop_pct",
    [((3, 224, 224), 0.875), ((3, 64, 64), 1.0), ((3, 288, 288), 0.95), ((3, 160, 224), 0.9)],
)
def test_crop_geometry_matches_timms_eval_transform_on_real_images(sample_images, input_size, crop_pct):
    """The resize our arithmetic predicts is the one timm's transform does, and the share of the
    image the crop keeps is measured on a picture whose colours encode pixel coordinates."""
    tfm = create_transform(
        input_size=input_size, crop_pct=crop_pct, interpolation="bilinear", is_training=False
    )
    resize, crop = tfm.transforms[0], tfm.transforms[1]
    for img in sample_images:
        assert resize(img).size == _resized(*img.size, input_size, crop_pct)
    for w, h in [(600, 200), (90, 300), (451, 300), (1000, 40)]:
        # Red = column, green = row, each 0…255 over the image: the crop's colour span is its share.
        ramp = np.zeros((h, w, 3), np.uint8)
        ramp[..., 0] = np.round(np.linspace(0, 255, w))[None, :]
        ramp[..., 1] = np.round(np.linspace(0, 255, h))[:, None]
        seen = np.asarray(crop(resize(Image.fromarray(ramp))), dtype=np.float64)
        kept_w = (seen[..., 0].max() - seen[..., 0].min()) / 255
        kept_h = (seen[..., 1].max() - seen[..., 1].min()) / 255
        # The span runs between edge pixel centres and resampling blurs the ends: allow 3 resized
        # pixels per side.
        new_w, new_h = _resized(w, h, input_size, crop_pct)
        assert kept_w * kept_h == pytest.approx(
            crop_fraction(w, h, input_size, crop_pct), abs=3 / new_w + 3 / new_h
        )


def test_fit_notices_explain_extreme_tiny_and_animated_images():
    banner = ImageFacts(10_000, 10, 1, "PNG", "RGB")
    notes = fit_notices(banner, (3, 64, 64), 1.0)
    assert notes[0] == (
        "The network sees only the middle 0.1 % of this 10000×10 image (centre crop). "
        "Set “Fit images to the network” to “pad” in the sidebar to show it whole."
    )
    # ImageNet settings: 224/256 × 224/256000 = 0.0766 %.
    assert "the middle 0.077 % of this 10000×10 image" in fit_notices(banner, (224, 224), 0.875)[0]
    padded = fit_notices(banner, (3, 64, 64), 1.0, fit="pad")
    assert padded == [
        "This 10000×10 image is padded to a square: it fills only 0.1 % of the network's "
        "64×64 input; the rest is the mean colour."
    ]
    # A 1×1 image: 1 px → 256 px (224/0.875), enlarged 256×.
    dot = fit_notices(ImageFacts(1, 1, 1, "PNG", "RGB"), (224, 224), 0.875)
    assert dot == [
        "The network enlarges this 1×1 image 256× to fill its 224×224 input (each image pixel "
        "covers 256×256 input pixels), so it sees a blur, not detail."
    ]
    gif = fit_notices(ImageFacts(300, 300, 12, "GIF", "P"), (224, 224), 0.875)
    assert gif == ["This GIF file has 12 frames; the network sees only the first (frame 1 of 12)."]
    # An ordinary photo gets no notice at all.
    assert fit_notices(ImageFacts(640, 480, 1, "JPEG", "RGB"), (224, 224), 0.875) == []


def test_fit_notice_thresholds():
    size, pct = (224, 224), 0.875
    # Aspect: exactly 2:1 is extreme, just under is not.
    assert fit_notices(ImageFacts(600, 300, 1, "PNG", "RGB"), size, pct)
    assert not fit_notices(ImageFacts(599, 300, 1, "PNG", "RGB"), size, pct)
    assert EXTREME_ASPECT == 2.0 and TINY_UPSCALE == 4.0
    # Tiny: 64 px → 256 px is 4×, 65 px is 3.9×.
    assert upscale_factor(64, 64, size, pct) == 4.0
    assert fit_notices(ImageFacts(64, 64, 1, "PNG", "RGB"), size, pct)
    assert not fit_notices(ImageFacts(65, 65, 1, "PNG", "RGB"), size, pct)
    # Padding a 64×16 strip for a 64 px, crop 1 model: 64 → 64, nothing enlarged.
    assert upscale_factor(64, 16, (64, 64), 1.0, fit="pad") == 1.0
    assert math.isclose(upscale_factor(16, 16, (64, 64), 1.0, fit="pad"), 4.0)
