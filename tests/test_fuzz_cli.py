"""The command line fuzzed with hypothesis: config values, preset files, .npz files, images, export JSON and
checkpoint fields. Every case ends with exit 0 (the input was fine) or exit 2 and one line; never a traceback
and never exit 1 (gankit's own bug). Slow: run with `pytest -m slow`."""
import contextlib
import io
import json
import shutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit.checkpoint import list_checkpoints
from gankit.cli import main
from gankit.config import resolve
from gankit.trainer import Trainer

from conftest import TINY

pytestmark = pytest.mark.slow
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
SMALL = TINY + ["mlp.g_hidden=[16]", "mlp.d_hidden=[16]", "train.steps=2", "eval.n_final=0"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
override_values = st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=12),
                            st.sampled_from(["nan", "-inf", "1e400", "[]", "{}", "[1, -1]", "null", "~", "0", "-1",
                                             "&a [*a]", "!!python/object:os.system ls", "0x10", "1_000"]),
                            st.lists(st.integers(-5, 100000), max_size=3))


def cli(*args: str) -> tuple[int, str]:
    """Run the command line in this process: (exit code, stderr), asserting the error contract: one line on
    stderr for every failure, never a traceback, never exit 1."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code
    text = err.getvalue()
    assert "Traceback" not in text and code != 1, text
    if code != 0 and not text.startswith("usage:"):  # warnings come before it, one line each
        assert len([line for line in text.splitlines() if line.strip() and not line.startswith("gankit: warning:")]) \
            == 1, text
    return code, text


def keys_of(tree: dict, prefix: str = "") -> list[str]:
    return [key for k, v in tree.items()
            for key in (keys_of(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"])]


ALL_KEYS = sorted({*keys_of(resolve("seed-mlp").to_dict()), *keys_of(resolve("mnist-dcgan").to_dict())})


@FUZZ
@given(key=st.sampled_from(ALL_KEYS + ["nope", "train", "gan.net.x", ""]),
       value=override_values, preset=st.sampled_from(["seed-mlp", "mnist-dcgan", "toy-ring"]))
def test_config_values_on_the_command_line(key, value, preset):
    code, _ = cli("train", preset, "--dry-run", "--set", f"{key}={value}")
    assert code in (0, 2)


@settings(FUZZ, max_examples=25)
@given(key=st.sampled_from(["optim.G.lr", "optim.D.beta1", "optim.name", "optim.decay_from", "gan.loss", "gan.pack",
                            "gan.z_dim", "gan.conditional", "gan.augment", "gan.n_critic", "gan.reuse_fakes",
                            "gan.gp_weight", "mlp.leak", "mlp.g_norm", "mlp.d_spectral_norm", "data.resolution",
                            "data.channels", "data.crop", "train.batch_size", "train.precision", "train.on_nan",
                            "train.ema_halflife_kimg", "train.threads", "eval.protocol", "eval.extractor"]),
       value=override_values)
def test_config_values_through_a_short_training(tmp_path_factory, key, value):
    out = tmp_path_factory.mktemp("run")
    overrides = sum((["--set", o] for o in SMALL + [f"{key}={value}"]), [])
    code, _ = cli("train", "seed-mlp", "--out", str(out), "--no-progress", "--overwrite", *overrides)
    assert code in (0, 2, 3)  # 3: settings that make training diverge (a huge penalty weight) stop it cleanly


@FUZZ
@given(text=st.one_of(st.binary(max_size=200),
                      st.text(max_size=200).map(str.encode),
                      st.dictionaries(st.sampled_from(["preset", "description", "gan", "train", "data", "optim",
                                                       "extends", "mlp", "nope"]),
                                      json_values, max_size=4).map(lambda d: json.dumps(d).encode())))
def test_preset_files(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("preset") / "mine.yaml"
    path.write_bytes(text)
    code, _ = cli("train", str(path), "--dry-run")
    assert code in (0, 2)


@FUZZ
@given(payload=st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from([np.uint8, np.float32, np.int64, np.bool_]),
              st.lists(st.integers(0, 40), min_size=0, max_size=5), st.sampled_from(["images", "x"]))))
def test_npz_files(tmp_path_factory, payload):
    path = tmp_path_factory.mktemp("npz") / "samples.npz"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        dtype, shape, key = payload
        np.savez_compressed(path, **{key: np.zeros(shape, dtype)})
    code, _ = cli("eval", str(path), "--n", "12")
    assert code in (0, 2)


@pytest.fixture(scope="module")
def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (12, 9), (200, 30, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6),
       truncate=st.integers(10, 400))
def test_damaged_images_in_a_folder(tmp_path_factory, png_bytes, edits, truncate):
    folder = tmp_path_factory.mktemp("images")
    damaged = bytearray(png_bytes)
    for at, byte in edits:
        damaged[at % len(damaged)] = byte
    (folder / "a.png").write_bytes(bytes(damaged[:truncate]))
    (folder / "b.jpg").write_bytes(bytes(damaged))
    code, _ = cli("eval", str(folder), "--n", "12")
    assert code in (0, 2)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finished")
    Trainer(resolve("seed-mlp", SMALL), folder, progress=False).fit()
    return folder


@FUZZ
@given(field=st.sampled_from(["format", "nets", "fields", "config", "class_names", "recipe", "step", "kind",
                              "image_shape"]),
       value=json_values, deep=st.sampled_from(["", "gan", "mlp", "train", "data", "optim"]))
def test_export_json(tmp_path_factory, finished_run, field, value, deep):
    export = tmp_path_factory.mktemp("export")
    for name in ("generator.safetensors", "generator.json"):
        shutil.copy(finished_run / name, export / name)
    meta = json.loads((export / "generator.json").read_text())
    if deep and field == "config":
        meta["config"][deep] = value
    else:
        meta[field] = value
    (export / "generator.json").write_text(json.dumps(meta))
    code, _ = cli("sample", str(export), "--n", "4", "--out", str(export / "grid.png"))
    assert code in (0, 2)


tensor_values = st.one_of(json_values, st.builds(torch.zeros, st.lists(st.integers(0, 3), max_size=3)))


@FUZZ
@given(field=st.sampled_from(["format", "config", "step", "wall_s", "nets", "opts", "rng", "sampler", "fixed",
                              "best_score", "data", "ema"]),
       value=tensor_values)
def test_checkpoint_fields(tmp_path_factory, finished_run, field, value):
    folder = tmp_path_factory.mktemp("crafted")
    state = torch.load(list_checkpoints(finished_run)[0], weights_only=True)
    state[field] = value
    torch.save(state, folder / "crafted.pt")
    code, _ = cli("train", "--resume", str(folder / "crafted.pt"), "--out", str(folder / "run"), "--no-progress",
                  "--steps", "3")
    assert code in (0, 2)


@pytest.fixture(scope="module")
def paired_runs(tmp_path_factory):
    """Tiny trained image-to-image models: inpainting, super-resolution, font transfer."""
    sizes = {"mnist-inpaint": ["unet.width=4", "patchgan.width=4"],
             "mnist-sr": ["srresnet.width=4", "srresnet.blocks=1", "patchgan.width=4"],
             "glyphs-kai": ["unet.width=4", "unet.depth=2", "patchgan.width=4", "train.batch_size=8"]}
    runs = {}
    for preset, small in sizes.items():
        folder = tmp_path_factory.mktemp(preset)
        Trainer(resolve(preset, TINY + small + ["train.steps=2"]), folder, progress=False).fit()
        runs[preset] = folder
    return runs


def picture(mode: str, width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    channels = {"1": 1, "L": 1, "P": 1, "I;16": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4}[mode]
    pixels = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels[..., :3] if channels >= 3 else pixels[..., 0])
    if mode != image.mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF" if mode in ("CMYK", "I;16") else "PNG")
    return buffer.getvalue()


files = st.one_of(st.builds(picture, st.sampled_from(["1", "L", "P", "I;16", "LA", "RGB", "RGBA", "CMYK"]),
                            st.integers(1, 70), st.integers(1, 70), st.integers(0, 9)),
                  st.binary(max_size=200))


@FUZZ
@given(image=files, mask=files, name=st.sampled_from(["out.png", "out.jpg", "out.txt", "in.png", "dir/"]))
def test_upscale_and_inpaint_with_odd_pictures(tmp_path_factory, paired_runs, image, mask, name):
    folder = tmp_path_factory.mktemp("pictures")
    (folder / "in.png").write_bytes(image)
    (folder / "mask.png").write_bytes(mask)
    (folder / "dir").mkdir()
    out = str(folder / name)
    code, _ = cli("upscale", str(paired_runs["mnist-sr"]), str(folder / "in.png"), "--out", out)
    assert code in (0, 2)
    code, _ = cli("inpaint", str(paired_runs["mnist-inpaint"]), str(folder / "in.png"), "--mask",
                  str(folder / "mask.png"), "--out", out)
    assert code in (0, 2)
    assert (folder / "in.png").read_bytes() == image  # an input is never overwritten


@FUZZ
@given(text=st.text(max_size=40) | st.text(alphabet="永和九年岁在癸丑 \t\n", max_size=20))
def test_translate_any_text(tmp_path_factory, paired_runs, text):
    folder = tmp_path_factory.mktemp("text")
    code, _ = cli("translate", str(paired_runs["glyphs-kai"]), "--text", text, "--out", str(folder / "line.png"))
    assert code in (0, 2)
