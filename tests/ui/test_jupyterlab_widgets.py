"""Real-browser test: JupyterLab runs a notebook, a slider moves, and the figure it drives changes.

JupyterLab (from this venv) serves a temporary copy of each notebook on localhost with a token and
throw-away config/settings/workspace/runtime folders; Playwright drives Debian's headless Chromium
(never a browser download). Fast mode (COURSE_FAST=1) keeps each notebook to a minute or two.
Screenshots go to tests/ui/screenshots/ (git-ignored). Run alone with `make test-ui`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

# (notebook, slider description, arrow-key presses on its handle, run button or None).
# Adding a notebook is one line; a notebook file that does not exist yet is skipped.
CASES = [
    ("05_occlusion.ipynb", "window", ["ArrowRight"] * 2, "Run"),
    ("07_class_visualization.ipynb", "steps", ["ArrowLeft"] * 4, "Run"),
]

CELL_TIMEOUT_S = 240  # the whole "run all" in fast mode (a cold kernel on a busy 2-core CI machine needs ~100 s)
WIDGET_TIMEOUT_S = 90  # one widget callback (run button or slider) must redraw within this

# Settings that keep the page quiet and deterministic: every cell attached to the DOM (so all
# prompts can be read), no autosave, no news or update requests to the internet.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
}

ERROR_TEXT = re.compile(r"Traceback|\b\w*Error\b")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def playwright_api():
    if not Path(CHROMIUM).is_file():
        pytest.skip(
            f"browser test skipped: no Chromium at {CHROMIUM}. Install Debian's package "
            "with `sudo apt-get install chromium` (or set COURSE_CHROMIUM to its path)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser test skipped: `pip install -r requirements.txt` installs playwright"
    )
    return sync_api


@pytest.fixture(scope="module")
def lab(playwright_api, tmp_path_factory):
    """Start JupyterLab on a free localhost port; yield (base url, token, served folder)."""
    home = tmp_path_factory.mktemp("lab")
    served = home / "served"
    (served / "notebooks").mkdir(parents=True)
    dirs = {name: home / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for path in dirs.values():
        path.mkdir()
    _write_settings(dirs["settings"])
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        COURSE_FAST="1",
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as for a learner
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={served}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses otherwise
    log = open(home / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=served)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                log_tail = (home / "jupyterlab.log").read_text()[-3000:]
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_tail}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 60 s:\n{(home / 'jupyterlab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token, served
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(playwright_api):
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            chromium_sandbox=False,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--no-first-run",
                "--metrics-recording-only",
                "--disable-dev-shm-usage",
            ],
        )
        yield chromium
        chromium.close()


def _only_localhost(route) -> None:
    """Let requests to the local server through; abort everything else (no network here)."""
    host = urlparse(route.request.url).hostname
    if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
        route.continue_()
    else:
        route.abort()


def _wait_all_cells_ran(page, timeout_s: float) -> None:
    """Wait until every code cell has a number in its prompt and the kernel is idle."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        status = page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        if prompts and all(re.fullmatch(r"\s*\[\d+\]:\s*", p) for p in prompts) and status == "idle":
            return
        page.wait_for_timeout(500)
    pytest.fail(f"cells still running after {timeout_s:.0f} s; prompts: {prompts}, kernel: {status}")


