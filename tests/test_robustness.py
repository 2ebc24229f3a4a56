"""Crash safety, safe loading and fuzzed input: nothing but a one-line GankitError for bad input."""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit.checkpoint import list_checkpoints, load_state, read_export
from gankit.config import parse_override, resolve
from gankit.data.mnist import read_idx
from gankit.errors import GankitError

from conftest import TINY

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("override", ["\n", "a\nb=1", "train.steps=\r", "\x85=1", "a\u2028b=1", "train.steps=\x0c"])
def test_line_breaks_in_overrides_stay_on_one_line(override):
    with pytest.raises(GankitError) as err:
        resolve("seed-mlp", [override])
    assert len(str(err.value).splitlines()) == 1  # every character str.splitlines() breaks at is escaped


@FUZZ
@given(st.lists(st.text(max_size=40), max_size=4))
def test_any_override_text_gives_a_config_or_a_gankit_error(overrides):
    try:
        resolve("seed-mlp", overrides)
    except GankitError as err:
        assert "\n" not in str(err)


@FUZZ
@given(key=st.sampled_from(["train.steps", "train.batch_size", "optim.G.lr", "gan.reuse_fakes", "mlp.g_hidden",
                            "data.name", "train.minutes"]),
       value=st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.text(max_size=10),
                       st.lists(st.integers(), max_size=3)))
def test_typed_keys_accept_or_refuse_cleanly(key, value):
    try:
        cfg = resolve("seed-mlp", [f"{key}={value}"])
    except GankitError:
        return
    default, got = resolve("seed-mlp").to_dict(), cfg.to_dict()
    for part in key.split("."):
        default, got = default[part], got[part]
    expected = parse_override(f"{key}={value}")[1]  # what the command line said, as YAML reads it
    if isinstance(default, (float, str)):
        expected = type(default)(expected)
    assert got == expected and type(got) is type(default)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_are_never_a_checkpoint(tmp_path, data):
    path = tmp_path / "x.pt"
    path.write_bytes(data)
    with pytest.raises(GankitError):
        load_state(path)


@FUZZ
@given(weights=st.binary(max_size=500), meta=st.text(max_size=200))
def test_random_exports_are_refused(tmp_path, weights, meta):
    (tmp_path / "generator.safetensors").write_bytes(weights)
    (tmp_path / "generator.json").write_text(meta)
    with pytest.raises(GankitError):
        read_export(tmp_path)


@FUZZ
@given(st.binary(max_size=300))
def test_random_idx_files_are_refused_or_parsed(tmp_path, data):
    path = tmp_path / "x.idx"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except GankitError:
        return
    assert array.dtype == np.uint8


def start_training(out):
    args = ["train", "seed-mlp", "--no-progress", "--out", str(out), "--resume", "auto", "--steps", "100000"]
    args += sum((["--set", s] for s in TINY + ["train.ckpt_every=3", "mlp.g_hidden=[16]", "mlp.d_hidden=[16]",
                                               "train.keep_checkpoints=2", "train.threads=1"]), [])
    return subprocess.Popen([sys.executable, "-m", "gankit", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until(condition, timeout: float = 120, poll: float = 0.05) -> None:
    """Poll until condition() holds (or the timeout passes): start-up time varies with the machine's load."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(poll)


def kill_and_resume(tmp_path, kills):
    out = tmp_path / "run"
    rng = random.Random(0)
    steps_seen = []
    for i in range(kills):
        before = list_checkpoints(out)[:1]
        proc = start_training(out)
        # wait until this process has trained and saved, then kill at a random moment
        wait_until(lambda: list_checkpoints(out)[:1] != before)
        time.sleep(rng.uniform(0.0, 1.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        checkpoints = list_checkpoints(out)
        assert checkpoints, f"kill {i}: no checkpoint yet ({proc.stderr.read().decode()[-500:]})"
        state = load_state(checkpoints[0])  # the newest always loads
        steps_seen.append(state["step"])
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0]  # each run resumed and went on


def test_sigkill_at_random_moments_never_breaks_the_newest_checkpoint(tmp_path):
    kill_and_resume(tmp_path, kills=4)


@pytest.mark.slow
def test_fifty_sigkills_in_a_row(tmp_path):
    kill_and_resume(tmp_path, kills=50)


def test_sigterm_finishes_the_step_and_saves(tmp_path):
    proc = start_training(tmp_path / "run")
    wait_until((tmp_path / "run" / "checkpoints").is_dir)  # training runs: the signal handlers are in place
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    newest = load_state(list_checkpoints(tmp_path / "run")[0])
    assert newest["step"] >= 1 and (tmp_path / "run" / "generator.safetensors").is_file()


def test_output_folder_not_writable(tmp_path, capsys):
    from gankit.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder cannot be made below a file, even by root
    assert main(["train", "seed-mlp", "--out", str(blocker / "run"), "--steps", "1"]) == 2
    assert "cannot write to output folder" in capsys.readouterr().err


def test_disk_full_while_saving_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import errno

    import torch

    from gankit.checkpoint import save_rotating

    first = save_rotating(tmp_path, 1, {"config": "{}", "step": 1}, keep=3)
    before = first.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(GankitError, match="No space left on device; earlier checkpoints are intact"):
        save_rotating(tmp_path, 2, {"config": "{}", "step": 2}, keep=3)
    assert first.read_bytes() == before and load_state(first)["step"] == 1
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == [first.name]  # no temporary files left
