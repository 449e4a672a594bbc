"""Images: load_image turns every kind of file into RGB (or fails with an actionable error);
preprocess / deprocess are exact ImageNet normalization and resizing."""

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image

from course_utils.images import (
    MAX_SIDE,
    deprocess,
    load_image,
    normalize,
    preprocess,
    sample_image_names,
    to_tensor,
    unnormalize,
)

# The standard ImageNet statistics, written out here so the tests do not trust the module's copy.
MEAN = torch.tensor([0.485, 0.456, 0.406])
STD = torch.tensor([0.229, 0.224, 0.225])


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.int64)


def noise_image(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8))


# --------------------------------------------------------------------------- load_image: sources
def test_every_sample_image_loads_as_rgb():
    names = sample_image_names()
    assert len(names) == len(set(names)) >= 10
    for name in names:
        img = load_image(name)
        assert isinstance(img, Image.Image) and img.mode == "RGB", name
        assert min(img.size) > 16 and max(img.size) <= MAX_SIDE, name


def test_grayscale_png_becomes_gray_rgb(tmp_path):
    gray = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    img = load_image(tmp_path / "gray.png")
    assert img.mode == "RGB" and img.size == (2, 2)
    np.testing.assert_array_equal(pixels(img), np.repeat(gray[..., None], 3, axis=2))


def test_rgba_png_transparent_pixels_become_white(tmp_path):
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[0, 0, 3] = 255  # opaque: keeps its colour
    rgba[0, 1, 3] = 0  # transparent: white
    rgba[0, 2, 3] = 128  # half transparent: halfway to white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    img = load_image(str(tmp_path / "rgba.png"))
    assert img.mode == "RGB"
    px = pixels(img)
    assert tuple(px[0, 0]) == (10, 20, 30)
    assert tuple(px[0, 1]) == (255, 255, 255)
    expected_half = [c + (255 - c) * 127 / 255 for c in (10, 20, 30)]  # alpha 128/255 over white
    np.testing.assert_allclose(px[0, 2], expected_half, atol=1.5)


def test_gray_alpha_png_transparent_pixels_become_white(tmp_path):
    la = np.zeros((1, 2, 2), dtype=np.uint8)
    la[..., 0] = 40
    la[0, 0, 1] = 255
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    px = pixels(load_image(tmp_path / "la.png"))
    assert tuple(px[0, 0]) == (40, 40, 40) and tuple(px[0, 1]) == (255, 255, 255)


def palette_image() -> Image.Image:
    img = Image.new("P", (3, 1), 0)
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    img.putpixel((1, 0), 1)
    img.putpixel((2, 0), 2)
    return img


def test_palette_png_without_transparency_keeps_palette_colours(tmp_path):
    palette_image().save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    px = pixels(load_image(tmp_path / "p.png"))
    assert [tuple(p) for p in px[0]] == [(0, 0, 0), (255, 0, 0), (0, 0, 255)]


def test_palette_png_transparent_index_becomes_white(tmp_path):
    palette_image().save(tmp_path / "pt.png", transparency=0)
    assert Image.open(tmp_path / "pt.png").mode == "P"
    px = pixels(load_image(tmp_path / "pt.png"))
    assert [tuple(p) for p in px[0]] == [(255, 255, 255), (255, 0, 0), (0, 0, 255)]


def test_colour_keyed_rgb_png_transparent_colour_becomes_white(tmp_path):
    img = Image.new("RGB", (2, 1), (10, 20, 30))
    img.putpixel((1, 0), (200, 0, 0))
    img.save(tmp_path / "key.png", transparency=(10, 20, 30))  # tRNS: (10,20,30) is transparent
    px = pixels(load_image(tmp_path / "key.png"))
    assert [tuple(p) for p in px[0]] == [(255, 255, 255), (200, 0, 0)]


