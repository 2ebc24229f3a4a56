"""Render the glyph pairs bundled with gankit: the 3,755 characters of GB2312 level 1 in four redistributable fonts.

usage: python scripts/render_glyphs.py   (needs the Debian packages fonts-wqy-microhei fonts-arphic-ukai
       fonts-arphic-uming fonts-droid-fallback; writes src/gankit/data/assets/glyphs.npz.xz, about a minute)
The fonts' licences and attribution ship beside the data in GLYPHS-NOTICE.txt.
"""
import hashlib
import io
import lzma
from pathlib import Path

import numpy as np

from gankit.data.glyphs import BUNDLED_FONTS, common_characters, open_font, render_font

FONT_FILES = {"hei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "kai": "/usr/share/fonts/truetype/arphic/ukai.ttc",
              "ming": "/usr/share/fonts/truetype/arphic/uming.ttc",
              "droid": "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"}

chars = common_characters()
glyphs, present = zip(*(render_font(open_font(FONT_FILES[name]), chars) for name in BUNDLED_FONTS))
target = Path(__file__).resolve().parents[1] / "src" / "gankit" / "data" / "assets" / "glyphs.npz.xz"
archive = io.BytesIO()
np.savez(archive, chars=np.array(chars), fonts=np.array(BUNDLED_FONTS), glyphs=np.stack(glyphs),
         present=np.stack(present))
target.write_bytes(lzma.compress(archive.getvalue(), preset=9 | lzma.PRESET_EXTREME))
print(target, target.stat().st_size, "bytes, sha256", hashlib.sha256(target.read_bytes()).hexdigest())
print("glyphs present per font:", dict(zip(BUNDLED_FONTS, (int(p.sum()) for p in present))))
