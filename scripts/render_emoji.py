"""Render the colour emoji bundled with gankit: every single-code-point emoji of Noto Color Emoji, on white, 64x64.

usage: python scripts/render_emoji.py   (needs the Debian package fonts-noto-color-emoji; writes
       src/gankit/data/assets/emoji.npz.xz in about a minute)
The font (SIL Open Font License 1.1, Google) and attribution are described in EMOJI-NOTICE.txt beside the data.
Pictures made with a font are not bound by its licence (OFL 1.1, section "Permission & Conditions").
"""
import hashlib
import io
import lzma
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
SIZE = 109   # the one size of the font's colour bitmaps
SIDE = 64
# the emoji blocks of Unicode, without the skin-tone modifiers (1F3FB-1F3FF) and the regional-indicator letters
BLOCKS = [(0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x1F000, 0x1F2FF), (0x1F300, 0x1F3FA), (0x1F400, 0x1F64F),
          (0x1F680, 0x1F6FF), (0x1F7E0, 0x1F7FF), (0x1F900, 0x1F9FF), (0x1FA70, 0x1FAFF)]


def render(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray | None:
    """One emoji on white, its drawn box scaled to fit 64x64 and centred; None when the font lacks it."""
    canvas = Image.new("RGBA", (SIZE * 2, SIZE * 2), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text((SIZE // 2, SIZE // 2), char, font=font, embedded_color=True)
    box = canvas.getchannel("A").getbbox()
    if box is None:
        return None
    glyph = canvas.crop(box)
    scale = (SIDE - 4) / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))),
                         Image.Resampling.LANCZOS)
    out = Image.new("RGBA", (SIDE, SIDE), (255, 255, 255, 255))
    out.alpha_composite(glyph, ((SIDE - glyph.width) // 2, (SIDE - glyph.height) // 2))
    return np.asarray(out.convert("RGB"))


def main() -> None:
    font = ImageFont.truetype(FONT, SIZE)
    codes, images = [], []
    for low, high in BLOCKS:
        for code in range(low, high + 1):
            image = render(font, chr(code))
            if image is not None and (image < 250).any():
                codes.append(code)
                images.append(image)
    target = Path(__file__).resolve().parents[1] / "src" / "gankit" / "data" / "assets" / "emoji.npz.xz"
    archive = io.BytesIO()
    np.savez(archive, codes=np.array(codes, dtype=np.int32), images=np.stack(images))
    target.write_bytes(lzma.compress(archive.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    print(f"{len(codes)} emoji -> {target} ({target.stat().st_size:,} bytes, "
          f"sha256 {hashlib.sha256(target.read_bytes()).hexdigest()})")


if __name__ == "__main__":
    main()
