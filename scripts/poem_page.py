"""The page of poems in docs/: 20 generated quatrains from a run beside 20 real held-out ones.

usage: python scripts/poem_page.py RUN [RUN ...] --out docs/tang-poems.md [--temperature T [T ...]]

Each run writes 20 poems (seed 0, at its `--temperature`, one for all runs or one per run, or the run's own); the real poems are the first 20 of the
held-out split, which no run trained on. Each generated poem is marked when it is well formed (four lines of 5
or 7 characters) and when it copies a training poem.
"""
import argparse
from pathlib import Path

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.data.text import Vocabulary
from gankit.metrics.text import well_formed
from gankit.sampling import load_generator

N = 20


def poems_of(run: Path, temperature: float | None) -> list[str]:
    pipeline = load_generator(run)
    vocab = Vocabulary.of(pipeline.meta)
    options = {"temperature": temperature} if temperature else {}
    return [vocab.decode(row) for batch in pipeline.batches(N, 0, inputs="noise", **options)
            for row in batch["tokens"]]


def split_texts(split: str, script: str) -> list[str]:
    data = load_data(DataConfig(name="tang-poems", split=split, script=script))
    vocab = Vocabulary.of(data.info)
    return [vocab.decode(row) for row in data.arrays["tokens"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--temperature", type=float, nargs="+", default=[])
    args = parser.parse_args()
    if len(args.temperature) not in (0, 1, len(args.runs)):
        parser.error("give one --temperature for all runs, or one per run")
    temperatures = args.temperature * len(args.runs) if len(args.temperature) == 1 else \
        args.temperature or [None] * len(args.runs)
    script = load_generator(args.runs[0]).config.data.script
    training = set(split_texts("train", script))
    columns = {run.name + (f" at T={t:g}" if t else ""): poems_of(run, t) for run, t in zip(args.runs, temperatures)}
    columns["real, held out"] = split_texts("test", script)[:N]
    lines = ["| # | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for i in range(N):
        cells = []
        for name, poems in columns.items():
            poem = poems[i]
            mark = "" if name.startswith("real") or well_formed([poem]) else " ✗"
            mark += " (copied)" if not name.startswith("real") and poem in training else ""
            cells.append(poem.replace("|", "｜") + mark)
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    header = ("# Tang quatrains: generated beside real\n\n"
              "Generated with `python scripts/poem_page.py` (seed 0; a column's temperature is in its name, else the "
              "run's own); ✗ = not a well-formed "
              "quatrain, (copied) = a training poem reproduced whole.\n\n")
    args.out.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()
