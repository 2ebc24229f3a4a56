"""Regression tests of bad input found by a hostile review: each case ends in a one-line error with exit 2,
or in the right result; anything unexpected is one line saying it is gankit's bug, with exit 1."""
import json
import shutil

import pytest

from gankit.cli import main
from gankit.config import resolve
from gankit.report import format_table
from gankit.sampling import load_generator
from gankit.trainer import Trainer

from conftest import TINY


def one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.mark.parametrize("preset, extra", [("toy-ring", ["data.limit=2000", "train.n_samples=100"]),
                                           ("stacked-mnist", ["data.limit=256", "dcgan.g_width=8", "dcgan.d_width=8",
                                                              "eval.n_final=300"])])
def test_every_protocol_finishes_training_with_its_table(tmp_path, capsys, preset, extra):
    overrides = ["train.steps=4", "train.log_every=2", "eval.every=0", "train.batch_size=32", *extra]
    args = ["train", preset, "--out", str(tmp_path / "run"), "--no-progress"]
    assert main(args + sum((["--set", o] for o in overrides), [])) == 0
    out = capsys.readouterr().out
    assert "modes" in out and "card:" in out  # crashed with KeyError 'extractor' before
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert format_table(metrics).splitlines()[-1].startswith("card: ")
    # `gankit eval` measures the export by the run's protocol (it gave MNIST image metrics or failed before)
    generator = load_generator(tmp_path / "run")
    assert generator.meta["protocol"] == {"toy-ring": "points-modes", "stacked-mnist": "stacked-modes"}[preset]
    assert generator.judged_by_its_protocol
    if preset == "toy-ring":  # (Stacked MNIST's 26,000 samples take too long for the default run)
        assert main(["eval", str(tmp_path / "run"), "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["num_modes"] == 8 and result["card"]["n_samples"] == 2500
        del generator.meta["protocol"]  # an export from before the protocol was recorded: known by its points
        assert generator.judged_by_its_protocol


def test_an_unexpected_failure_is_one_line_and_exit_1(capsys, monkeypatch):
    import gankit.cli

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setitem(gankit.cli.COMMANDS, "list", broken)
    assert main(["list"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "a bug in gankit" in line and "ZeroDivisionError: division by zero" in line and "--debug" in line
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "list"])


@pytest.fixture(scope="module")
def run_with_best(tmp_path_factory):
    """A finished run whose best generator (cheap FID at step 2) differs from its final one (step 6)."""
    folder = tmp_path_factory.mktemp("run")
    cfg = resolve("seed-mlp", TINY + ["mlp.g_hidden=[16]", "mlp.d_hidden=[16]", "train.steps=6", "eval.every=2",
                                      "eval.n_cheap=50", "optim.G.lr=0.05"])
    Trainer(cfg, folder, progress=False).fit()
    return folder


def test_an_export_path_means_that_export(run_with_best):
    best_meta = json.loads((run_with_best / "generator-best.json").read_text())
    assert best_meta["step"] < 6  # the fixture's best is not its final generator
    for name in ("generator-best.json", "generator-best.safetensors"):
        assert load_generator(run_with_best / name).meta["step"] == best_meta["step"]
    assert load_generator(run_with_best / "generator.json").meta["step"] == 6
    assert load_generator(run_with_best).meta["step"] == 6


def test_a_run_folder_without_an_export_is_not_an_image_folder(run_with_best, tmp_path, capsys):
    folder = tmp_path / "unfinished"
    shutil.copytree(run_with_best, folder)
    for path in folder.glob("generator*"):
        path.unlink()
    assert main(["eval", str(folder), "--n", "50"]) == 2
    assert "run folder without a generator export" in one_line(capsys.readouterr().err)
    assert main(["sample", str(folder / "stats.jsonl"), "--out", str(tmp_path / "x.png")]) == 2
    assert "not a generator export" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("minutes", ["0", "-5", "nan"])
def test_minutes_on_the_command_line_must_be_a_positive_time(capsys, minutes):
    assert main(["train", "--minutes", minutes, "--dry-run"]) == 2
    assert "--minutes must be a positive number of minutes" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("override", ["optim.G.lr=nan", "gan.pack=0", "dcgan.g_width=0", "train.batch_size=0",
                                      "data.resolution=-4", "eval.n_final=1"])
def test_bad_values_stop_before_any_training(tmp_path, capsys, override):
    assert main(["train", "--out", str(tmp_path / "run"), "--set", override]) == 2
    assert "config key" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "run").exists()  # refused at resolve time: nothing written


TINY_MLP = sum((["--set", s] for s in TINY + ["mlp.g_hidden=[16]", "mlp.d_hidden=[16]", "train.threads=1"]), [])


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_new_run_never_overwrites_an_earlier_one(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "seed-mlp", "--out", str(out), "--steps", "3", "--no-progress", *TINY_MLP]) == 0
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    capsys.readouterr()
    assert main(["train", "seed-mlp", "--out", str(out), "--steps", "4", "--no-progress", *TINY_MLP]) == 2
    line = one_line(capsys.readouterr().err)
    assert "already holds a run" in line and "--resume" in line and "--overwrite" in line
    assert snapshot(out) == before  # byte-identical
    assert main(["train", "seed-mlp", "--out", str(out), "--steps", "4", "--no-progress", "--overwrite", *TINY_MLP]) == 0
    assert (out / "notes.txt").read_text() == "mine"  # not a file of the run: kept
    assert [json.loads(x)["step"] for x in (out / "stats.jsonl").read_text().splitlines()] == [2, 4]  # the new run only


