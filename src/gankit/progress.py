"""Progress bars: tqdm with one switch for every bar gankit draws (`gankit train --no-progress` turns it off)."""
from __future__ import annotations

import sys

from tqdm import tqdm

SHOWN = True
LOG_INTERVAL_S = 30  # a bar written to a file or pipe (nohup, CI) redraws this often, not ten times a second


def progress_bar(iterable=None, hide: bool = False, **kwargs) -> tqdm:
    """A tqdm bar, hidden when `hide` is true or when progress bars are switched off."""
    stream = kwargs.get("file") or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
        kwargs.setdefault("maxinterval", LOG_INTERVAL_S)  # tqdm's monitor would otherwise redraw every 10 s
    return tqdm(iterable, disable=hide or not SHOWN, **kwargs)
