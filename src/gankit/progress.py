"""Progress bars: tqdm with one switch for every bar gankit draws (`gankit train --no-progress` turns it off)."""
from __future__ import annotations

from tqdm import tqdm

SHOWN = True


def progress_bar(iterable=None, hide: bool = False, **kwargs) -> tqdm:
    """A tqdm bar, hidden when `hide` is true or when progress bars are switched off."""
    return tqdm(iterable, disable=hide or not SHOWN, **kwargs)
