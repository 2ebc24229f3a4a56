import subprocess
import sys

import numpy as np
import pytest
import yaml

from gankit.cli import main

from conftest import TINY


def gankit(*args):
    """Run the real console entry point in a subprocess: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "gankit", *args], capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def one_line_error(stderr: str, text: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gankit: error: ") and text in lines[0], stderr


def test_wrong_preset_is_one_line_and_exit_2():
    code, out, err = gankit("train", "mnist-gan", "--dry-run")
    assert code == 2
    one_line_error(err, "unknown preset 'mnist-gan'; valid: ")


def test_bad_set_key_is_one_line_and_exit_2():
    code, _, err = gankit("train", "--set", "train.batchsize=3", "--dry-run")
    assert code == 2
    one_line_error(err, "unknown config key 'train.batchsize'")


def test_corrupt_checkpoint_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "checkpoints" / "step-00000100.pt"
    bad.parent.mkdir()
    bad.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    code, _, err = gankit("train", "--resume", str(bad))
    assert code == 2
    one_line_error(err, "is corrupt or not a gankit checkpoint")
    code, _, err = gankit("train", "--resume", str(tmp_path))
    assert code == 2
    one_line_error(err, "no checkpoint in")


def test_dry_run_prints_the_resolved_config(capsys):
    assert main(["train", "seed-mlp", "--steps", "7", "--set", "train.batch_size=16", "--dry-run"]) == 0
    cfg = yaml.safe_load(capsys.readouterr().out)
    assert cfg["preset"] == "seed-mlp" and cfg["train"]["steps"] == 7 and cfg["train"]["batch_size"] == 16


def test_train_sample_and_resume_through_the_cli(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "seed-mlp", "--out", str(run), "--no-progress", *sum((["--set", s] for s in TINY), [])]
    assert main(args + ["--steps", "4"]) == 0
    assert "samples" in capsys.readouterr().out
    assert main(["train", "--resume", str(run), "--steps", "6", "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["steps"] == 6
    assert main(["sample", str(run), "--n", "12", "--out", str(tmp_path / "s.npz"), "--seed", "1"]) == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (12, 28, 28, 1)
    assert main(["sample", str(tmp_path / "nowhere"), "--n", "2", "--out", str(tmp_path / "s.png")]) == 2
    assert "no generator export" in capsys.readouterr().err


def test_list_names_every_component(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("seed-mlp", "mnist-dcgan", "mlp", "dcgan", "minimax", "non-saturating", "mnist", "folder",
                 "fashion-mnist", "gan"):
        assert name in out
    # preset descriptions start in one column, however long the names
    presets = out.split("\nnetworks")[0].splitlines()
    starts = {line.index("Stacked MNIST") for line in presets if line.startswith("  stacked-mnist")}
    assert len(starts) == 1


def test_doctor_trains_and_gives_a_verdict(tmp_path, capsys):
    assert main(["doctor", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "torch" in out and "VERDICT: OK" in out
    assert (tmp_path / "samples.png").is_file()


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["sample", "--help"]])
def test_help_teaches(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    assert "gankit" in capsys.readouterr().out


def test_bench_quality_writes_tables(tmp_path, capsys):
    args = ["bench", "quality", "--suite", "toy", "--presets", "toy-ring", "--seeds", "2", "--out", str(tmp_path / "out"),
            "--runs", str(tmp_path / "runs"), "--set", "train.steps=6", "--set", "data.limit=1000",
            "--set", "eval.every=0", "--set", "train.log_every=3"]
    assert main(args) == 0
    table = (tmp_path / "out" / "quality-toy.md").read_text()
    assert "| toy-ring | 2 | 6 |" in table and "PacGAN4" in table and "±" in table
    import json

    runs = json.loads((tmp_path / "out" / "quality-toy.json").read_text())["runs"]
    assert len(runs) == 2 and all("modes" in r and "card" in r for r in runs)


def test_bench_quality_measures_the_baselines_alone_with_zero_seeds(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["bench", "quality", "--suite", "unpaired", "--seeds", "0", "--out", str(out)]) == 2
    assert "--seeds must be at least 1 (or 0 with --baselines" in capsys.readouterr().err and not out.exists()
    assert main(["bench", "quality", "--suite", "unpaired", "--seeds", "0", "--baselines", "--out", str(out),
                 "--runs", str(tmp_path / "runs")]) == 0
    table = (out / "quality-unpaired.md").read_text()
    assert "| identity: each digit kept as it is (no training) | 1 | 0 | 0 | 0.7343 | 0.9666 |" in table
    assert "cyclegan-digits |" not in table and not (tmp_path / "runs").exists()


def test_bench_speed_writes_a_table_with_the_ratio_and_the_bound(tmp_path, capsys):
    args = ["bench", "speed", "--preset", "seed-mlp", "--steps", "2", "--rounds", "1", "--repeats", "2", "--sample-n", "300",
            "--out", str(tmp_path), "--set", "data.limit=512", "--set", "mlp.g_hidden=[32]", "--set", "mlp.d_hidden=[32]"]
    assert main(args) == 0
    table = (tmp_path / "speed-cpu.md").read_text()
    assert "| seed-mlp | 128 |" in table and "x** |" in table and "matmul bound: fp32" in table
    import json

    row = json.loads((tmp_path / "speed-cpu.json").read_text())["rows"][0]
    assert row["reference_steps_per_s"] > 0 and row["gankit_steps_per_s"] > 0 and row["reference_gflop_per_step"] > 0
    # each repeat is a process of its own; the reported ratio is the median of theirs
    assert len(row["processes"]) == 2 and row["ratio"] == pytest.approx(sum(row["process_ratios"]) / 2)
    assert "in 2 fresh process(es)" in table
    # the plain loop runs G forward twice per step (fresh fakes for the G step); gankit reuses the D step's fakes
    assert row["gankit_gflop_per_step"] < row["reference_gflop_per_step"]


def test_cuda_without_a_gpu_is_a_clear_error(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["bench", "speed", "--device", "cuda", "--preset", "seed-mlp", "--steps", "1", "--rounds", "1"]) == 2
    assert "no CUDA device is usable" in capsys.readouterr().err


def test_bench_speed_times_the_conditional_default_and_refuses_other_recipes(tmp_path, capsys):
    base = ["bench", "speed", "--steps", "2", "--rounds", "1", "--repeats", "1", "--sample-n", "100",
            "--out", str(tmp_path), "--set", "data.limit=256"]
    assert main(base + ["--preset", "mnist-cgan", "--set", "dcgan.g_width=8", "--set", "dcgan.d_width=8"]) == 0
    assert "| mnist-cgan | 64 |" in (tmp_path / "speed-cpu.md").read_text()
    capsys.readouterr()
    assert main(base + ["--preset", "mnist-inpaint"]) == 2
    assert "plain loop is a gan-recipe loop" in capsys.readouterr().err


def test_a_progress_bar_written_to_a_log_file_redraws_rarely(monkeypatch):
    """Under nohup or CI a bar goes to a file, where each redraw appends: a second of work gives its first and last
    state, not ten redraws."""
    import io
    import time

    from gankit import progress

    monkeypatch.setattr(progress, "SHOWN", True)  # an earlier --no-progress in this process may have hidden bars
    log = io.StringIO()
    with progress.progress_bar(total=200, file=log, desc="work") as bar:
        for _ in range(200):
            time.sleep(0.005)
            bar.update(1)
    assert log.getvalue().count("\r") <= 3 and "200/200" in log.getvalue()


def test_the_program_exits_without_a_last_garbage_sweep_and_loses_no_output():
    from importlib.metadata import entry_points

    assert [e.value for e in entry_points(group="console_scripts") if e.name == "gankit"] == ["gankit.cli:entry"]
    plain = subprocess.run([sys.executable, "-c", "import sys; from gankit.cli import main; sys.exit(main(['list']))"],
                           capture_output=True, text=True, timeout=300)
    code, out, _ = gankit("list")  # piped: every buffered line must still reach the pipe
    assert code == plain.returncode == 0 and out == plain.stdout and len(out.splitlines()) > 50


@pytest.mark.parametrize("command", [["train", "seed-mlp", "--dry-run"], ["sample", "nothing-here"], ["eval", "nothing-here"]])
@pytest.mark.parametrize("seed, message", [("-1", "between 0 and 4294967295, got '-1'"),
                                           ("99999999999999999999999", "between 0 and 4294967295"),
                                           ("x", "a seed is a whole number, got 'x'")])
def test_a_seed_outside_what_generators_take_is_refused_in_the_arguments(command, seed, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--seed", seed])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


GC_PROBE = """
import gc, sys
full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "stop" and info["generation"] == 2 else None)
if sys.argv[1] == "off":
    gc.disable()
