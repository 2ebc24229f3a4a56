"""The attack suite: bad input, hostile files and odd paths against the `gankit` command, as a hostile user would.

Every case runs `python -m gankit ...` in a fresh process under a memory cap (`ulimit -v`, 3 GiB by default)
and a 60 s limit, and must end as intended: a one-line error with exit code 2 (no traceback); or success with
the right result; or, where data could be lost, the files it must not touch byte-identical afterwards.

    python benchmarks/attacks.py                 # every case; table on screen and in benchmarks/results/attacks.md
    python benchmarks/attacks.py --only values   # the cases of one class (or of one case name)

The slow test suite runs it too (tests/test_attacks.py).
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http.server
import json
import os
import platform
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

LIMIT_S = 60
MEMORY_CAP = 3 << 30
TINY = ["data.limit=256", "train.batch_size=32", "train.log_every=2", "train.sample_every=1000",
        "train.ckpt_every=1000", "train.n_samples=16", "eval.every=0", "eval.n_final=0",
        "mlp.g_hidden=[16]", "mlp.d_hidden=[16]"]


def sets(*overrides: str) -> list[str]:
    return [arg for o in overrides for arg in ("--set", o)]


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Case:
    """One attack. expect: "error" (exit 2, one line naming `words`), "ok" (exit 0, then `check`), or "stopped"
    (the run is interrupted; `check` says what must hold). `intact`: paths (relative to the work folder) whose
    bytes must not change. `check(work, outcome)` returns a problem, or "" when all is well."""

    group: str
    name: str
    args: list[str] | Callable[[Path], list[str]]
    expect: str = "error"
    words: str = ""
    setup: Callable[[Path], None] | None = None
    intact: tuple[str, ...] = ()
    check: Callable[[Path, Outcome], str] | None = None
    run: Callable[[list[str], Path], Outcome] | None = None  # a different way to run the command


# ---------------------------------------------------------------- fixtures shared by the cases


def gankit(args: list[str], cwd: Path, limit_s: float = LIMIT_S, background: bool = False):
    """`python -m gankit ARGS` under the memory cap."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    env = {**os.environ, "GANKIT_CACHE": str(cwd.parent / "cache"), "GANKIT_DOWNLOAD_DEADLINE_S": "5"}
    command = [sys.executable, "-m", "gankit", *args]
    if background:
        return subprocess.Popen(command, cwd=cwd, env=env, preexec_fn=cap, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    start = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=cwd, env=env, preexec_fn=cap, capture_output=True, text=True,
                              timeout=limit_s, errors="replace")
        return Outcome(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)
    except subprocess.TimeoutExpired as err:
        return Outcome(None, str(err.stdout or ""), str(err.stderr or ""), time.monotonic() - start)


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in (".gankit.lock", ".gankit.owner")}


def png_claiming(path: Path, width: int, height: int) -> None:
    """A tiny PNG whose header claims width x height pixels."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


def image_folder(path: Path, n: int, size: int = 12) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("L", (size, size), (i * 37) % 256).save(path / f"{i:04d}.png")
    return path


def folder_run_args(images: str, out: str, *extra: str) -> list[str]:
    return ["train", "seed-mlp", "--out", out, "--no-progress",
            *sets(*TINY, "data.name=folder", f"data.path={images}", "data.resolution=8", "data.channels=1",
                  "train.steps=2", *extra)]


def write_streamed_npz(path: Path, rows: int, row_shape: tuple[int, ...]) -> None:
    """An .npz of zeros that inflates to rows x row_shape bytes, written without holding it in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        with archive.open("images.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "|u1", "fortran_order": False,
                                                          "shape": (rows, *row_shape)})
            block = bytes(1 << 22)
            left = rows * int(np.prod(row_shape))
            while left:
                member.write(block[:min(left, len(block))])
                left -= min(left, len(block))


