"""Bounds on what outside input (files, configs, command-line numbers) can make gankit allocate.

Sizes that come from outside are checked against the memory or disk that can hold them before anything is
allocated, so a crafted file is a one-line error instead of a process the kernel kills.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import numpy as np

from .errors import GankitError, summary

GiB = 1 << 30


def memory_budget() -> int:
    """Bytes that one thing built from outside input may take: half of this machine's memory, or of the
    process's address-space limit (`ulimit -v`) when that is lower; 4 GiB where neither is known."""
    try:
        budget = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        budget = 4 * GiB
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            budget = min(budget, soft // 2)
    except (ImportError, ValueError, OSError):
        pass
    return budget


def check_memory(nbytes: int, what: str, advice: str = "") -> None:
    budget = memory_budget()
    if nbytes > budget:
        raise GankitError(f"{what} would need {nbytes / GiB:.1f} GiB of memory, more than the {budget / GiB:.1f} GiB "
                          f"gankit allows (half of this machine's or of the process's limit){'; ' + advice if advice else ''}")


def check_disk(folder: Path, nbytes: int, what: str) -> None:
    """Refuse to start writing `nbytes` into `folder` when its file system has less room than that."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:  # the nearest existing folder holds the new one
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if nbytes > free:
        raise GankitError(f"{what} would take {nbytes / GiB:.2f} GiB, but only {free / GiB:.2f} GiB is free "
                          f"on the disk of {folder}")


def read_npz_rows(path: Path, key: str, max_rows: int) -> np.ndarray:
    """The first `max_rows` rows of array `key` in an .npz file, reading only those rows.

    The .npy header is read first; the rows asked for are checked against the memory budget and against the
    bytes the archive really holds, so neither a zip bomb nor a header that promises a huge array gets far.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo(f"{key}.npy")
            except KeyError:
                raise GankitError(f"{path} has no '{key}' array (it holds {', '.join(archive.namelist())[:200]})") \
                    from None
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                shape, fortran, dtype = (np.lib.format.read_array_header_1_0(member) if version == (1, 0)
                                         else np.lib.format.read_array_header_2_0(member))
                if dtype.hasobject or fortran or not shape:
                    raise GankitError(f"{path}: '{key}' must be a plain C-ordered array, got {dtype} "
                                      f"{'Fortran-ordered ' if fortran else ''}{shape}")
                rows = min(shape[0], max_rows)
                row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=object))
                nbytes = rows * row_bytes
                if nbytes > info.file_size:  # the header promises more than the archive holds
                    raise GankitError(f"{path}: '{key}' is truncated (its header says {shape}, "
                                      f"the archive holds {info.file_size} bytes)")
                check_memory(nbytes, f"reading {rows} rows of '{key}' from {path}", "ask for fewer")
                data = member.read(nbytes)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, SyntaxError) as err:
        raise GankitError(f"{path} is not a readable .npz file ({summary(err, 200)})") from None
    if len(data) != nbytes:
        raise GankitError(f"{path}: '{key}' is truncated")
    return np.frombuffer(data, dtype=dtype).reshape((rows, *shape[1:])).copy()


def module_bytes(module) -> int:
    """Bytes held by a module's parameters and buffers (works on the meta device, where nothing is allocated)."""
    return sum(t.numel() * t.element_size() for t in (*module.parameters(), *module.buffers()))
