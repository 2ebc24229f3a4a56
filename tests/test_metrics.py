import json

import numpy as np
import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics import scores
from gankit.metrics.evaluate import evaluate_images, reference_features
from gankit.metrics.features import get_extractor

RNG = np.random.default_rng(0)


def gaussian(n, mean, cov, seed=0):
    return np.random.default_rng(seed).multivariate_normal(mean, cov, size=n)


def test_fid_of_a_set_with_itself_is_zero():
    x = RNG.normal(size=(500, 16))
    assert scores.fid(x, x) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_closed_form_diagonal():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()  # = 5 + 1 + 1 + 0
    assert scores.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(7.0)


def test_frechet_distance_matches_the_eigenvalues_of_the_product_for_non_commuting_covariances():
    A = np.array([[2.0, 0.8], [0.8, 1.0]])
    B = np.array([[1.0, -0.3], [-0.3, 0.5]])
    mu1, mu2 = np.array([0.5, -1.0]), np.array([0.0, 0.0])
    trace_sqrt = np.sqrt(np.linalg.eigvals(A @ B).real).sum()  # eigenvalues of AB are real and >= 0
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(A) + np.trace(B) - 2 * trace_sqrt
    assert scores.frechet_distance(mu1, A, mu2, B) == pytest.approx(expected, abs=1e-9)


def test_fid_on_gaussian_samples_approaches_the_closed_form_and_is_symmetric():
    cov = np.diag([1.0, 2.0, 0.5])
    x = gaussian(40000, [0, 0, 0], cov, seed=1)
    y = gaussian(40000, [1, 0, 0], 4 * cov, seed=2)
    expected = 1.0 + np.trace(cov) + np.trace(4 * cov) - 2 * np.trace(2 * cov)  # sqrt(C * 4C) = 2C
    assert scores.fid(x, y) == pytest.approx(expected, abs=0.1)
    assert scores.fid(x, y) == pytest.approx(scores.fid(y, x), abs=1e-9)


def test_kid_is_about_zero_for_one_distribution_and_positive_for_two():
    x, y = RNG.normal(size=(2000, 8)), RNG.normal(size=(2000, 8))
    mean, std = scores.kid(x, y, subsets=20, subset_size=500)
    assert abs(mean) < 3 * std / np.sqrt(20) + 1e-3
    shifted, _ = scores.kid(x, y + 1.0, subsets=20, subset_size=500)
    assert shifted > 0.1


def test_precision_recall_identical_and_disjoint_sets():
    x = RNG.normal(size=(600, 4))
    assert scores.precision_recall(x, x) == (1.0, 1.0)
    density, coverage = scores.density_coverage(x, x)
    assert coverage == 1.0 and density >= 1.0
    far = x + 100.0
    assert scores.precision_recall(x, far) == (0.0, 0.0)
    assert scores.density_coverage(x, far) == (0.0, 0.0)


def test_precision_stays_high_and_recall_drops_for_a_collapsed_generator():
    real = RNG.normal(size=(1000, 4))
    collapsed = real[:50].repeat(20, axis=0) + 1e-3 * RNG.normal(size=(1000, 4))
    precision, recall = scores.precision_recall(real, collapsed)
    assert precision > 0.95 and recall < 0.3


@pytest.mark.parametrize("width", [6, 128])
def test_manifold_scores_do_not_depend_on_the_chunk_size(monkeypatch, width):
    real, fake = RNG.normal(size=(2100, width)), RNG.normal(size=(2050, width)) * 1.2
    monkeypatch.setattr(scores, "CHUNK", 2048)
    a = scores.manifold_scores(real, fake)
    for chunk in (256, 33):
        monkeypatch.setattr(scores, "CHUNK", chunk)
        assert scores.manifold_scores(real, fake) == a


