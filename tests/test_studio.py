"""gankit studio: the actions behind the page, the server's limits and errors, and the page in a real browser."""
import base64
import io
import json
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from gankit.config import resolve
from gankit.errors import GankitError
from gankit.trainer import Trainer

from conftest import TINY

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from gankit.studio import MAX_UPSCALE_PIXELS, StudioRun, open_runs  # noqa: E402
from gankit.studio.server import Gate, bind, make_server, url_of  # noqa: E402

SPECS = {"cgan": ("mnist-cgan", ["dcgan.g_width=8", "dcgan.d_width=8"]),
         "sr": ("mnist-sr", ["srresnet.width=8", "srresnet.blocks=1", "patchgan.width=8"]),
         "inpaint": ("mnist-inpaint", ["unet.width=8", "patchgan.width=8"]),
         "style": ("mnist-stylegan2", ["train.batch_size=8", "stylegan2.g_width=4", "stylegan2.d_width=4",
                                       "stylegan2.max_width=8", "stylegan2.w_dim=8"]),
         "text": ("oracle-mle", ["lstm.embed=8", "lstm.hidden=16", "train.n_samples=4", "train.batch_size=16"]),
         "points": ("toy-ring", ["toy-mlp.g_hidden=[16]", "toy-mlp.d_hidden=[16]"])}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio")
    for name, (preset, extra) in SPECS.items():
        Trainer(resolve(preset, TINY + ["train.steps=2", *extra]), root / name, progress=False).fit()
    return root


@pytest.fixture(scope="module")
def runs(folders):
    return dict(zip(SPECS, open_runs([folders / name for name in SPECS])))


