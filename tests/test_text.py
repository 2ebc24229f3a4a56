"""Text GANs: vocabulary, data, the LSTM and its sampling, the textgan recipe's phases and resume, metrics, and
`gankit sample` writing text."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit.checkpoint import latest_checkpoint
from gankit.config import DataConfig, resolve
from gankit.data import load_data
from gankit.data.text import EOS, ORACLE, PAD, Vocabulary, oracle_chunk, oracle_sequences
from gankit.errors import GankitError
from gankit.metrics import text
from gankit.nets.text import LSTMGenerator, LSTMOptions, categorical, oracle, token_mask
from gankit.recipes import build_recipe
from gankit.recipes.textgan import relativistic
from gankit.trainer import Trainer

TINY_TEXT = ["data.limit=256", "train.batch_size=16", "train.log_every=2", "train.sample_every=1000",
             "train.ckpt_every=1000", "train.n_samples=4", "eval.every=0", "eval.n_final=0",
             "lstm.embed=8", "lstm.hidden=16", "cnn.embed=8", "cnn.filters=0.05"]


def test_vocabulary_round_trips_and_names_what_it_lacks():
    vocab = Vocabulary(["<pad>", "<eos>", "床", "前", "明", "月", "，"])
    ids = vocab.encode("床前明月，")
    assert ids == [2, 3, 4, 5, 6] and vocab.decode(ids + [EOS, 4, 4]) == "床前明月，"
    assert vocab.decode([2, PAD, 3]) == "床"  # padding ends a sequence too
    with pytest.raises(GankitError, match=r"2 character\(s\) outside the model's vocabulary of 7: 光疑"):
        vocab.encode("床前光疑", "--prefix")
    numbers = Vocabulary([str(i) for i in range(20)], eos=None)
    assert numbers.decode([0, 12, 3]) == "0 12 3"  # no end token: 0 is a token like any other


def test_poems_are_split_by_poem_end_with_eos_and_come_in_both_scripts():
    train, test = (load_data(DataConfig(name="tang-poems", split=s)) for s in ("train", "test"))
    assert len(train) + len(test) == 14093 and len(test) == 1409  # distinct poems (the file repeats 386)
    assert train.info["vocab"] == test.info["vocab"] and train.fields["tokens"].shape == (33,)
    vocab = Vocabulary.of(train.info)
    poems_train = {vocab.decode(r) for r in train.arrays["tokens"]}
    poems_test = [vocab.decode(r) for r in test.arrays["tokens"]]
    assert not poems_train & set(poems_test)
    assert text.well_formed(poems_test) == 1.0  # every bundled poem is a quatrain
    row = train.arrays["tokens"][0]
    length = len(vocab.decode(row))
    assert row[length] == EOS and (row[length + 1:] == PAD).all()
    simplified = load_data(DataConfig(name="tang-poems", script="simplified", limit=5))
    first = Vocabulary.of(simplified.info).decode(simplified.arrays["tokens"][0])
    assert first.startswith("四时运灰琯") and vocab.decode(train.arrays["tokens"][0]).startswith("四時運灰琯")


def test_the_shipped_oracle_sequences_are_the_oracles():
    shipped = oracle_sequences()
    assert shipped["train"].shape == (10000, 20) and shipped["test"].shape == (5000, 20)
    assert torch.equal(oracle_chunk(0), shipped["train"][:ORACLE["chunk"]])
    # its own samples are likely under it; uniform random tokens are not (SeqGAN reports 10.31 for random)
    assert 5 < text.oracle_nll(shipped["test"][:1000]) < 7
    assert text.oracle_nll(torch.randint(0, 5000, (1000, 20), generator=torch.Generator().manual_seed(0))) > 10
    assert all(not p.requires_grad for p in oracle().parameters())


def test_categorical_draws_follow_the_softmax_and_the_uniforms():
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.7]])).expand(40000, 3)
    u = torch.rand(40000, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(categorical(logits, u), minlength=3) / 40000
    assert torch.allclose(counts, torch.tensor([0.1, 0.2, 0.7]), atol=0.01)
    edges = torch.tensor([0.0, 0.099, 0.101, 0.299, 0.301, 0.999999])
    assert categorical(logits[:6], edges).tolist() == [0, 0, 1, 1, 2, 2]  # the inverse CDF, exactly


def test_lstm_likelihood_masks_and_sampling_ends():
    torch.manual_seed(0)
    G = LSTMGenerator(LSTMOptions(embed=4, hidden=8), vocab=6)
    tokens = torch.tensor([[3, 4, EOS, 5, 2], [2, 2, 2, 2, 2]])
    mask = token_mask(tokens, EOS)
    assert mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    nll, count = G.nll(tokens, EOS)
    expected = F.cross_entropy(G(tokens)[0, :3], tokens[0, :3], reduction="sum")
    assert count.tolist() == [3, 5] and torch.allclose(nll[0], expected)
    prefix = torch.tensor([[4, 3]]).expand(50, 2)
    out = G.sample(torch.rand(50, 5, generator=torch.Generator().manual_seed(1)), prefix=prefix, eos=EOS)
    assert (out[:, :2] == prefix).all()
    for row in out:  # after an end token, only padding
        ends = (row == EOS).nonzero()
        if len(ends):
            assert (row[ends[0, 0] + 1:] == PAD).all()
    u = torch.rand(8, 5, generator=torch.Generator().manual_seed(2))
    assert torch.equal(G.sample(u), G.sample(u))  # the uniforms decide everything


def test_relativistic_loss_and_the_temperature_schedule():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0])
    assert math.isclose(relativistic(real, fake).item(), (math.log1p(math.exp(-2)) + math.log1p(math.e)) / 2,
                        rel_tol=1e-6)
    data = load_data(DataConfig(name="oracle", limit=64))
    recipe = build_recipe(resolve("oracle-gumbel", TINY_TEXT + ["textgan.pretrain_steps=100", "train.steps=300",
                                                                "textgan.beta_max=1000"]), data)
    assert recipe.beta(0) == recipe.beta(100) == 1.0
    assert math.isclose(recipe.beta(200), 1000 ** 0.5) and math.isclose(recipe.beta(300), 1000.0)
    assert [p.name for p in recipe.schedule(99)] == ["mle"] and [p.name for p in recipe.schedule(100)] == ["D", "gumbel"]
    seqgan = build_recipe(resolve("oracle-seqgan", TINY_TEXT + ["textgan.pretrain_steps=10",
                                                                "textgan.d_pretrain_steps=5", "textgan.d_steps=2"]), data)
    assert [p.name for p in seqgan.schedule(12)] == ["D"] and [p.name for p in seqgan.schedule(15)] == ["pg", "D", "D"]
    assert [p.name for p in build_recipe(resolve("oracle-mle", TINY_TEXT), data).schedule(10 ** 6)] == ["mle"]


def run(folder, preset, steps, resume=None, extra=()):
    cfg = resolve(preset, TINY_TEXT + [f"train.steps={steps}", "train.ckpt_every=3", *extra])
    trainer = Trainer(cfg, folder, resume=resume, progress=False)
    trainer.fit()
    return trainer


@pytest.mark.parametrize("preset", ["oracle-seqgan", "oracle-gumbel"])
def test_text_gans_train_and_resume_exactly_with_their_rollout_net(preset, tmp_path):
    extra = ["textgan.pretrain_steps=2", "textgan.d_pretrain_steps=1", "textgan.rollouts=2"]
    whole = run(tmp_path / "whole", preset, 6, extra=extra)
    run(tmp_path / "split", preset, 3, extra=extra)
    resumed = run(tmp_path / "split", preset, 6, resume=latest_checkpoint(tmp_path / "split"), extra=extra)
    a, b = whole.recipe.nets.state_dict(), resumed.recipe.nets.state_dict()
    assert (preset == "oracle-seqgan") == any(k.startswith("rollout.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    records = [json.loads(line) for line in (tmp_path / "whole" / "stats.jsonl").read_text().splitlines()]
    assert {"loss/D", "loss/pg" if preset == "oracle-seqgan" else "loss/gumbel"} <= set(records[-1])
    assert all(np.isfinite(v) for r in records for v in r.values() if isinstance(v, float))


def test_bleu_self_bleu_and_form_against_closed_forms():
    a, b = list("床前明月光"), list("疑是地上霜")
    assert text.bleu([a], [a]) == pytest.approx(1.0)
    assert text.bleu([a], [b]) < 0.1
    assert text.self_bleu([a, a, a]) == pytest.approx(1.0) and text.self_bleu([a, b]) < 0.1
    assert text.characters("床前，明月。") == list("床前明月")
    assert text.well_formed(["床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。", "床前明月光，疑是地上霜。",
                             "床前明月光疑，是地上霜。舉頭望明月，低頭思故鄉。"]) == pytest.approx(1 / 3)


def test_a_poem_run_writes_text_samples_and_refuses_bad_prefixes(tmp_path, capsys):
    from gankit.cli import main

    run_dir = tmp_path / "poems"
    cfg = resolve("tang-mle", TINY_TEXT + ["train.steps=3", "eval.n_final=20"])
    Trainer(cfg, run_dir, progress=False).fit()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"bleu2", "self_bleu2", "well_formed", "nll_test"} <= set(metrics) and metrics["card"]["n_samples"] == 20
    assert len((run_dir / "samples.txt").read_text(encoding="utf-8").splitlines()) == 4
    out = tmp_path / "poems.txt"
    assert main(["sample", str(run_dir), "--n", "5", "--out", str(out), "--prefix", "床前", "--temperature", "0.7"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(line.startswith("床前") for line in lines)
    capsys.readouterr()
    assert main(["sample", str(run_dir), "--n", "2", "--out", str(out)]) == 2  # never replaced silently
    assert "already exists" in capsys.readouterr().err and len(out.read_text(encoding="utf-8").splitlines()) == 5
    assert main(["sample", str(run_dir), "--n", "2", "--out", str(out), "--overwrite"]) == 0
    capsys.readouterr()
    for argv, message in ((["--prefix", "床前abc"], "3 character(s) outside the model's vocabulary"),
                          (["--prefix", "床" * 33], "the model writes 32 at most"),
                          (["--temperature", "0"], "--temperature must be between 0.01 and 100"),
                          (["--label", "3"], "--label is for class-conditional image models")):
        assert main(["sample", str(run_dir), "--n", "2", "--out", str(tmp_path / "x.txt"), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
    assert main(["sample", str(run_dir), "--n", "2", "--out", str(tmp_path / "x.png")]) == 2
    assert "give a .txt file" in capsys.readouterr().err
    assert main(["eval", str(run_dir), "--n", "10", "--json"]) == 0  # by the run's own protocol, not image metrics
    result = json.loads(capsys.readouterr().out)
    assert {"bleu2", "self_bleu2", "well_formed", "nll_test"} <= set(result) and result["card"]["n_samples"] == 10
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "poem_page.py"
    page = tmp_path / "poems.md"
    done = subprocess.run([sys.executable, str(script), str(run_dir), "--out", str(page), "--temperature", "0.8"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    assert len(rows) == 21 and "real, held out" in rows[0] and rows[1].count("|") == 4


def test_names_are_census_first_names_split_with_a_shared_alphabet():
    train, test = (load_data(DataConfig(name="names", split=s)) for s in ("train", "test"))
    vocab = Vocabulary.of(train.info)
    assert len(train) + len(test) == 5163 and len(test) == 516 and len(vocab) == 28  # <pad>, <eos>, a-z
    train_names = {vocab.decode(row) for row in train.arrays["tokens"]}
    test_names = {vocab.decode(row) for row in test.arrays["tokens"]}
    assert not train_names & test_names and {"james", "mary"} <= train_names | test_names
    assert (train.arrays["tokens"] == EOS).sum(1).eq(1).all()  # every name ends once, then padding


def test_names_without_the_package_say_how_to_install_it(monkeypatch):
    from gankit.data import text as text_data

    real_files = text_data.resources.files

    def files(package):
        if package == "names":
            raise ModuleNotFoundError("No module named 'names'")
        return real_files(package)

    text_data.census_names.cache_clear()
    with monkeypatch.context() as patch:
        patch.setattr(text_data.resources, "files", files)
        with pytest.raises(GankitError, match=r"pip install 'gankit\[names\]'"):
            load_data(DataConfig(name="names"))
    text_data.census_names.cache_clear()
    assert len(text_data.census_names()) == 5163  # with the package back


def test_name_scores_count_real_held_out_novel_and_distinct():
    scores = text.name_scores(["anna", "anna", "zed", "xqzt"], train={"anna", "bob"}, test={"zed"})
    assert scores == {"real": 0.75, "new_real": 0.25, "novel": 0.5, "distinct": 0.75}


def test_adversarial_steps_use_their_own_optimizer(tmp_path):
    """Pretraining moves G at optim.G's rate, the adversarial steps at optim.G_adv's (RelGAN: 1e-2 vs 1e-4)."""
    def g_after(steps, extra):
        trainer = run(tmp_path / f"r{steps}-{len(extra)}", "oracle-gumbel", steps,
                      extra=["textgan.pretrain_steps=2", "optim.G_adv.lr=0", *extra])
        return torch.cat([p.flatten() for p in trainer.recipe.nets["G"].parameters()])

    pretrained = g_after(2, [])
    assert torch.equal(g_after(4, []), pretrained)  # G_adv at rate 0: the adversarial steps leave G alone
    assert not torch.equal(g_after(2, ["optim.G.lr=0.5"]), pretrained)  # while optim.G drives pretraining


def test_seqgan_rewards_read_d_without_dropout():
    data = load_data(DataConfig(name="oracle", limit=64))
    recipe = build_recipe(resolve("oracle-seqgan", TINY_TEXT + ["textgan.rollouts=2", "cnn.dropout=0.9"]), data)
    samples = data.arrays["tokens"][:4]

    def rewards(seed):
        from gankit.recipes.base import StepContext
        return recipe.rewards(samples, StepContext(torch.Generator().manual_seed(seed), torch.device("cpu")))

    assert torch.equal(rewards(0)[:, -1], rewards(1)[:, -1])  # the last reward is D's on the sample itself
    assert recipe.nets["D"].training  # and D trains with dropout again afterwards


def test_the_curve_script_draws_mle_temperatures_and_gan_points(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    rows = [{"preset": name, "seed": seed, "real": 0.5 + 0.1 * i, "distinct": 0.9 - 0.1 * i}
            for i, name in enumerate(["names-mle at T=0.7", "names-mle", "names-seqgan"]) for seed in (0, 1)]
    results = tmp_path / "quality-names.json"
    results.write_text(json.dumps({"suite": "names", "runs": rows}))
    script = Path(__file__).resolve().parents[1] / "scripts" / "text_curve.py"
    done = subprocess.run([sys.executable, str(script), str(results), "--out", str(tmp_path / "c.png")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from PIL import Image
    assert Image.open(tmp_path / "c.png").size[0] > 300


def test_held_out_likelihood_follows_the_sampling_temperature():
    torch.manual_seed(0)
    G = LSTMGenerator(LSTMOptions(embed=4, hidden=8), vocab=7)
    tokens = torch.randint(2, 7, (3, 5))
    logits = G(tokens)
    for t in (0.5, 1.0, 2.0):
        expected = -F.log_softmax(logits / t, -1).gather(2, tokens.unsqueeze(2)).squeeze(2).sum(1)
        nll, count = G.nll(tokens, None, temperature=t)
        assert torch.allclose(nll, expected, atol=1e-5) and torch.equal(count, torch.full((3,), 5.0))


def test_the_real_poems_reference_row_scores_held_out_poems_as_samples():
    from gankit.bench.quality import real_poems_row

    row = real_poems_row(n=3, n_self=4)
    assert row["well_formed"] == 1.0 and 0.2 < row["bleu2"] < 1 and 0 < row["self_bleu2"] < 1
    assert row["card"]["references"] == 1408 and row["steps"] == 0