def test_16bit_grayscale_png_is_scaled_to_8_bits_keeping_contrast(tmp_path):
    values = np.array([[0, 16384, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")  # really a 16-bit file
    px = pixels(load_image(tmp_path / "deep.png"))
    np.testing.assert_allclose(px[0, :, 0], values[0] / 65535 * 255, atol=1)  # 0, ~64, ~128, 255
    assert tuple(px[0, 3]) == (255, 255, 255)
    assert tuple(px[0, 2]) in {(127, 127, 127), (128, 128, 128)}


def test_dark_16bit_png_is_not_stretched_to_full_range(tmp_path):
    """Scaling is by the 16-bit range, not by the image's own maximum."""
    values = np.array([[0, 4096, 32768]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "dark.png")
    px = pixels(load_image(tmp_path / "dark.png"))
    np.testing.assert_allclose(px[0, :, 1], values[0] / 65535 * 255, atol=1)  # 0, ~16, ~128


def test_one_pixel_image_loads(tmp_path):
    Image.new("RGB", (1, 1), (1, 2, 3)).save(tmp_path / "dot.png")
    img = load_image(tmp_path / "dot.png")
    assert img.size == (1, 1) and img.getpixel((0, 0)) == (1, 2, 3)


def test_huge_image_is_shrunk_to_max_side_keeping_aspect(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("RGB", (5000, 3000), (0, 128, 255)).save(path, compress_level=1)
    img = load_image(path)
    assert img.size[0] == MAX_SIDE == 2048
    assert abs(img.size[1] - 3000 * 2048 / 5000) <= 1
    assert img.getpixel((1000, 600)) == (0, 128, 255)


def test_max_side_none_keeps_full_size_and_max_side_can_be_set(tmp_path):
    big = Image.new("RGB", (2500, 40), (9, 9, 9))
    assert load_image(big, max_side=None).size == (2500, 40)
    assert load_image(big, max_side=500).size == (500, 8)
    assert big.size == (2500, 40)  # the caller's image is not shrunk in place


def test_exif_orientation_is_applied(tmp_path):
    """A phone photo stored sideways (orientation 6: rotate 90 degrees clockwise to view)."""
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left half red, right half blue
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    img = load_image(tmp_path / "phone.jpg")
    assert img.size == (20, 40)
    top, bottom = np.asarray(img)[5, 10].astype(int), np.asarray(img)[35, 10].astype(int)
    assert top[0] > 200 and top[2] < 60  # the left (red) edge is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_arrays_and_pil_images_are_accepted():
    gray = np.full((4, 5), 70, dtype=np.uint8)
    assert load_image(gray).size == (5, 4) and load_image(gray).getpixel((0, 0)) == (70, 70, 70)
    rgba = np.zeros((4, 5, 4), dtype=np.uint8)  # fully transparent black
    assert load_image(rgba).getpixel((2, 2)) == (255, 255, 255)
    pil = Image.new("L", (3, 3), 5)
    assert load_image(pil).mode == "RGB" and pil.mode == "L"


# --------------------------------------------------------------------------- load_image: errors
def test_missing_file_error_lists_the_sample_names(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_image(str(tmp_path / "nope.png"))
    message = str(info.value)
    assert "nope.png" in message
    assert all(name in message for name in sample_image_names())


def test_misspelt_sample_name_suggests_the_right_one():
    with pytest.raises(FileNotFoundError, match="(?i)did you mean the sample 'chelsea'"):
        load_image("chelse")


def test_text_file_named_png_is_not_an_image(tmp_path):
    path = tmp_path / "x.png"
    path.write_text("hello, I am not a picture")
    with pytest.raises(ValueError, match="not an image"):
        load_image(path)


def test_directory_raises_isadirectoryerror(tmp_path):
    with pytest.raises(IsADirectoryError):
        load_image(tmp_path)


@pytest.mark.parametrize("bad", [42, 3.5, None, [1, 2, 3]])
def test_wrong_source_type_raises_typeerror(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        load_image(bad)


# --------------------------------------------------------------------------- tensors
def test_preprocess_returns_a_224_batch_of_pixels():
    x = preprocess("chelsea")
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    assert 0 <= x.min() < 0.2 and 0.8 < x.max() <= 1  # pixels in [0,1]: every model normalizes itself


def test_preprocess_of_constant_gray_gives_the_hand_computed_value():
    x = preprocess(Image.new("RGB", (300, 250), (128, 128, 128)))
    torch.testing.assert_close(x, torch.full((1, 3, 224, 224), 128 / 255), rtol=0, atol=1e-6)


def test_preprocess_resizes_and_centre_crops_like_torchvision():
    """Shorter side to 224 (antialiased bilinear), then the centre square: torchvision's
    Resize(224) + CenterCrop(224) on the same pixels is the reference."""
    img = noise_image(600, 400)  # 400 -> 224 (a shrink, where antialiasing matters); long side exactly 336
    pixels01 = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)
    reference = TF.center_crop(TF.resize(pixels01, 224, antialias=True), 224)
    roundtrip = deprocess(preprocess(img))
    assert roundtrip.shape == (224, 224, 3)
    np.testing.assert_allclose(roundtrip, reference.permute(1, 2, 0).numpy(), rtol=0, atol=1e-5)


def test_preprocess_size_none_keeps_the_pixels():
    img = noise_image(37, 23, seed=1)
    x = preprocess(img, size=None)
    assert x.shape == (1, 3, 23, 37)
    np.testing.assert_allclose(deprocess(x), np.asarray(img, dtype=np.float32) / 255, rtol=0, atol=1e-6)


def test_preprocess_without_crop_keeps_aspect_ratio():
    assert preprocess(noise_image(300, 200), crop=False).shape == (1, 3, 224, 336)
    assert preprocess(noise_image(50, 100), size=64, crop=False).shape == (1, 3, 128, 64)
    assert preprocess(noise_image(50, 100), size=64).shape == (1, 3, 64, 64)


def test_to_tensor_gives_pixels_in_zero_one():
    img = Image.new("RGB", (4, 2), (0, 51, 255))
    t = to_tensor(img)
    assert t.shape == (1, 3, 2, 4)
    torch.testing.assert_close(t[0, :, 0, 0], torch.tensor([0.0, 0.2, 1.0]))


def test_normalize_matches_formula_and_unnormalize_inverts_it():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 5, 4)
    torch.testing.assert_close(normalize(x), (x - MEAN.view(3, 1, 1)) / STD.view(3, 1, 1))
    torch.testing.assert_close(unnormalize(normalize(x)), x)
    torch.testing.assert_close(normalize(unnormalize(x)), x)
    torch.testing.assert_close(unnormalize(normalize(x[0])), x[0])  # (3,H,W) works too


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((1, 3, 6, 5), (6, 5, 3)),
        ((3, 6, 5), (6, 5, 3)),
        ((4, 3, 6, 5), (4, 6, 5, 3)),
        ((1, 1, 6, 5), (6, 5)),
        ((1, 6, 5), (6, 5)),
        ((4, 1, 6, 5), (4, 6, 5)),
    ],
)
def test_deprocess_shapes(shape, expected):
    out = deprocess(torch.zeros(shape))
    assert isinstance(out, np.ndarray) and out.shape == expected


def test_deprocess_moves_channels_last_and_keeps_pixels():
    torch.manual_seed(0)
    pix = torch.rand(2, 3, 4, 5)
    np.testing.assert_allclose(deprocess(pix), pix.permute(0, 2, 3, 1).numpy(), rtol=0, atol=0)


def test_deprocess_clamps_to_zero_one():
    x = torch.tensor([-3.0, 0.25, 7.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    out = deprocess(x)
    np.testing.assert_array_equal(out[0, 0], [0.0, 0.25, 1.0])
    extreme = deprocess(torch.randn(1, 3, 8, 8) * 100)
    assert extreme.min() >= 0 and extreme.max() <= 1


def test_deprocess_accepts_tensors_that_require_grad():
    x = torch.zeros(1, 3, 2, 2, requires_grad=True)
    assert deprocess(x).shape == (2, 2, 3)


@pytest.mark.parametrize("shape", [(2, 6, 5), (6, 5), (1, 4, 6, 5), (2, 1, 3, 6, 5), (7,)])
def test_deprocess_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="expected"):
        deprocess(torch.zeros(shape))