if sys.argv[1] == "custom":
    gc.set_threshold(500, 5, 3)
before = gc.get_threshold()
import gankit
print(len(full), gc.isenabled(), gc.get_threshold() == before, gc.get_freeze_count() == 0)
if sys.argv[1] == "program":  # what the command finds frozen when it starts
    import gankit.cli
    gankit.cli.main = lambda: print(gc.get_freeze_count() > 100_000, file=sys.stderr) or 0
    try:
        gankit.cli.entry()
    except SystemExit as stop:
        assert stop.code == 0
if sys.argv[1] == "block":  # the trainer's build: no sweeps inside, what it made frozen after
    import gankit.cli
    frozen = gc.get_freeze_count()
    with gankit.cli.without_sweeps():
        inside = gc.isenabled()
        made = [[] for _ in range(1000)]
    print(inside, gc.isenabled(), gc.get_freeze_count() >= frozen + 1000, file=sys.stderr)
"""


@pytest.mark.parametrize("state", ["on", "custom", "off", "program", "block"])
def test_importing_gankit_puts_off_full_sweeps_and_leaves_the_collector_as_it_was(state):
    """No full sweep of the collector while gankit and torch are imported; the collector left on or off and
    with the thresholds it had, nothing frozen by the import; the program's command starts with what the imports
    made frozen, and the trainer's build runs without sweeps, its objects frozen after."""
    proc = subprocess.run([sys.executable, "-c", GC_PROBE, state], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"0 {state != 'off'} True True"
    if state == "program":
        assert proc.stderr.strip() == "True"
    if state == "block":
        assert proc.stderr.strip() == "False True True"
