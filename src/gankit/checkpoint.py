"""Two artifacts per run: a full training state for exact resume, and a lean generator export.

training state  `checkpoints/step-NNNNNNNN.pt`, the last K kept: nets, optimizers, EMA, step, every RNG
                state, data order, fixed sample inputs, the resolved config and a format version. Plain
                tensors and containers only, loaded with torch.load(weights_only=True), which refuses to
                run pickled code.
generator export `generator.safetensors` + `generator.json`: the weights of the nets the recipe exports (keys
                prefixed with the net's name, `G.`), and what is needed to rebuild the pipeline: the recipe, the
                config, the data's fields and class names.
Files are written atomically (temporary file, fsync, rename) so a crash never leaves a half-written file.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
from filelock import FileLock, Timeout
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import GankitError, summary

FORMAT_VERSION = 2  # 2: EMA state per averaged net; configs with component sections (1 is migrated on load)
EXPORT_FORMAT = 2   # 2: weights prefixed by net name, `nets` and `fields` in the JSON (1: G only, `image_shape`)
CHECKPOINT_DIR = "checkpoints"
EXPORT_WEIGHTS = "generator.safetensors"
EXPORT_META = "generator.json"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temporary file beside `path`, fsync it, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's (and some writers') 0600 would set these files apart from the rest
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_state(path: Path, state: dict[str, Any]) -> None:
    state = {"format": FORMAT_VERSION, **state}
    try:
        atomic_write(path, lambda tmp: torch.save(state, tmp))
    except OSError as err:  # e.g. disk full: the temporary file is gone, earlier checkpoints are untouched
        raise GankitError(f"cannot save checkpoint {path}: {err.strerror or err}; earlier checkpoints are intact") from None


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / f"step-{step:08d}.pt"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """A run's checkpoints, newest first."""
    return sorted((Path(run_dir) / CHECKPOINT_DIR).glob("step-*.pt"), reverse=True)


