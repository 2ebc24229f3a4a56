"""Bundle the Tang quatrains into the package, in traditional characters and converted to simplified ones.

usage: python scripts/bundle_poems.py [--source ../shared/data/tang-quatrains.txt]

Writes src/gankit/data/assets/tang-quatrains.txt.xz (the source as it is) and tang-quatrains-simplified.txt.xz
(converted by OpenCC's t2s profile: `pip install opencc`, needed here only), and the notice with the source's
attribution and licence beside them.
"""
import argparse
import importlib.metadata
import lzma
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "src" / "gankit" / "data" / "assets"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data" / "tang-quatrains.txt")
    args = parser.parse_args()
    import opencc

    text = args.source.read_text(encoding="utf-8")
    simplified = opencc.OpenCC("t2s").convert(text)
    assert simplified.count("\n") == text.count("\n"), "the conversion must keep one poem a line"
    for name, body in (("tang-quatrains.txt.xz", text), ("tang-quatrains-simplified.txt.xz", simplified)):
        (ASSETS / name).write_bytes(lzma.compress(body.encode("utf-8"), preset=9))
        print(f"wrote {name}: {body.count(chr(10))} poems, {len(set(body))} distinct characters")
    notice = args.source.with_name("tang-quatrains.NOTICE.txt").read_text(encoding="utf-8")
    licence = args.source.with_name("tang-quatrains.LICENSE.txt").read_text(encoding="utf-8")
    (ASSETS / "TANG-QUATRAINS-NOTICE.txt").write_text(
        notice.rstrip() + "\n\ntang-quatrains-simplified.txt.xz is the same text converted to simplified characters "
        f"by OpenCC {importlib.metadata.version('opencc')} (profile t2s, Apache-2.0), "
        "character for character.\n\n" + "-" * 72 + "\n\n" + licence, encoding="utf-8")
    print("wrote TANG-QUATRAINS-NOTICE.txt")


if __name__ == "__main__":
    main()