def data_url(picture: Image.Image, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


def decoded(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_describe_names_each_kind_and_its_knobs(runs):
    kinds = {name: run.describe() for name, run in runs.items()}
    assert {name: d["kind"] for name, d in kinds.items()} == {
        "cgan": "noise", "sr": "upscale", "inpaint": "inpaint", "style": "noise", "text": "text", "points": "points"}
    assert kinds["cgan"]["classes"] == [str(i) for i in range(10)] and not kinds["cgan"]["truncation"]
    assert kinds["style"]["truncation"] and kinds["style"]["mix"] and kinds["style"]["classes"] == []
    assert kinds["sr"]["inputs"] == {"a2b": [1, 7, 7]} and kinds["inpaint"]["inputs"] == {"a2b": [1, 28, 28]}
    assert kinds["text"]["length"] == 19 and all(d["report"] for d in kinds.values())


def test_samples_come_with_the_asked_count_size_and_label(runs):
    out = runs["cgan"].sample({"n": 10, "seed": 1, "label": 3})
    pictures = [decoded(u) for u in out["images"]]
    assert len(pictures) == 10 and out["columns"] == 4 and out["labels"] == ["3"] * 10
    assert all(p.size == (28, 28) for p in pictures)
    again = runs["cgan"].sample({"n": 10, "seed": 1, "label": 3})["images"]
    assert again == out["images"] and runs["cgan"].sample({"n": 10, "seed": 2, "label": 3})["images"] != again
    every = runs["cgan"].sample({"n": 9, "seed": 1})
    assert every["labels"] == ["0", "0", "0", "1", "1", "1", "2", "2", "2"]  # one class per row of 3
    scatter = runs["points"].sample({"n": 8})["images"]
    assert len(scatter) == 1 and decoded(scatter[0]).width > 200  # points are one scatter plot
    with pytest.raises(GankitError, match="this model makes 2-D points"):
        runs["points"].walk({"n": 4})


@pytest.mark.parametrize("name, options", [("cgan", {}), ("style", {"truncation": 0.7})])
def test_a_walk_starts_and_ends_at_the_two_picked_samples(runs, name, options):
    run = runs[name]
    shown = run.sample({"n": 9, "seed": 4, **options})["images"]
    walk = run.walk({"n": 9, "seed": 4, "first": 2, "second": 7, "frames": 5, **options})
    strip = np.asarray(decoded(walk["strip"]))
    first, last = (np.asarray(decoded(shown[i])) for i in (2, 7))
    side = first.shape[0]  # 28 px; StyleGAN2's MNIST preset pads to 32
    assert strip.shape == (side, 5 * side)
    assert np.abs(strip[:, :side].astype(int) - first).max() <= 1
    assert np.abs(strip[:, -side:].astype(int) - last).max() <= 1
    gif = decoded(walk["gif"])
    assert gif.format == "GIF" and gif.info["loop"] == 0 and 1 < gif.n_frames <= 8  # there and back (equal frames merge)


def test_bad_requests_are_one_line_errors(runs):
    cases = [(runs["cgan"], "sample", {"n": 0}, "n must be between 1 and 64"),
             (runs["cgan"], "sample", {"n": 10**9}, "n must be between 1 and 64"),
             (runs["cgan"], "sample", {"n": "many"}, "n must be a whole number"),
             (runs["cgan"], "sample", {"n": float("nan")}, "n must be a whole number"),
             (runs["cgan"], "sample", {"seed": float("inf")}, "seed must be a whole number"),
             (runs["cgan"], "sample", {"n": 2.5}, "n must be a whole number"),
             (runs["cgan"], "sample", {"label": 10}, "label must be between 0 and 9"),
             (runs["cgan"], "sample", {"seed": -1}, "seed must be between 0"),
             (runs["cgan"], "sample", {"truncation": 0.5}, "needs a style-based generator"),
             (runs["style"], "sample", {"truncation": 7}, "truncation must be a number between 0.0 and 1.0"),
             (runs["cgan"], "mix", {}, "needs a style-based generator"),
             (runs["cgan"], "walk", {"n": 4, "first": 0, "second": 4}, "second must be between 0 and 3"),
             (runs["cgan"], "translate", {"image": "x"}, "does not take pictures"),
             (runs["text"], "text", {"n": 51}, "n must be between 1 and 50"),
             (runs["text"], "text", {"temperature": 0}, "temperature must be a number"),
             (runs["sr"], "sample", {}, "does not draw samples"),
             (runs["sr"], "translate", {"image": 3}, "must be a picture"),
             (runs["sr"], "translate", {"image": "data:image/png;base64,@@@"}, "not valid base64"),
             (runs["sr"], "translate", {"image": "data:image/png;base64," + base64.b64encode(b"hello").decode()},
              "cannot read the picture"),
             (runs["cgan"], "erase", {}, "unknown action 'erase'"),
             (runs["cgan"], "sample", [1, 2], "must be a JSON object")]
    for run, action, request, message in cases:
        with pytest.raises(GankitError) as err:
            run.act(action, request)
        assert message in str(err.value) and "\n" not in str(err.value), (action, request, str(err.value))


def test_uploads_are_bounded_before_they_are_decoded(runs):
    huge = data_url(Image.new("L", (5000, 5000)))  # 25 megapixels that compress to a few kB
    assert len(huge) < 100_000
    with pytest.raises(GankitError, match="5000x5000: more than gankit reads"):
        runs["inpaint"].act("translate", {"image": huge, "mask": huge})
    side = int(MAX_UPSCALE_PIXELS ** 0.5) + 1
    with pytest.raises(GankitError, match=f"{side}x{side}: more than gankit reads"):
        runs["sr"].act("translate", {"image": data_url(Image.new("L", (side, side)))})
    with pytest.raises(GankitError, match="alpha channel"):
        runs["sr"].act("translate", {"image": data_url(Image.new("RGBA", (7, 7)))})
    with pytest.raises(GankitError, match="larger than 4 MB"):
        runs["sr"].act("translate", {"image": "data:image/png;base64," + "A" * (6 << 20)})


def test_translators_take_uploaded_and_drawn_pictures(runs):
    digit = Image.fromarray((np.random.default_rng(0).random((20, 16)) * 255).astype(np.uint8))
    up = runs["sr"].act("translate", {"image": data_url(digit)})
    assert decoded(up["output"]).size == (64, 80) and decoded(up["input"]).size == (16, 20)
    picture = Image.new("L", (28, 28), 40)
    mask = Image.new("L", (28, 28))
    mask.paste(255, (5, 5, 15, 12))
    out = runs["inpaint"].act("translate", {"image": data_url(picture, "JPEG"), "mask": data_url(mask, "JPEG")})
    result = np.asarray(decoded(out["output"])).astype(int)
    assert result.shape == (28, 28) and np.abs(result[20:, 20:] - 40).max() <= 2  # outside the hole: unchanged


def test_a_font_model_writes_typed_text_and_translates_a_drawing(tmp_path):
    folder = tmp_path / "glyphs"
    Trainer(resolve("glyphs-kai", TINY + ["unet.width=4", "unet.depth=2", "patchgan.width=4", "train.steps=2",
                                          "train.batch_size=8"]), folder, progress=False).fit()
    run = open_runs([folder])[0]
    described = run.describe()
    assert described["kind"] == "translate" and described["glyph_text"] and described["paper"]
    out = run.act("translate", {"text": "永和 九年"})
    source, result = (np.asarray(decoded(out[k])) for k in ("input", "output"))
    assert source.shape == result.shape == (64, 5 * 64) and (result[:, 128:192] == 255).all()  # the space is paper
    drawn = run.act("translate", {"image": data_url(Image.new("RGB", (280, 280), "white"), "JPEG")})
    assert decoded(drawn["input"]).size == decoded(drawn["output"]).size == (64, 64)
    with pytest.raises(GankitError, match="at most 32 characters"):
        run.act("translate", {"text": "永" * 33})
    with pytest.raises(GankitError, match="direction must be a2b"):
        run.act("translate", {"image": drawn["input"], "direction": "b2a"})


def test_text_models_write_with_a_prefix(runs):
    texts = runs["text"].act("text", {"n": 3, "seed": 1, "prefix": "7"})["texts"]  # the oracle's tokens are numbers
    assert len(texts) == 3 and all(t.split()[0] == "7" for t in texts)


def test_open_runs_refuses_nothing_and_names_a_bad_run(tmp_path):
    with pytest.raises(GankitError, match="at least one run"):
        open_runs([])
    with pytest.raises(GankitError):
        open_runs([tmp_path / "missing"])


# ------------------------------------------------------------------ the server


@contextmanager
def serving(runs: list[StudioRun]):
    sock = bind("127.0.0.1", 0)
    server = make_server(runs, sock)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(20)


def post(url: str, body, raw: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=raw if raw is not None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def oversize(url: str, path: str, declared: int) -> tuple[int, dict]:
    """Declare a huge body, send only its first kilobyte, and read the answer: the server must not wait for the
    rest (nor read it) before refusing."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    connection.putrequest("POST", "/" + path)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(declared))
    connection.endheaders()
    connection.send(b"x" * 1024)
    response = connection.getresponse()
    answer = response.status, json.loads(response.read())
    connection.close()
    return answer


@pytest.fixture(scope="module")
def server(runs):
    with serving(list(runs.values())) as url:
        yield url


def test_server_serves_the_page_the_runs_and_the_reports(server):
    with urllib.request.urlopen(server, timeout=30) as response:
        page = response.read().decode()
    assert "gankit studio" in page and "/static/studio.js" in page
    with urllib.request.urlopen(server + "static/studio.js", timeout=30) as response:
        assert b"/api/runs" in response.read()
    with urllib.request.urlopen(server + "api/runs", timeout=30) as response:
        listed = json.loads(response.read())
    assert [r["id"] for r in listed] == list(range(len(SPECS))) and listed[0]["kind"] == "noise"
    with urllib.request.urlopen(server + "runs/0/files/report.html", timeout=30) as response:
        assert b"Evaluation card" in response.read() or response.status == 200
    for path in ("runs/0/files/../../../../etc/passwd", "runs/0/files/%2e%2e/%2e%2e/etc/passwd",
                 "runs/0/files/checkpoints/step-00000002.pt", "runs/9/files/report.html"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server + path, timeout=30)
        assert err.value.code == 404, path


def test_server_answers_bad_requests_with_errors_and_keeps_serving(server):
    assert post(server + "api/runs/0/sample", {"n": 999}) == (400, {"error": "n must be between 1 and 64, got 999"})
    assert post(server + "api/runs/0/sample", None, raw=b"{not json")[0] == 400
    assert post(server + "api/runs/0/sample", None, raw=b"[" * 100_000 + b"]" * 100_000)[0] == 400
    assert post(server + "api/runs/0/sample", None, raw=b'{"n": NaN}') == (400, {"error": "n must be a whole number, got 'nan'"})
    assert post(server + "api/runs/7/sample", {})[1]["error"].startswith("no run 7")
    status, answer = oversize(server, "api/runs/1/translate", 20 << 20)
    assert status == 413 and "larger than" in answer["error"]
    status, answer = post(server + "api/runs/0/sample", {"n": 4, "label": 2})
    assert status == 200 and len(answer["images"]) == 4


def test_fifty_concurrent_sample_requests_all_complete(server):
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda i: post(server + "api/runs/0/sample", {"n": 16, "seed": i}), range(50)))
    assert [status for status, _ in answers] == [200] * 50
    assert all(len(a["images"]) == 16 for _, a in answers)


def test_the_gate_turns_away_what_it_cannot_queue():
    import asyncio

    async def scenario():
        gate = Gate(waiting=2)
        gate.lock = asyncio.Lock()  # made inside this event loop
        held = await gate.lock.acquire()  # the model is busy
        first = asyncio.ensure_future(gate.run(lambda: {"ok": 1}))
        second = asyncio.ensure_future(gate.run(lambda: {"ok": 2}))
        await asyncio.sleep(0.01)
        refused = await gate.run(lambda: {"ok": 3})
        gate.lock.release()
        done = await asyncio.gather(first, second)
        return held, refused, done

    held, refused, done = asyncio.run(scenario())
    assert refused.status_code == 503 and b"busy" in refused.body
    assert [r.status_code for r in done] == [200, 200]


# ------------------------------------------------------------------ the page in a real browser (Debian's chromium)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    not (CHROMIUM and DRIVER) and not os.environ.get("GANKIT_REQUIRE_BROWSER"),  # .ci/run installs them and sets it
    reason="needs chromium and chromium-driver (apt install chromium chromium-driver) and selenium")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1600",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER or "chromedriver"))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, condition, seconds=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(lambda d: condition(d))


def open_run(driver, url, index):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(url)
    wait_for(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes")
    Select(driver.find_element(By.ID, "run")).select_by_value(str(index))


@needs_browser
def test_page_generates_a_chosen_digit_and_shows_it(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_run(browser, server, 0)
    assert browser.find_element(By.ID, "label-box").is_displayed()
    Select(browser.find_element(By.ID, "label")).select_by_visible_text("7")
    count = browser.find_element(By.ID, "count")
    count.clear()
    count.send_keys("9")
    browser.find_element(By.ID, "generate").click()
    images = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#samples img.sample") or False)
    wait_for(browser, lambda d: all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)
                                    for i in images))
    assert len(images) == 9
    assert all(browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", i) == [28, 28]
               for i in images)
    assert all(i.get_attribute("title").endswith(": 7") for i in images)
    images[0].click()
    images[4].click()
    browser.find_element(By.ID, "walk").click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#walk-out img.walk"))
    shot = tmp_path / "page.png"
    browser.save_screenshot(str(shot))
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 20 and (pixels < 60).mean() > 0.01, "the screenshot looks blank"
    assert not browser.find_element(By.ID, "error").is_displayed()


@needs_browser
def test_page_upscales_an_uploaded_picture_and_reports_bad_uploads(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    open_run(browser, server, 1)
    picture = tmp_path / "digit.png"
    Image.fromarray((np.random.default_rng(1).random((12, 10)) * 255).astype(np.uint8)).save(picture)
    browser.find_element(By.ID, "upload").send_keys(str(picture))
    wait_for(browser, lambda d: d.execute_script("return upload !== null"))
    browser.find_element(By.ID, "run-translate").click()
    outputs = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#translate-out img"))
    wait_for(browser, lambda d: d.execute_script("return arguments[0].naturalWidth", outputs[-1]))
    assert browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]",
                                  outputs[-1]) == [40, 48]

    for name, content, message in (("notes.png", b"not a picture at all", "cannot read the picture"),
                                   ("big.png", None, "more than gankit reads")):
        path = tmp_path / name
        if content is None:
            Image.new("L", (1000, 1000)).save(path)
        else:
            path.write_bytes(content)
        browser.find_element(By.ID, "upload").send_keys(str(path))
        wait_for(browser, lambda d: d.execute_script("return upload !== null"))
        browser.find_element(By.ID, "run-translate").click()
        error = browser.find_element(By.ID, "error")
        wait_for(browser, lambda d: error.is_displayed() and message in error.text)
    open_run(browser, server, 0)  # the server still serves
    browser.find_element(By.ID, "generate").click()
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#samples img.sample")) == 16)


@needs_browser
def test_page_fills_holes_painted_over_a_drawn_digit(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_run(browser, server, 2)

    def stroke(canvas, points):
        chain = ActionChains(browser).move_to_element_with_offset(canvas, *points[0]).click_and_hold()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            chain = chain.move_by_offset(x1 - x0, y1 - y0)
        chain.release().perform()

    stroke(browser.find_element(By.ID, "pad"), [(-60, -80), (0, 0), (40, 90)])  # offsets from the centre
    assert browser.execute_script(
        "return document.getElementById('pad').getContext('2d').getImageData(140, 140, 1, 1).data[0]") == 255
    browser.find_element(By.ID, "paint-holes").click()
    stroke(browser.find_element(By.ID, "holes"), [(-20, -20), (20, 20)])
    assert browser.execute_script(
        "return document.getElementById('holes').getContext('2d').getImageData(140, 140, 1, 1).data[3]") > 0
    browser.find_element(By.ID, "run-translate").click()
    outputs = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#translate-out img"))
    wait_for(browser, lambda d: d.execute_script("return arguments[0].naturalWidth", outputs[-1]))
    assert browser.execute_script("return arguments[0].naturalWidth", outputs[-1]) == 28
    assert not browser.find_element(By.ID, "error").is_displayed()


def test_studio_command_refuses_bad_input_in_one_line(folders, tmp_path, capsys, monkeypatch):
    from gankit.cli import main

    taken = bind("127.0.0.1", 0)
    cases = [([str(tmp_path / "missing")], "no generator export"),
             ([str(folders / "cgan"), "--port", "70000"], "--port must be between 0 and 65535"),
             ([str(folders / "cgan"), "--port", str(taken.getsockname()[1])], "cannot listen on 127.0.0.1"),
             ([str(folders / "cgan"), "--host", "no.such.host.invalid"], "cannot listen on no.such.host.invalid"),
             ([str(folders / "cgan"), "--threads", "-1"], "--threads must be between 0")]
    for args, message in cases:
        assert main(["studio", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (args, err)
    taken.close()
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["studio", str(folders / "cgan")]) == 2
    assert "pip install 'gankit[studio]'" in capsys.readouterr().err


def test_studio_command_serves_until_stopped(folders):
    import signal
    import subprocess
    import sys

    server = subprocess.Popen([sys.executable, "-m", "gankit", "studio", str(folders / "cgan"), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "gankit studio: 1 run at http://127.0.0.1:" in line, line + server.stderr.read()
        url = line[line.index("http://"):].split()[0]
        assert post(url + "api/runs/0/sample", {"n": 2})[0] == 200
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        assert server.wait(30) == 0 and "stopped" in server.stdout.read()
        assert "Traceback" not in server.stderr.read()