def _copy_without_outputs(source: Path, target: Path) -> None:
    """Copy a notebook with its saved outputs removed, so every prompt and figure seen comes from this run."""
    nb = json.loads(source.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.get("metadata", {}).pop("widgets", None)
    target.write_text(json.dumps(nb))


def _accept_kernel_dialog(page) -> None:
    """Accept JupyterLab's "Select Kernel" dialog if it opens (it can, before the kernel specs have loaded)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # only here: the module loads without playwright

    dialog = page.locator(".jp-Dialog")
    try:
        dialog.first.wait_for(timeout=5_000)
    except PlaywrightTimeout:  # no dialog appeared: nothing to do
        return
    dialog.locator("button.jp-mod-accept").first.click()
    dialog.first.wait_for(state="detached", timeout=10_000)


def _cell_errors(page) -> list[str]:
    texts = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
    return [t for t in texts if ERROR_TEXT.search(t)]


def _image_sources(cell) -> list[str]:
    return [img.get_attribute("src") or "" for img in cell.locator(".jp-OutputArea img").all()]


def _wait_new_image(page, cell, before: list[str], timeout_s: float) -> list[str]:
    """Wait until the cell shows an image that it did not show before; return the cell's images."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = _image_sources(cell)
        if now and now != before:
            page.wait_for_timeout(1000)  # let the redraw settle, then read again
            if _image_sources(cell) == now:
                return now
        page.wait_for_timeout(300)
    pytest.fail(f"the widget's output image did not change within {timeout_s:.0f} s")


def _open_and_run_all(page, base: str, token: str, notebook: str) -> None:
    """Open ``notebook`` in JupyterLab and run Run > Run All Cells through the menu, as a learner would."""
    page.goto(f"{base}/lab/tree/notebooks/{notebook}?token={token}&reset", wait_until="domcontentloaded")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(timeout=60_000)
    _accept_kernel_dialog(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item .lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()
    _wait_all_cells_ran(page, CELL_TIMEOUT_S)


@pytest.mark.parametrize("notebook, slider, keys, run_button", CASES, ids=[c[0][:2] for c in CASES])
def test_notebook_runs_and_slider_redraws(lab, browser, notebook, slider, keys, run_button):
    source = ROOT / "notebooks" / notebook
    if not source.exists():
        pytest.skip(f"{source.relative_to(ROOT)} does not exist yet")
    base, token, served = lab
    _copy_without_outputs(source, served / "notebooks" / notebook)
    SCREENSHOTS.mkdir(exist_ok=True)

    def shot(name: str) -> Path:
        return SCREENSHOTS / f"{source.stem}-{name}.png"

    started = time.monotonic()

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
    context.route("**/*", _only_localhost)
    page = context.new_page()
    try:
        _open_and_run_all(page, base, token, notebook)
        page.screenshot(path=shot("1-ran-all"))
        assert not _cell_errors(page), f"{notebook}: a cell printed an error:\n" + "\n".join(_cell_errors(page))

        # the slider is found through its label (its description), then its cell through the slider
        label = page.locator(".widget-label").filter(has_text=re.compile(rf"^{re.escape(slider)}$"))
        control = page.locator(".widget-slider").filter(has=label).first
        cell = page.locator(".jp-CodeCell").filter(has=control).first
        control.scroll_into_view_if_needed()
        button = (
            cell.locator("button.jupyter-button", has_text=re.compile(rf"^{re.escape(run_button)}$"))
            if run_button
            else None
        )
        if button is not None and not _image_sources(cell):
            button.click()  # interact_manual draws nothing until it is asked once
        before = _wait_new_image(page, cell, [], WIDGET_TIMEOUT_S) if button is not None else _image_sources(cell)
        assert before, f"{notebook}: the cell with slider {slider!r} shows no image"
        cell.screenshot(path=shot("2-before"))
        value_before = control.locator(".widget-readout").inner_text()

        control.locator(".noUi-handle").focus()  # keyboard on the handle, as an instructor would
        for key in keys:
            page.keyboard.press(key)
        value_after = control.locator(".widget-readout").inner_text()
        assert value_after != value_before, f"{notebook}: slider {slider!r} did not move ({value_before})"
        if button is not None:
            button.click()
        after = _wait_new_image(page, cell, before, WIDGET_TIMEOUT_S)
        cell.screenshot(path=shot("3-after"))
        page.screenshot(path=shot("4-page-after"))

        assert after != before, f"{notebook}: moving {slider!r} left the image unchanged"
        errors = _cell_errors(page)
        assert not errors, f"{notebook}: the widget callback printed an error:\n" + "\n".join(errors)
        print(
            f"{notebook}: {slider} {value_before} -> {value_after}, image changed, "
            f"{time.monotonic() - started:.0f} s, screenshots in {SCREENSHOTS}"
        )
    except BaseException:  # pytest.fail raises an OutcomeException, which is not an Exception
        page.screenshot(path=shot("failure"))
        kinds = page.locator(".jp-OutputArea-output").evaluate_all(
            "els => els.map(e => e.getAttribute('data-mime-type'))"
        )
        print(f"{notebook}: output mime types {kinds}; sliders {page.locator('.widget-slider').count()}")
        raise
    finally:
        context.close()


def _inspector_state(cell) -> tuple[str, list[str]]:
    """The inspector's probability bars (their text) and its pictures (image sources)."""
    bars = " | ".join(t for t in cell.locator(".widget-html").all_inner_texts() if re.search(r"\d\.\d{3}", t))
    return bars, _image_sources(cell)


def test_a_mouse_stroke_on_the_inspector_canvas_changes_probabilities_and_maps(lab, browser):
    notebook = "00_setup_and_tour.ipynb"
    source = ROOT / "notebooks" / notebook
    base, token, served = lab
    _copy_without_outputs(source, served / "notebooks" / notebook)
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
    context.route("**/*", _only_localhost)
    page = context.new_page()
    try:
        _open_and_run_all(page, base, token, notebook)
        assert not _cell_errors(page), f"{notebook}: a cell printed an error:\n" + "\n".join(_cell_errors(page))

        page.locator(".jp-CodeCell canvas").first.wait_for(timeout=30_000)
        cell = page.locator(".jp-CodeCell").filter(has=page.locator("canvas")).first
        canvas = cell.locator("canvas").first
        canvas.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        bars_before, images_before = _inspector_state(cell)
        assert bars_before and len(images_before) >= 5, f"the inspector shows no bars or pictures: {bars_before!r}"
        cell.screenshot(path=SCREENSHOTS / "00-inspector-1-before.png")

        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
        page.mouse.down()
        page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.8 * box["height"], steps=12)
        page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"], steps=12)
        page.mouse.up()

        deadline = time.monotonic() + WIDGET_TIMEOUT_S
        while time.monotonic() < deadline:
            bars_after, images_after = _inspector_state(cell)
            if bars_after != bars_before and images_after != images_before:
                break
            page.wait_for_timeout(300)
        cell.screenshot(path=SCREENSHOTS / "00-inspector-2-after.png")
        assert bars_after != bars_before, f"the probabilities did not change: {bars_before!r}"
        changed = sum(a != b for a, b in zip(images_after, images_before))
        assert changed >= 3, f"only {changed} of the inspector's pictures changed after the stroke"
        assert not _cell_errors(page)
        print(f"inspector: {bars_before!r} -> {bars_after!r}; {changed} pictures changed")
    except BaseException:
        page.screenshot(path=SCREENSHOTS / "00-inspector-failure.png")
        raise
    finally:
        context.close()


# The quiz of notebook 14, in a notebook of its own (two cells): the widget, then its results read back in Python.
QUIZ_CELLS = [
    "from course_utils.data import FASHION_CLASSES, fashion_mnist\n"
    "from course_utils.widgets import garment_quiz\n"
    "\n"
    "test = fashion_mnist('test')\n"
    "images, labels = test.images[:5], test.labels[:5]\n"
    "model_predictions = labels.clone()\n"
    "model_predictions[2:] = (labels[2:] + 1) % 10  # right on the first two garments, wrong on the rest\n"
    "quiz = garment_quiz(images, labels, FASHION_CLASSES, model_predictions)\n"
    "quiz",
    "print(quiz.results().summary('FashionNet'))",
]


def _write_notebook(path: Path, sources: list[str]) -> None:
    cells = [
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": s} for s in sources
    ]
    kernel = {"display_name": "Python 3", "language": "python", "name": "python3"}
    path.write_text(
        json.dumps({"cells": cells, "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5})
    )


def _wait_text(locator, pattern: str, timeout_s: float) -> str:
    """Wait until the text of ``locator`` matches ``pattern``; return it."""
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = " ".join(locator.all_inner_texts())
        if re.search(pattern, text):
            return text
        locator.page.wait_for_timeout(300)
    pytest.fail(f"no text matching {pattern!r} within {timeout_s:.0f} s; shown: {text!r}")


def test_the_garment_quiz_answers_two_questions_with_the_mouse_and_shows_the_results(lab, browser):
    from course_utils.data import FASHION_CLASSES, fashion_mnist

    truth = [FASHION_CLASSES[int(c)] for c in fashion_mnist("test").labels[:2]]
    wrong = next(name for name in FASHION_CLASSES if name != truth[1])
    notebook = "quiz_ui_test.ipynb"
    base, token, served = lab
    _write_notebook(served / "notebooks" / notebook, QUIZ_CELLS)
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
    context.route("**/*", _only_localhost)
    page = context.new_page()
    try:
        _open_and_run_all(page, base, token, notebook)
        assert not _cell_errors(page), f"{notebook}: a cell printed an error:\n" + "\n".join(_cell_errors(page))
        question = re.compile(r"question \d+ of 5")
        page.locator(".jp-CodeCell .widget-html").filter(has_text=question).first.wait_for(timeout=30_000)
        cell = page.locator(".jp-CodeCell").filter(has=page.locator(".widget-html").filter(has_text=question)).first
        progress = cell.locator(".widget-html").filter(has_text=question)
        cell.scroll_into_view_if_needed()
        shown = cell.locator(".jp-OutputArea img:visible")  # the results figure waits hidden until it is asked for
        garment = _image_sources(cell)
        assert shown.count() == 1 and "question 1 of 5" in progress.first.inner_text()
        cell.screenshot(path=SCREENSHOTS / "quiz-1-start.png")

        def button(name: str):
            return cell.locator("button.jupyter-button", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).first

        button(truth[0]).click()  # right
        _wait_text(progress, r"question 2 of 5", WIDGET_TIMEOUT_S)
        second = _wait_new_image(page, cell, garment, WIDGET_TIMEOUT_S)
        button(wrong).click()  # wrong
        _wait_text(progress, r"question 3 of 5", WIDGET_TIMEOUT_S)
        _wait_new_image(page, cell, second, WIDGET_TIMEOUT_S)
        cell.screenshot(path=SCREENSHOTS / "quiz-2-two-answered.png")

        button("show results").click()
        summary = _wait_text(cell.locator(".widget-html"), r"you: 1 of 2 right", WIDGET_TIMEOUT_S)
        assert re.search(r"FashionNet on the same 2: 2 of 2", summary) and "0.835" in summary, summary
        deadline = time.monotonic() + WIDGET_TIMEOUT_S
        while shown.count() < 2 and time.monotonic() < deadline:  # the garment and the results figure
            page.wait_for_timeout(300)
        assert shown.count() == 2, "the results figure did not appear"
        cell.screenshot(path=SCREENSHOTS / "quiz-3-results.png")

        # the kernel holds the same answers: run the second cell again and read what it prints
        readback = page.locator(".jp-CodeCell").nth(1)
        readback.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        printed = _wait_text(readback.locator(".jp-OutputArea-output"), r"you: 1 of 2 right", WIDGET_TIMEOUT_S)
        assert "FashionNet on the same 2: 2 of 2" in printed, printed
        assert not _cell_errors(page)
        print(f"quiz: answered {truth[0]!r} (right) and {wrong!r} (truth {truth[1]!r}); {printed.strip()}")
    except BaseException:
        page.screenshot(path=SCREENSHOTS / "quiz-failure.png")
        raise
    finally:
        context.close()