def save_rotating(run_dir: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    """Write the checkpoint of `step`, then delete all but the newest `keep`."""
    path = checkpoint_path(run_dir, step)
    save_state(path, state)
    for old in list_checkpoints(run_dir)[max(keep, 1):]:
        old.unlink(missing_ok=True)
    return path


def latest_checkpoint(run_dir: Path, skipped: list[str] | None = None) -> Path | None:
    """The newest checkpoint of a run that loads; damaged newer ones are passed over (and named in `skipped`)."""
    for path in list_checkpoints(run_dir):
        try:
            load_state(path)
        except GankitError as err:
            if skipped is not None:
                skipped.append(f"{path.name} ({err})")
            continue
        return path
    return None


def load_state(path: Path) -> dict[str, Any]:
    """Load a training state safely; a missing, truncated or foreign file is a one-line GankitError."""
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # garbage makes the unpickler raise anything (IndexError, struct.error, ...)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GankitError(f"checkpoint {path} is corrupt or not a gankit checkpoint ({first[:200]})") from None
    if not isinstance(state, dict) or "format" not in state or "config" not in state:
        raise GankitError(f"checkpoint {path} is not a gankit training state")
    version = state["format"]
    if not is_count(version) or not 1 <= version <= FORMAT_VERSION:
        raise GankitError(f"checkpoint {path} has format {str(version)[:20]}; this gankit reads 1 to {FORMAT_VERSION}")
    if not is_count(state.get("step", 0)):
        raise GankitError(f"checkpoint {path} is damaged: its step is {str(state.get('step'))[:20]}, not a count")
    try:
        config = json.loads(state["config"])
    except (TypeError, ValueError):
        config = None
    if not isinstance(config, dict):
        raise GankitError(f"checkpoint {path} is damaged: its config is not a JSON object")
    if state["format"] < 2:  # format 1 kept one EMA, of the gan recipe's G (its config is migrated on reading)
        state["ema"] = {"G": state["ema"]} if "ema" in state else {}
    return state


def is_count(value: Any) -> bool:
    """A non-negative int (bool is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def save_generator(folder: Path, nets: dict[str, torch.nn.Module], meta: dict[str, Any], stem: str = "generator") -> Path:
    """Write STEM.safetensors (the nets' weights, keys `NAME.param`) and STEM.json (meta) into `folder`."""
    weights = {f"{name}.{k}": v.detach().cpu().contiguous() for name, net in nets.items()
               for k, v in net.state_dict().items()}
    atomic_write(folder / f"{stem}.safetensors", lambda tmp: save_file(weights, str(tmp)))
    atomic_write(folder / f"{stem}.json", lambda tmp: tmp.write_text(
        json.dumps({"format": EXPORT_FORMAT, "nets": list(nets), **meta}, indent=2)))
    return folder / f"{stem}.safetensors"


def find_export(path: Path) -> tuple[Path, Path]:
    """A run folder (its final export), or STEM.safetensors / STEM.json (that export: generator-best.json means
    the best generator) -> (weights, meta)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    weights, meta = folder / EXPORT_WEIGHTS, folder / EXPORT_META
    if path.is_file() and path.suffix in (".safetensors", ".json"):
        weights, meta = path.with_suffix(".safetensors"), path.with_suffix(".json")
    elif path.is_file():
        raise GankitError(f"{path} is not a generator export: give a run folder, a .safetensors or a .json export")
    if not weights.is_file() or not meta.is_file():
        raise GankitError(f"no generator export ({EXPORT_WEIGHTS} + {EXPORT_META}) at {path}")
    return weights, meta


def read_export(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    weights, meta = find_export(path)
    try:
        info = json.loads(meta.read_text())
        tensors = load_file(str(weights))
    except (json.JSONDecodeError, SafetensorError, OSError) as err:
        raise GankitError(f"generator export at {path} is corrupt ({summary(err)})") from None
    if not isinstance(info, dict):
        raise GankitError(f"generator export at {path} is corrupt (its JSON is not an object)")
    version = info.get("format", 1)
    if not is_count(version) or not 1 <= version <= EXPORT_FORMAT:
        raise GankitError(f"generator export at {path} has format {str(version)[:20]}; this gankit reads 1 to {EXPORT_FORMAT}")
    if info.get("format", 1) < 2:
        tensors, info = upgrade_export(tensors, info)
    return tensors, info


def upgrade_export(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> tuple[dict, dict]:
    """An export of format 1 (the gan recipe's G only, weights unprefixed, `image_shape` and `kind`) as format 2."""
    points = meta.get("kind") in ("point", "points")
    key = "points" if points else "image"
    shape = meta.get("image_shape", [])
    meta = {**meta, "format": EXPORT_FORMAT, "nets": ["G"], "fields": {key: {"kind": key, "shape": shape}}}
    return {f"G.{k}": v for k, v in tensors.items()}, meta


# ---------------------------------------------------------------- run folders

RUN_FILES = ("config.yaml", "stats.jsonl", "samples.png", "samples", "curves.png", "report.html", "metrics.json",
             "health.jsonl", "tensorboard", CHECKPOINT_DIR, EXPORT_WEIGHTS, EXPORT_META, "generator-best.safetensors",
             "generator-best.json", "generator.onnx")
LOCK, OWNER = ".gankit.lock", ".gankit.owner"


def run_files(run_dir: Path) -> list[Path]:
    """What a run wrote into a folder (other files are the user's and are never touched)."""
    return [Path(run_dir) / name for name in RUN_FILES if (Path(run_dir) / name).exists()]


def clear_run(run_dir: Path) -> None:
    """Remove what an earlier run wrote into `run_dir` (for an explicit overwrite)."""
    for path in run_files(run_dir):
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete the temporary files of writes that a killed process never finished (atomic_write's .NAME.*.tmp)."""
    stale = [p for folder in (Path(run_dir), Path(run_dir) / CHECKPOINT_DIR) if folder.is_dir()
             for p in folder.glob(".*.tmp")]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


class RunLock:
    """An OS advisory lock on a run folder, held while one process trains in it; the holder's PID is recorded."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.lock = FileLock(str(self.run_dir / LOCK), timeout=0)
        self.was_empty = False  # whether the folder was new or empty when acquired

    def acquire(self) -> "RunLock":
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.was_empty = not any(p.name != LOCK for p in self.run_dir.iterdir())
        try:
            self.lock.acquire()
        except Timeout:
            try:
                holder = (self.run_dir / OWNER).read_text().strip() or "unknown"
            except OSError:
                holder = "unknown"
            raise GankitError(f"run folder {self.run_dir} is in use by another gankit process (PID {holder}); "
                              "wait for it to finish, or choose another --out") from None
        (self.run_dir / OWNER).write_text(str(os.getpid()))
        return self

    def release(self) -> None:
        if self.lock.is_locked:
            (self.run_dir / OWNER).unlink(missing_ok=True)
            self.lock.release()

    def abandon(self) -> None:
        """Release, and remove the folder again when it was empty and nothing but the lock is in it (the lock
        file goes while still held, so no other process can have taken it meanwhile)."""
        if not self.lock.is_locked:
            return
        (self.run_dir / OWNER).unlink(missing_ok=True)
        remove = self.was_empty and {p.name for p in self.run_dir.iterdir()} <= {LOCK}
        if remove:
            (self.run_dir / LOCK).unlink(missing_ok=True)
        self.lock.release()
        if remove:
            try:
                self.run_dir.rmdir()
            except OSError:  # someone put something there meanwhile: leave it
                pass