def test_distances_are_cdist_s_bit_for_bit_in_every_chunk(monkeypatch):
    a, b = RNG.normal(size=(70, 9)) * 3 + 1, RNG.normal(size=(90, 9))
    monkeypatch.setattr(scores, "CHUNK", 32)  # chunks of 32, 32 and 6 rows, all through one buffer
    chunks = [(start, d.clone()) for start, d in scores._distance_chunks(a, b)]
    assert [start for start, _ in chunks] == [0, 32, 64]
    a32, b32 = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    for start, d in chunks:  # (the matrix product's rounding may depend on how many rows it has, as cdist's does)
        assert torch.equal(d, torch.cdist(a32[start:start + 32], b32))


def test_manifold_scores_match_their_definitions_computed_directly():
    real, fake = RNG.normal(size=(300, 5)), RNG.normal(size=(280, 5)) * 1.3 + 0.2
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_rf = np.linalg.norm(real[:, None] - fake[None], axis=-1)  # [real, fake]
    r3, r5 = np.sort(d_rr, 1)[:, 3], np.sort(d_rr, 1)[:, 5]  # column 0: the point itself
    f3 = np.sort(d_ff, 1)[:, 3]
    expected = {"precision": (d_rf <= r3[:, None]).any(0).mean(), "recall": (d_rf <= f3[None]).any(1).mean(),
                "density": (d_rf <= r5[:, None]).sum() / (5 * len(fake)),
                "coverage": (d_rf.min(1) <= r5).mean()}
    got = scores.manifold_scores(real, fake, k_pr=3, k_dc=5)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_kid_is_the_unbiased_mmd_of_the_cubic_kernel_over_the_same_subsets():
    a, b = RNG.normal(size=(400, 16)) + 1.0, RNG.normal(size=(300, 16)) * 1.1 + 1.0
    m, d, rng = 100, 16, np.random.default_rng(5)
    values = []
    for _ in range(7):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        k = lambda u, v: (u @ v.T / d + 1) ** 3  # noqa: E731 - float64 numpy throughout
        off = lambda kk: (kk.sum() - np.trace(kk)) / (m * (m - 1))  # noqa: E731
        values.append(off(k(x, x)) + off(k(y, y)) - 2 * k(x, y).mean())
    mean, std = scores.kid(a, b, subsets=7, subset_size=m, seed=5)
    assert mean == pytest.approx(np.mean(values), rel=1e-5) and std == pytest.approx(np.std(values), rel=1e-5)


def test_extractors_read_with_folded_batch_norms_and_pool_before_relu_as_the_trained_networks_do():
    from gankit.data.mnist import bundled_mnist
    from gankit.data.base import to_float
    from gankit.nets.classifiers import BUNDLED, bundled_classifier

    x = to_float(torch.from_numpy(bundled_mnist()["x_test"][:300]).unsqueeze(1))
    for name, (_, _, _, side) in BUNDLED.items():  # every bundled network, with and without batch norms
        images = torch.nn.functional.interpolate(x, size=(side, side), mode="bilinear") if side != 28 else x
        extractor, (trained, _) = get_extractor(name), bundled_classifier(name)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in extractor.net.modules())
        with torch.no_grad():
            want_features, want_logits = trained(images)
            got_features, got_logits = extractor.net(images.contiguous(memory_format=torch.channels_last))
        scale = want_features.abs().max().item()
        assert torch.allclose(got_features, want_features, atol=1e-5 * scale, rtol=0), name
        assert torch.equal(got_logits.argmax(1), want_logits.argmax(1)), name
    net = bundled_classifier("mnist")[0]
    conv1, conv2 = net.body[0], net.body[3]
    pool = torch.nn.functional.max_pool2d
    with torch.no_grad():  # the order the network was trained in: convolution, ReLU, pooling
        h = pool(conv2(pool(conv1(x).relu(), 2)).relu(), 2)
        assert torch.equal(net.body[:6](x), h)


def test_classifier_score_bounds():
    confident = np.eye(10)[np.arange(1000) % 10] * 50.0  # every class, each predicted with certainty
    assert scores.classifier_score(confident)[0] == pytest.approx(10.0, rel=1e-6)
    one_class = np.eye(10)[np.zeros(1000, dtype=int)] * 50.0
    assert scores.classifier_score(one_class)[0] == pytest.approx(1.0, abs=1e-6)