def test_a_refused_recipe_leaves_no_folder_and_keeps_the_run_it_would_overwrite(tmp_path, capsys):
    refused = ["--set", "gan.conditional=acgan", "--set", "gan.clusters=2"]  # refused when the recipe is built
    assert main(["train", "--out", str(tmp_path / "new"), "--steps", "2", "--no-progress", *refused]) == 2
    assert "gan.clusters" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "new").exists()
    out = tmp_path / "run"
    assert main(["train", "seed-mlp", "--out", str(out), "--steps", "3", "--no-progress", *TINY_MLP]) == 0
    before = snapshot(out)
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--steps", "2", "--no-progress", "--overwrite", *refused]) == 2
    assert snapshot(out) == before  # --overwrite clears the old run only once the new one can start


def test_a_training_run_locks_its_folder(tmp_path, capsys):
    from gankit.checkpoint import list_checkpoints
    from test_robustness import start_training, wait_until

    out = tmp_path / "run"
    proc = start_training(out)
    try:
        wait_until(lambda: (out / ".gankit.owner").is_file() and list_checkpoints(out))
        assert main(["train", "seed-mlp", "--out", str(out), "--overwrite", "--no-progress", *TINY_MLP]) == 2
        line = one_line(capsys.readouterr().err)
        assert f"in use by another gankit process (PID {proc.pid})" in line
        assert (out / "config.yaml").is_file()  # the running process's files are untouched
    finally:
        proc.kill()
        proc.wait()
    # the lock died with its process: the run can be resumed (and stale temporary files are cleared)
    (out / ".config.yaml.x1.tmp").write_bytes(b"half a file")
    (out / "checkpoints" / ".step-00000009.pt.x2.tmp").write_bytes(b"half a checkpoint")
    assert main(["train", "--resume", str(out), "--steps", "1", "--no-progress"]) in (0,)
    assert not list(out.glob(".*.tmp")) and not list((out / "checkpoints").glob(".*.tmp"))


def test_files_written_atomically_get_the_usual_mode(run_with_best):
    usual = (run_with_best / "stats.jsonl").stat().st_mode & 0o777  # written plainly
    for name in ("generator.json", "generator.safetensors", "generator-best.json"):
        assert (run_with_best / name).stat().st_mode & 0o777 == usual, name