class Mirror:
    """A local HTTP server: /big/NAME serves more bytes than NAME has, /drip/NAME one byte every 0.2 s."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                try:
                    if self.path.startswith("/drip/"):
                        for _ in range(10_000):
                            self.wfile.write(b"\x1f")
                            self.wfile.flush()
                            time.sleep(0.2)
                    else:
                        for _ in range(200):  # 12.8 MB, more than any MNIST file, with no Content-Length
                            self.wfile.write(bytes(1 << 16))
                except OSError:
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"


# ---------------------------------------------------------------- special ways to run a case


def two_at_once(args: list[str], cwd: Path) -> Outcome:
    """Start a long run, then the same command again while the first holds the folder."""
    first = gankit(args, cwd, background=True)
    try:
        owner = cwd / "run2" / ".gankit.owner"
        deadline = time.monotonic() + 30
        while not owner.exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.1)
        second = gankit(args, cwd)
        return Outcome(second.code, f"holder {first.pid}", second.stderr, second.seconds)
    finally:
        first.send_signal(signal.SIGINT)
        try:
            first.wait(30)
        except subprocess.TimeoutExpired:
            first.kill()


def interrupted(args: list[str], cwd: Path) -> Outcome:
    """Ctrl-C after the first stats tick: the step finishes, a checkpoint is saved, the final evaluation is skipped."""
    start = time.monotonic()
    proc = gankit(args, cwd, background=True)
    stats = cwd / "sigint" / "stats.jsonl"
    while time.monotonic() - start < 40 and proc.poll() is None and not (stats.exists() and stats.read_text().strip()):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return Outcome(None, out, err, time.monotonic() - start)
    return Outcome(proc.returncode, out, err, time.monotonic() - start)


# ---------------------------------------------------------------- checks


def stdout_has(*words: str):
    def check(work: Path, outcome: Outcome) -> str:
        missing = [w for w in words if w not in outcome.stdout]
        return f"stdout lacks {missing}" if missing else ""
    return check


def strict_json(work: Path, outcome: Outcome) -> str:
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    try:
        json.loads(outcome.stdout, parse_constant=refuse)
    except ValueError as err:
        return f"not strict JSON: {err}"
    return ""


def best_is_not_final(work: Path, outcome: Outcome) -> str:
    final = gankit(["sample", "run/generator.json", "--n", "16", "--out", "final.npz"], work)
    if final.code != 0:
        return f"sampling the final generator failed: {final.stderr.strip()}"
    with np.load(work / "best.npz") as best, np.load(work / "final.npz") as last:
        return "generator-best.json drew the final generator's samples" if np.array_equal(best["images"],
                                                                                          last["images"]) else ""


def usual_modes(work: Path, outcome: Outcome) -> str:
    umask = os.umask(0)
    os.umask(umask)
    odd = [str(p.relative_to(work)) for p in (work / "modes").rglob("*")
           if p.is_file() and p.stat().st_mode & 0o777 != 0o666 & ~umask]
    return f"files with unusual modes: {odd}" if odd else ""


def names_the_holder(work: Path, outcome: Outcome) -> str:
    pid = outcome.stdout.split()[-1]
    return "" if f"(PID {pid})" in outcome.stderr else f"the error does not name the holder, PID {pid}"


def no_stale_temporaries(work: Path, outcome: Outcome) -> str:
    left = list((work / "stale").rglob("*.tmp"))
    return f"temporary files left: {left}" if left else ""


def no_progress_bar(work: Path, outcome: Outcome) -> str:
    return "a progress bar was drawn" if "reading" in outcome.stderr or "img/s" in outcome.stderr else ""


def no_final_eval(work: Path, outcome: Outcome) -> str:
    if (work / "sigint" / "metrics.json").exists():
        return "the final evaluation ran after Ctrl-C"
    if "Resume with" not in outcome.stdout:
        return "no resume hint"
    return ""


def skipped_images(count: int):
    def check(work: Path, outcome: Outcome) -> str:
        return "" if f"skipped {count} unreadable image file(s)" in outcome.stderr else \
            f"no warning about {count} skipped files: {outcome.stderr.strip()[-300:]}"
    return check


# ---------------------------------------------------------------- the cases


def cases(mirror: Mirror) -> list[Case]:
    idx = ["--no-progress", *sets("data.name=mnist-idx", "data.path=downloads", "train.steps=1")]
    # nine levels of nine references each: 9^9 (387 million) strings once expanded, in 447 bytes of YAML
    laughs = "description:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
    value_cases = [("optim.G.lr=nan", "must be a finite number"), ("optim.D.lr=-1", "optim.D.lr"),
                   ("optim.G.beta1=2", "optim.G.beta1"), ("gan.z_dim=-1", "gan.z_dim"),
                   ("mlp.g_hidden=[0]", "mlp.g_hidden"), ("gan.pack=0", "gan.pack"),
                   ("train.batch_size=1", "train.batch_size"), ("train.batch_size=0", "train.batch_size"),
                   ("data.resolution=-4", "data.resolution"), ("data.resolution=100000", "data.resolution"),
                   ("train.threads=-1", "train.threads"), ("eval.n_final=1", "eval.n_final")]
    return [
        # ---- crash at the end of training
        Case("end of training", "toy-ring trains and prints its table",
             ["train", "toy-ring", "--steps", "20", "--out", "ring", "--no-progress"], "ok",
             check=stdout_has("modes", "card:")),
        Case("end of training", "toy-grid trains and prints its table",
             ["train", "toy-grid", "--steps", "20", "--out", "grid", "--no-progress"], "ok",
             check=stdout_has("modes", "card:")),
        Case("end of training", "stacked-mnist trains and prints its table",
             ["train", "stacked-mnist", "--steps", "4", "--out", "stacked", "--no-progress",
              *sets("data.limit=256", "dcgan.g_width=8", "dcgan.d_width=8", "eval.n_final=300",
                    "train.batch_size=32")], "ok", check=stdout_has("modes", "card:")),
        # ---- silent data loss
        Case("data loss", "a new run into a finished run's folder",
             ["train", "seed-mlp", "--out", "run", "--steps", "2", "--no-progress"],
             words="already holds a run", intact=("run",)),
        Case("data loss", "two runs into one folder at once",
             ["train", "seed-mlp", "--out", "run2", "--no-progress", "--resume", "auto", "--steps", "100000",
              *sets(*TINY)], words="is in use by another gankit process (PID", run=two_at_once, check=names_the_holder),
        Case("data loss", "resume after images were removed",
             lambda work: ["train", "--resume", "folder-run", "--steps", "4", "--no-progress"],
             words="the data changed since it was saved", intact=("folder-run",),
             setup=lambda work: [p.rename(work / p.name) for p in sorted((work / "images").glob("*.png"))[:5]]),
        Case("data loss", "resume after images were added",
             ["train", "--resume", "folder-run", "--steps", "4", "--no-progress"],
             words="the data changed since it was saved", intact=("folder-run",),
             setup=lambda work: [p.rename(work / "images" / p.name) for p in work.glob("*.png")]
             + [Image.new("L", (12, 12), 7).save(work / "images" / f"extra{i}.png") for i in range(3)]),
        # ---- wrong results without a word
        Case("wrong results", "sample generator-best.json draws the best generator",
             ["sample", "run/generator-best.json", "--n", "16", "--out", "best.npz"], "ok", check=best_is_not_final),
        Case("wrong results", "eval of a run folder without an export",
             ["eval", "no-export"], words="is a run folder without a generator export",
             setup=lambda work: shutil.copytree(work / "run", work / "no-export", ignore=shutil.ignore_patterns(
                 "generator*"))),
        Case("wrong results", "eval --json of 6 images is strict JSON or refused",
             ["eval", "six.npz", "--json"], words="at least",
             setup=lambda work: np.savez(work / "six.npz", images=np.zeros((6, 28, 28, 1), np.uint8))),
        # ---- unbounded resources
        Case("resources", "a billion-laughs YAML preset", ["train", "laughs.yaml", "--dry-run"],
             words="expands to 490,329,066 values through its aliases", setup=lambda work: (work / "laughs.yaml").write_text(laughs)),
        Case("resources", "a 30000x30000 PNG bomb in an image folder", folder_run_args("bomb", "bomb-run"), "ok",
             setup=lambda work: png_claiming(image_folder(work / "bomb", 40) / "bomb.png", 30000, 30000),
             check=skipped_images(1)),
        Case("resources", "a real 12000x12000 PNG in an image folder", folder_run_args("huge", "huge-run"), "ok",
             setup=lambda work: Image.new("L", (12000, 12000)).save(image_folder(work / "huge", 40) / "huge.png"),
             check=skipped_images(1)),
        Case("resources", "an .npz that inflates to 3.9 GB", ["eval", "bomb.npz", "--n", "5000000"],
             words="of memory, more than", setup=lambda work: write_streamed_npz(work / "bomb.npz", 5_000_000,
                                                                                 (28, 28, 1))),
        Case("resources", "the same .npz, reading only the 200 images asked for",
             ["eval", "bomb.npz", "--n", "200", "--json"], "ok", check=strict_json),
        Case("resources", "generator.json asking for 16384-wide layers",
             ["sample", "huge-export", "--out", "x.png"], words="the networks of recipe 'gan'",
             setup=lambda work: edit_export(work, "huge-export",
                                            lambda m: m["config"]["mlp"].update(g_hidden=[16384] * 8))),
        Case("resources", "sample --n 100000000 as a grid", ["sample", "run", "--n", "100000000", "--out", "g.png"],
             words="too large to look at"),
        Case("resources", "sample --n 10^11 into an .npz", ["sample", "run", "--n", str(10 ** 11), "--out", "s.npz"],
             words="is free on the disk"),
        Case("resources", "eval --n 100000000 of a generator", ["eval", "run", "--n", "100000000"],
             words="samples would need"),
        Case("resources", "a mirror that sends more than the file's size",
             ["train", "seed-mlp", "--out", "dl", *idx, *sets(f"data.mirror={mirror.url}big/")],
             words="sent more than the file's 9912422 bytes"),
        Case("resources", "a mirror that drips bytes forever",
             ["train", "seed-mlp", "--out", "dl", *idx, *sets(f"data.mirror={mirror.url}drip/")],
             words="not finished after 5 s"),
        # ---- values never range-checked (refused before any training, nothing written)
        *[Case("values", f"--set {o}", ["train", "seed-mlp", "--out", f"v{i}", *sets(o)], words=w,
               check=lambda work, outcome, i=i: f"v{i} was created" if (work / f"v{i}").exists() else "")
          for i, (o, w) in enumerate(value_cases)],
        *[Case("values", f"--minutes {m}", ["train", "--minutes", m, "--out", "m"],
               words="--minutes must be a positive number") for m in ("0", "-5", "nan")],
        Case("values", "a preset file that is not UTF-8", ["train", "latin1.yaml", "--dry-run"],
             words="is not UTF-8 text", setup=lambda work: (work / "latin1.yaml").write_bytes(b"description: caf\xe9\n")),
        # ---- crafted files and odd paths
        *[Case("crafted files", f"checkpoint with {k} = {v!r}",
               ["train", "--resume", f"crafted-{k}.pt", "--out", f"crafted-{k}", "--no-progress"], words=w,
               setup=lambda work, k=k, v=v: edit_checkpoint(work, f"crafted-{k}.pt", k, v))
          for k, v, w in (("format", "x", "has format x"), ("config", 5, "its config is not a JSON object"),
                          ("step", -3, "its step is -3"), ("fixed", {}, "does not fit this model"))],
        Case("crafted files", "generator.json with fields of the wrong type",
             ["sample", "typed-export", "--out", "x.png"], words="does not match its config",
             setup=lambda work: edit_export(work, "typed-export", lambda m: m.update(fields=["image"]))),
        Case("crafted files", "generator.json with format 99", ["sample", "format-export", "--out", "x.png"],
             words="has format 99", setup=lambda work: edit_export(work, "format-export", lambda m: m.update(format=99))),
        Case("crafted files", "generator.json naming no nets", ["sample", "nets-export", "--out", "x.png"],
             words="does not match its config", setup=lambda work: edit_export(work, "nets-export",
                                                                               lambda m: m.update(nets=[]))),
        Case("crafted files", "sample --out a folder", ["sample", "run", "--out", "run"], words="is a folder",
             intact=("run",)),
        Case("crafted files", "export --out a folder for ONNX", ["export", "run", "--format", "onnx", "--out", "run"],
             words="must be a file name ending in .onnx", intact=("run",)),
        Case("crafted files", "export --out the source itself",
             ["export", "run", "--format", "safetensors", "--out", "run"], words="the folder the export comes from",
             intact=("run",)),
        # ---- smaller issues
        Case("smaller", "Ctrl-C skips the final evaluation",
             ["train", "seed-mlp", "--out", "sigint", "--no-progress", "--steps", "100000",
              *sets(*TINY, "eval.n_final=10000")], "ok", check=no_final_eval, run=interrupted),
        Case("smaller", "temporary files of a killed save are removed",
             ["train", "--resume", "stale", "--steps", "3", "--no-progress"], "ok", check=no_stale_temporaries,
             setup=lambda work: (shutil.copytree(work / "run", work / "stale"),
                                 (work / "stale" / "checkpoints" / ".step-00000009.pt.x1.tmp").write_bytes(
                                     bytes(24 << 20)))),
        Case("smaller", "an error keeps its reason (not cut mid-sentence)",
             ["sample", "mismatch-export", "--out", "x.png"], words="size mismatch",
             setup=lambda work: edit_export(work, "mismatch-export",
                                            lambda m: m["config"]["mlp"].update(g_hidden=[32]))),
        Case("smaller", "atomically written files get the usual mode",
             ["train", "seed-mlp", "--out", "modes", "--no-progress", *sets(*TINY, "train.steps=2")], "ok",
             check=usual_modes),
        Case("smaller", "--no-progress hides the folder-reading bar",
             folder_run_args("many", "many-run"), "ok", check=no_progress_bar,
             setup=lambda work: image_folder(work / "many", 600, 8)),
    ]


def edit_export(work: Path, name: str, change: Callable[[dict], None]) -> None:
    folder = work / name
    folder.mkdir()
    for file in ("generator.safetensors", "generator.json"):
        shutil.copy(work / "run" / file, folder / file)
    meta = json.loads((folder / "generator.json").read_text())
    change(meta)
    (folder / "generator.json").write_text(json.dumps(meta))


def edit_checkpoint(work: Path, name: str, key: str, value) -> None:
    import torch

    newest = sorted((work / "run" / "checkpoints").glob("step-*.pt"))[-1]
    state = torch.load(newest, weights_only=True)
    state[key] = value
    torch.save(state, work / name)


# ---------------------------------------------------------------- running


def judge(case: Case, outcome: Outcome, work: Path, before: dict[str, dict[str, str]]) -> str:
    """'' when the case ended as intended, else what went wrong."""
    if outcome.code is None:
        return f"still running after {LIMIT_S} s"
    if "Traceback" in outcome.stderr:
        return "traceback: " + outcome.stderr.strip().splitlines()[-1][:200]
    lines = [line for line in outcome.stderr.splitlines() if line.strip() and not line.startswith("gankit: warning:")]
    if case.expect == "error":
        if outcome.code != 2:
            return f"exit {outcome.code}, expected 2: {outcome.stderr.strip()[-200:]}"
        if len(lines) != 1:
            return f"{len(lines)} lines of error, expected 1"
        if case.words not in lines[0]:
            return f"the error does not say '{case.words}': {lines[0][:200]}"
    elif outcome.code != 0:
        return f"exit {outcome.code}, expected 0: {outcome.stderr.strip()[-300:]}"
    for path, files in before.items():
        if snapshot(work / path) != files:
            return f"{path} changed"
    return case.check(work, outcome) if case.check else ""


def prepare(work: Path) -> None:
    """What many cases need: a finished run (with a best generator that differs from the final one) and a run
    on an image folder."""
    done = gankit(["train", "seed-mlp", "--out", "run", "--no-progress",
                   *sets(*TINY, "train.steps=6", "eval.every=2", "eval.n_cheap=50", "optim.G.lr=0.05",
                         "train.ckpt_every=3")], work, limit_s=300)
    image_folder(work / "images", 40)
    folder = gankit(folder_run_args("images", "folder-run"), work, limit_s=300)
    for outcome in (done, folder):
        if outcome.code != 0:
            raise SystemExit(f"preparing the attack suite failed: {outcome.stderr[-2000:]}")


def run_suite(only: str = "", root: Path | None = None) -> list[tuple[Case, str, float]]:
    mirror = Mirror()
    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gankit-attacks-")))
        work = root / "work"
        work.mkdir(parents=True, exist_ok=True)
        prepare(work)
        results = []
        for case in cases(mirror):
            if only and only not in (case.group, case.name):
                continue
            if case.setup:
                case.setup(work)
            args = case.args(work) if callable(case.args) else case.args
            before = {path: snapshot(work / path) for path in case.intact}
            outcome = (case.run or gankit)(args, work)
            problem = judge(case, outcome, work, before)
            results.append((case, problem, outcome.seconds))
            print(f"{'ok  ' if not problem else 'FAIL'} {outcome.seconds:5.1f}s  {case.group}: {case.name}"
                  f"{'  -- ' + problem if problem else ''}", flush=True)
        mirror.server.shutdown()
    return results


def table(results: list[tuple[Case, str, float]]) -> str:
    rows = ["| class | attack | expected | result | seconds |", "|---|---|---|---|---:|"]
    for case, problem, seconds in results:
        expected = {"error": f"exit 2, one line: “{case.words}”", "ok": "exit 0, right result"}[case.expect]
        if case.intact:
            expected += f"; {', '.join(case.intact)} byte-identical"
        rows.append(f"| {case.group} | {case.name} | {expected} | {'as intended' if not problem else problem} "
                    f"| {seconds:.1f} |")
    passed = sum(not problem for _, problem, _ in results)
    return "\n".join(rows) + f"\n\n{passed} of {len(results)} attacks ended as intended."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only the cases of this class, or the case of this name")
    parser.add_argument("--out", default="benchmarks/results/attacks.md", help="where the table goes")
    args = parser.parse_args()
    start = time.monotonic()
    results = run_suite(args.only)
    text = (f"# Attack suite\n\n`python benchmarks/attacks.py` on {platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}; every case a fresh `python -m gankit` process under a "
            f"{MEMORY_CAP >> 30} GiB address-space cap and a {LIMIT_S} s limit; {time.monotonic() - start:.0f} s "
            f"in all.\n\n{table(results)}\n")
    print("\n" + text)
    if not args.only:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0 if all(not problem for _, problem, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