def test_class_histogram_and_label_accuracy():
    logits = np.eye(10)[np.arange(100) % 10]
    histogram = scores.class_histogram(logits, 10)
    assert histogram["classes_covered"] == 10 and histogram["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert scores.class_histogram(np.eye(10)[[3] * 10], 10)["kl_to_uniform"] == pytest.approx(np.log(10))
    accuracy = scores.label_accuracy(logits, np.arange(100) % 10)
    assert accuracy["accuracy"] == 1.0 and accuracy["per_label"][7] == 1.0


def test_bundled_classifier_is_accurate_on_real_digits_and_batch_size_free():
    from gankit.data.mnist import bundled_mnist

    arrays = bundled_mnist()
    images = torch.from_numpy(arrays["x_test"]).unsqueeze(1)
    extractor = get_extractor("mnist")
    a, b = extractor(images[:500], batch_size=500), extractor(images[:500], batch_size=37)
    assert np.allclose(a["features"], b["features"], atol=1e-4)
    predictions = extractor(images)["logits"].argmax(1)
    assert (predictions == arrays["y_test"]).mean() >= 0.99  # the whole test split, as recorded: 99.25%


def test_real_data_scores_well_and_the_card_is_complete():
    from gankit.data.mnist import bundled_mnist

    images = torch.from_numpy(bundled_mnist()["x_train"][:2000]).unsqueeze(1)
    result = evaluate_images(images, ref="mnist-test", seed=3, source="test")
    assert result["fid"] < 20 and result["precision"] > 0.7 and result["classes_covered"] == 10  # 2,000 reals: FID ~10
    assert result["is"] > 9.0
    card = result["card"]
    for key in ("extractor", "extractor_sha256", "reference", "reference_size", "n_samples", "seed",
                "k_precision_recall", "k_density_coverage", "kid_subsets", "is_splits", "gankit"):
        assert key in card
    assert card["n_samples"] == 2000 and card["reference_size"] == 10000 and card["seed"] == 3
    assert len(card["extractor_sha256"]) == 64


def test_reference_features_are_cached_by_checksum(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    extractor = get_extractor("mnist")
    stale = tmp_path / "refs" / f"mnist-test-mnist-{extractor.checksum[:16]}.npz"  # an earlier version's file
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"features read by older arithmetic")
    first = reference_features("mnist-test", extractor)
    cached = list((tmp_path / "refs").glob("mnist-test-mnist-*.npz"))
    assert len(cached) == 1 and extractor.checksum[:16] in cached[0].name and cached[0].name.endswith("-v2.npz")
    assert not stale.exists()  # replaced, not left behind
    assert np.array_equal(reference_features("mnist-test", extractor)["features"], first["features"])


def test_kid_s_reference_sums_are_cached_beside_the_features_and_change_no_figure(tmp_path, monkeypatch):
    from gankit.metrics import evaluate

    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(evaluate, "MAX_KID_SUMS", 2)
    extractor = get_extractor("mnist")
    images = evaluate.reference_images("mnist-train")[:300]
    first = evaluate_images(images, seed=4)
    real = reference_features("mnist-test", extractor)
    key = "kid_sums_100x1000_seed4_n300"
    assert key in real and real[key].shape == (100,)
    direct = scores.kid(real["features"], extractor(images)["features"], 100, 1000, seed=4)  # computed whole
    assert (first["kid"], first["kid_std"]) == direct
    path = evaluate.reference_cache("mnist-test", extractor, evaluate.FEATURES_VERSION)
    evaluate.store_reference(path, {**real, key: np.zeros(3)})  # a damaged entry is computed again
    again = evaluate_images(images, seed=4)
    assert again["kid"] == first["kid"] and again["kid_b"] == first["kid_b"]
    assert reference_features("mnist-test", extractor)[key].shape == (100,)
    for seed in (5, 6):  # at most MAX_KID_SUMS sets stay, the newest
        evaluate_images(images[:100], seed=seed, fid_only=False)
    kept = [k for k in reference_features("mnist-test", extractor) if k.startswith("kid_sums_")]
    assert kept == ["kid_sums_100x1000_seed5_n100", "kid_sums_100x1000_seed6_n100"]


def test_missing_inception_weights_say_where_to_put_them(tmp_path, monkeypatch):
    from gankit.metrics.features import EXTRACTORS

    monkeypatch.setenv("GANKIT_INCEPTION", str(tmp_path / "missing.pt"))
    with pytest.raises(GankitError, match="needs inception-2015-12-05.pt: download https://.* to .*missing.pt"):
        EXTRACTORS.get("inception")()


def test_unknown_reference_and_too_few_images():
    with pytest.raises(GankitError, match="unknown reference 'cifar'"):
        evaluate_images(torch.zeros(12, 1, 28, 28, dtype=torch.uint8), ref="cifar")
    with pytest.raises(GankitError, match="at least 2 images"):
        evaluate_images(torch.zeros(1, 1, 28, 28, dtype=torch.uint8), fid_only=True)
    with pytest.raises(GankitError, match="at least 10 images to evaluate, got 9"):  # was NaN (invalid JSON)
        evaluate_images(torch.zeros(9, 1, 28, 28, dtype=torch.uint8))


def test_eval_cli_repeats_exactly_and_reads_npz(tmp_path, capsys):
    from gankit.cli import main

    images = np.random.default_rng(0).integers(0, 256, (300, 28, 28, 1), dtype=np.uint8)
    np.savez(tmp_path / "x.npz", images=images)
    outputs = []
    for _ in range(2):
        assert main(["eval", str(tmp_path / "x.npz"), "--json", "--seed", "5"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and outputs[0]["card"]["n_samples"] == 300
    np.savez(tmp_path / "bad.npz", images=images.astype(np.float32))
    assert main(["eval", str(tmp_path / "bad.npz")]) == 2
    assert "must be uint8" in capsys.readouterr().err


def test_the_second_classifier_is_another_network_that_agrees_on_real_digits():
    from gankit.data.mnist import bundled_mnist
    from gankit.metrics.evaluate import SECOND_OPINION

    arrays = bundled_mnist()
    images = torch.from_numpy(arrays["x_test"]).unsqueeze(1)
    main, second = get_extractor("mnist"), get_extractor(SECOND_OPINION["mnist"])
    assert type(main.net) is not type(second.net) and main.checksum != second.checksum
    a, b = main(images)["logits"].argmax(1), second(images)["logits"].argmax(1)
    assert (a == arrays["y_test"]).mean() >= 0.985 and (b == arrays["y_test"]).mean() >= 0.985
    assert (a == b).mean() >= 0.98


def test_every_classifier_figure_comes_with_a_second_opinion_and_the_card_names_both():
    from gankit.data.mnist import bundled_mnist
    from gankit.report import format_table

    arrays = bundled_mnist()
    images = torch.from_numpy(arrays["x_train"][:1000]).unsqueeze(1)
    result = evaluate_images(images, ref="mnist-test", seed=1, labels=torch.from_numpy(arrays["y_train"][:1000]))
    for key in ("fid", "kid", "is", "precision", "recall", "density", "coverage", "classes_covered", "class_kl",
                "label_accuracy"):
        assert f"{key}_b" in result, key
    assert all(result[f"{key}_b"] != result[key] for key in ("fid", "kid", "is", "class_kl"))  # another feature space
    assert result["label_accuracy_b"] > 0.98 and result["classes_covered_b"] == 10
    card = result["card"]
    assert card["extractor"] == "mnist" and card["second_extractor"] == "mnist-b"
    assert card["second_extractor_sha256"] == get_extractor("mnist-b").checksum
    table = format_table(result)
    assert "second opinion" in table and "second opinion mnist-b" in table
    fid_line = next(line for line in table.splitlines() if line.startswith("FID"))
    assert f"{result['fid_b']:.4f}" in fid_line and "fid_b" not in table
    cheap = evaluate_images(images, ref="mnist-test", fid_only=True)
    assert set(cheap) == {"fid", "card"} and "second_extractor" not in cheap["card"]  # the cheap FID stays cheap


def test_bench_rescore_reproduces_a_run_s_figures_and_adds_the_second_opinion(tmp_path, capsys):
    import json

    from gankit.cli import main
    from gankit.config import resolve
    from gankit.trainer import Trainer

    from conftest import TINY

    cfg = resolve("seed-mlp", TINY + ["mlp.g_hidden=[32]", "mlp.d_hidden=[32]", "train.steps=4", "eval.n_final=200",
                                      "train.seed=1"])
    result = Trainer(cfg, tmp_path / "runs" / "seed-mlp-seed1", progress=False).fit()
    assert main(["bench", "quality", "--suite", "mnist", "--presets", "seed-mlp", "--first-seed", "1", "--seeds", "1",
                 "--rescore", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    row = json.loads((tmp_path / "out" / "quality-mnist.json").read_text())["runs"][0]
    assert row["rescored"] and row["steps"] == 4 and row["fid"] == result.metrics["fid"]
    assert row["precision_b"] == result.metrics["precision_b"]
    capsys.readouterr()
    assert main(["bench", "quality", "--suite", "mnist", "--presets", "seed-mlp", "--seeds", "1", "--rescore",
                 "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "o2")]) == 2
    assert "no finished run" in capsys.readouterr().err and not (tmp_path / "o2").exists()


def test_bench_resume_finishes_an_interrupted_suite_exactly_and_keeps_finished_runs(tmp_path, capsys):
    import json

    from gankit.cli import main

    from conftest import TINY

    sets = [a for kv in TINY + ["mlp.g_hidden=[32]", "mlp.d_hidden=[32]", "train.steps=4", "train.ckpt_every=2",
                                "eval.n_final=200"] for a in ("--set", kv)]
    bench = ["bench", "quality", "--suite", "mnist", "--presets", "seed-mlp", "--seeds", "1",
             "--runs", str(tmp_path / "runs"), *sets]
    assert main(bench + ["--out", str(tmp_path / "a")]) == 0
    whole = json.loads((tmp_path / "a" / "quality-mnist.json").read_text())["runs"][0]
    run = tmp_path / "runs" / "seed-mlp-seed0"
    # as if the suite had been stopped after step 2: no final checkpoint, no final evaluation
    (run / "metrics.json").unlink()
    (run / "checkpoints" / "step-00000004.pt").unlink()
    assert main(bench + ["--resume", "--out", str(tmp_path / "b")]) == 0
    resumed = json.loads((tmp_path / "b" / "quality-mnist.json").read_text())["runs"][0]
    assert resumed["resumed"] == "step-00000002.pt" and resumed["steps"] == 4
    assert resumed["fid"] == whole["fid"] and resumed["precision"] == whole["precision"]  # exact resume
    # a finished run is read back, not trained again
    lines = (run / "stats.jsonl").read_text()
    assert main(bench + ["--resume", "--out", str(tmp_path / "c")]) == 0
    again = json.loads((tmp_path / "c" / "quality-mnist.json").read_text())["runs"][0]
    assert again["resumed"] == "finished earlier" and again["fid"] == whole["fid"]
    assert (run / "stats.jsonl").read_text() == lines
    # another experiment in the folder is refused, and left as it was
    capsys.readouterr()
    assert main(bench + ["--resume", "--set", "optim.G.lr=1e-3", "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "holds a run of other settings" in err and str(run) in err and not (tmp_path / "d").exists()
    assert (run / "stats.jsonl").read_text() == lines
    assert main(bench + ["--resume", "--rescore", "--out", str(tmp_path / "e")]) == 2
    assert "choose one" in capsys.readouterr().err
    (run / "metrics.json").write_text("{not json")
    assert main(bench + ["--resume", "--out", str(tmp_path / "f")]) == 2
    assert "cannot be read (JSONDecodeError)" in capsys.readouterr().err and not (tmp_path / "f").exists()