def test_sample_into_a_folder_and_a_mismatched_export_are_clear_errors(run_with_best, tmp_path, capsys):
    assert main(["sample", str(run_with_best), "--out", str(tmp_path)]) == 2
    assert "is a folder: give a file name ending in .png" in one_line(capsys.readouterr().err)
    export = tmp_path / "export"
    shutil.copytree(run_with_best, export, ignore=shutil.ignore_patterns("checkpoints", "samples"))
    meta = json.loads((export / "generator.json").read_text())
    meta["config"]["mlp"]["g_hidden"] = [32]
    (export / "generator.json").write_text(json.dumps(meta))
    assert main(["sample", str(export), "--out", str(tmp_path / "x.png")]) == 2
    line = one_line(capsys.readouterr().err)
    assert "does not match its config" in line and "size mismatch" in line  # the reason, not only the headline


def test_resume_notices_changed_data(tmp_path):
    from PIL import Image

    from gankit.checkpoint import latest_checkpoint
    from gankit.errors import GankitError

    images = tmp_path / "images"
    images.mkdir()
    for i in range(40):
        Image.new("L", (8, 8), i * 6).save(images / f"{i}.png")
    overrides = ["data.name=folder", f"data.path={images}", "data.resolution=8", "data.channels=1", "train.batch_size=8",
                 "train.n_samples=4", "eval.every=0", "mlp.g_hidden=[16]", "mlp.d_hidden=[16]"]
    Trainer(resolve("seed-mlp", overrides + ["train.steps=3"]), tmp_path / "run", progress=False).fit()
    for i in range(30, 40):
        (images / f"{i}.png").unlink()  # was an IndexError on resume
    cfg = resolve("seed-mlp", overrides + ["train.steps=6"])
    with pytest.raises(GankitError, match=r"the data changed since it was saved \(folder:images:40:.* -> folder:images:30:"):
        Trainer(cfg, tmp_path / "run", resume=latest_checkpoint(tmp_path / "run"), progress=False)
    resumed = Trainer(cfg, tmp_path / "run", resume=latest_checkpoint(tmp_path / "run"), progress=False,
                      allow_data_change=True)
    assert resumed.fit().step == 6


def test_crafted_exports_and_export_targets_are_clear_errors(run_with_best, tmp_path, capsys):
    export = tmp_path / "export"
    shutil.copytree(run_with_best, export, ignore=shutil.ignore_patterns("checkpoints", "samples"))
    meta = json.loads((export / "generator.json").read_text())
    for change, words in (({"format": 99}, "has format 99; this gankit reads 1 to 2"),
                          ({"fields": ["image"]}, "does not match its config"),
                          ({"nets": 5}, "does not match its config")):
        (export / "generator.json").write_text(json.dumps({**meta, **change}))
        assert main(["sample", str(export), "--out", str(tmp_path / "x.png")]) == 2
        assert words in one_line(capsys.readouterr().err)
    for args, words in ((["--format", "onnx", "--out", str(tmp_path)], "must be a file name ending in .onnx"),
                        (["--format", "safetensors", "--out", str(run_with_best)], "the folder the export comes from"),
                        (["--format", "safetensors", "--out", str(run_with_best / "stats.jsonl")], "is a file")):
        before = snapshot(run_with_best)
        assert main(["export", str(run_with_best), *args]) == 2
        assert words in one_line(capsys.readouterr().err)
        assert snapshot(run_with_best) == before


# ---------------------------------------------------------------- bounded resources


def png_claiming(path, width: int, height: int) -> None:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb is read no further)."""
    import struct
    import zlib

    from PIL import Image

    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4:ihdr + 13])))
    path.write_bytes(bytes(data))


def test_image_bombs_and_strips_are_skipped_unread(tmp_path):
    import warnings

    from PIL import Image

    from gankit.config import DataConfig
    from gankit.data import load_data

    for i in range(3):
        Image.new("L", (20, 20), 40 * i).save(tmp_path / f"ok{i}.png")
    png_claiming(tmp_path / "bomb.png", 30000, 30000)      # Pillow's own bomb error: was a traceback
    png_claiming(tmp_path / "big.png", 12000, 12000)       # 144 MP: took 1.4 GB
    Image.new("L", (1, 100000), 255).save(tmp_path / "strip.png")  # resized before cropping: 64 x 6.4M pixels
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_data(DataConfig(name="folder", path=str(tmp_path), resolution=16, channels=1))
    assert len(data) == 4 and data.images.shape[1:] == (1, 16, 16)
    assert any("skipped 2 unreadable image file(s)" in str(w.message) and "pixels" in str(w.message) for w in caught)


def test_sizes_from_outside_are_checked_before_allocation(run_with_best, tmp_path, capsys, monkeypatch):
    import numpy as np

    import gankit.limits

    monkeypatch.setattr(gankit.limits, "memory_budget", lambda: 64 << 20)  # 64 MiB, whatever this machine has
    # a hand-edited export asking for huge networks: measured on the meta device, refused before allocating
    export = tmp_path / "export"
    shutil.copytree(run_with_best, export, ignore=shutil.ignore_patterns("checkpoints", "samples"))
    meta = json.loads((export / "generator.json").read_text())
    meta["config"]["mlp"]["g_hidden"] = [16384, 16384]
    (export / "generator.json").write_text(json.dumps(meta))
    assert main(["sample", str(export), "--out", str(tmp_path / "x.png")]) == 2
    assert "the networks of recipe 'gan' (" in one_line(capsys.readouterr().err)
    # an .npz whose header promises a billion images, and a real one read only as far as --n
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (10 ** 9, 28, 28, 1)})
    fake = tmp_path / "fake.npz"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("images.npy", header.getvalue() + bytes(2 * 784))
    assert main(["eval", str(fake), "--n", "1000000"]) == 2
    assert "truncated" in one_line(capsys.readouterr().err)
    many = tmp_path / "many.npz"
    np.savez_compressed(many, images=np.zeros((100_000, 28, 28, 1), np.uint8))  # 78 MB inflated, 80 kB on disk
    assert main(["eval", str(many), "--n", "100000"]) == 2
    assert "would need 0.1 GiB of memory, more than the 0.1 GiB" in one_line(capsys.readouterr().err)
    from gankit.limits import read_npz_rows

    assert read_npz_rows(many, "images", 10).shape == (10, 28, 28, 1)
    # sampling: more than memory refused for a grid, more than the disk refused for an .npz
    assert main(["sample", str(run_with_best), "--n", "100000", "--out", str(tmp_path / "g.png")]) == 2
    assert "too large to look at" in one_line(capsys.readouterr().err)
    assert main(["sample", str(run_with_best), "--n", str(10 ** 12), "--out", str(tmp_path / "s.npz")]) == 2
    assert "is free on the disk" in one_line(capsys.readouterr().err)
    assert main(["eval", str(run_with_best), "--n", "100000000"]) == 2
    assert "100000000 samples would need" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "s.npz").exists() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("field, value, words", [("format", "2", "has format 2; this gankit reads 1 to"),
                                                 ("format", 99, "has format 99"),
                                                 ("step", -3, "its step is -3, not a count"),
                                                 ("step", "7", "its step is 7, not a count"),
                                                 ("config", 5, "its config is not a JSON object"),
                                                 ("config", "{nope", "its config is not a JSON object"),
                                                 ("wall_s", "soon", "does not fit this model"),
                                                 ("best_score", "x", "does not fit this model"),
                                                 ("fixed", [1], "does not fit this model")])
def test_crafted_checkpoint_fields_are_clear_errors(run_with_best, tmp_path, capsys, field, value, words):
    import torch

    from gankit.checkpoint import list_checkpoints

    state = torch.load(list_checkpoints(run_with_best)[0], weights_only=True)
    state[field] = value
    torch.save(state, tmp_path / "crafted.pt")
    assert main(["train", "--resume", str(tmp_path / "crafted.pt"), "--out", str(tmp_path / "run"),
                 "--no-progress"]) == 2
    assert words in one_line(capsys.readouterr().err)
