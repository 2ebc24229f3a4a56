"""Few labels and synthetic training data: data.per_class, the digits8 dataset, `gankit augment` and the pieces of
`gankit bench augment`."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gankit.bench import augment as bench
from gankit.cli import main
from gankit.config import DataConfig
from gankit.data import load_data, to_float
from gankit.errors import GankitError
from gankit.nets.classifiers import bundled_classifier
from gankit.synthetic import class_folders

from conftest import TINY

TINY_CGAN = ["--set", "dcgan.g_width=8", "--set", "dcgan.d_width=8"] + sum((["--set", s] for s in TINY), [])


def rows_of(images: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in images}


# ------------------------------------------------------------ data.per_class


def test_per_class_keeps_k_training_images_of_each_class_chosen_by_the_seed():
    train = load_data(DataConfig(name="mnist"))
    few = load_data(DataConfig(name="mnist", per_class=7, subset_seed=3))
    assert torch.equal(torch.bincount(few.labels), torch.full((10,), 7))
    assert rows_of(few.images) <= rows_of(train.images)  # drawn from the training split only
    test = load_data(DataConfig(name="mnist", split="test"))
    assert not rows_of(few.images) & rows_of(test.images)
    again = load_data(DataConfig(name="mnist", per_class=7, subset_seed=3))
    other = load_data(DataConfig(name="mnist", per_class=7, subset_seed=4))
    assert torch.equal(few.images, again.images)
    assert not torch.equal(few.images, other.images)
    # each image keeps its own label
    index = {row: int(label) for row, label in zip((r.numpy().tobytes() for r in train.images), train.labels)}
    assert all(index[r.numpy().tobytes()] == int(label) for r, label in zip(few.images, few.labels))


def test_per_class_leaves_the_held_out_split_whole():
    held_out = load_data(DataConfig(name="mnist", split="test", per_class=5))
    assert len(held_out) == 10_000


def test_per_class_refuses_unlabelled_data_and_too_few_examples():
    with pytest.raises(GankitError, match="needs labelled data"):
        load_data(DataConfig(name="ring", per_class=5))
    with pytest.raises(GankitError, match="class 0 of 'mnist' has only"):
        load_data(DataConfig(name="mnist", limit=50, per_class=10))


def test_digits8_is_the_labelled_eight_by_eight_digits_with_a_disjoint_held_out_split():
    train, test = load_data(DataConfig(name="digits8")), load_data(DataConfig(name="digits8", split="test"))
    assert (len(train), len(test)) == (1438, 359)
    assert train.images.shape[1:] == (1, 28, 28) and train.num_classes == 10
    assert not rows_of(train.images) & rows_of(test.images)
    net, _ = bundled_classifier("digits8")  # the bundled 8x8-digits classifier reads them as labelled
    with torch.no_grad():
        predicted = net(test.images.float() / 127.5 - 1)[1].argmax(1)
    assert (predicted == test.labels).float().mean() > 0.9


# ------------------------------------------------------------ gankit augment


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cgan") / "run"
    assert main(["train", "mnist-cgan", "--steps", "2", "--out", str(run), "--no-progress", *TINY_CGAN]) == 0
    return run


def test_augment_writes_class_folders_the_folder_dataset_reads_back(cgan_run, tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert main(["augment", str(cgan_run), "--n-per-class", "3", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [str(i) for i in range(10)]
    assert all(len(list((out / str(i)).glob("*.png"))) == 3 for i in range(10))
    data = load_data(DataConfig(name="folder", path=str(out), resolution=28, channels=1))
    assert torch.equal(torch.bincount(data.labels), torch.full((10,), 3))
    assert data.class_names == tuple(str(i) for i in range(10))
    assert "wrote 3 images of each of 10 classes" in capsys.readouterr().out


def test_augment_npz_holds_images_and_labels_and_nothing_is_overwritten_silently(cgan_run, tmp_path, capsys):
    out = tmp_path / "synthetic.npz"
    assert main(["augment", str(cgan_run), "--n-per-class", "2", "--out", str(out)]) == 0
    with np.load(out) as f:
        assert f["images"].shape == (20, 28, 28, 1) and f["images"].dtype == np.uint8
        assert np.array_equal(np.bincount(f["labels"]), np.full(10, 2))
    before = out.read_bytes()
    assert main(["augment", str(cgan_run), "--n-per-class", "2", "--out", str(out), "--seed", "5"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before
    folder = tmp_path / "folder"
    assert main(["augment", str(cgan_run), "--n-per-class", "1", "--out", str(folder)]) == 0
    (folder / "notes.txt").write_text("mine")
    assert main(["augment", str(cgan_run), "--n-per-class", "2", "--out", str(folder)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert main(["augment", str(cgan_run), "--n-per-class", "2", "--out", str(folder), "--overwrite"]) == 0
    assert len(list((folder / "4").glob("*.png"))) == 2 and (folder / "notes.txt").read_text() == "mine"


def test_augment_refuses_bad_input_in_one_line(cgan_run, tmp_path, capsys):
    uncond = tmp_path / "uncond"
    assert main(["train", "mnist-dcgan", "--steps", "1", "--out", str(uncond), "--no-progress", *TINY_CGAN]) == 0
    capsys.readouterr()
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [([str(uncond), "--n-per-class", "2"], "needs a class-conditional generator"),
             ([str(cgan_run), "--n-per-class", "0"], "--n-per-class must be between 1"),
             ([str(cgan_run), "--n-per-class", "-3"], "--n-per-class must be between 1"),
             ([str(cgan_run), "--n-per-class", "10000000"], "--n-per-class must be between 1"),
             ([str(cgan_run), "--n-per-class", "2", "--truncation", "0.5"], "style-based generator")]
    for args, message in cases:
        assert main(["augment", *args, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert main(["augment", str(cgan_run), "--n-per-class", "2", "--out", str(a_file / "sub")]) == 2
    assert "cannot write to" in capsys.readouterr().err
    assert main(["augment", str(cgan_run), "--n-per-class", "2", "--out", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_class_folders_sort_in_label_order():
    assert class_folders(tuple("0123456789"), 10) == list("0123456789")
    names = class_folders(("cat", "ant", "b/c"), 3)
    assert names == ["0_cat", "1_ant", "2_b-c"] and sorted(names) == names
    wide = class_folders(tuple(str(i) for i in range(12)), 12)  # "10" would sort before "2"
    assert sorted(wide) == wide and wide[2] == "02_2"


# ------------------------------------------------------------ bench augment


def test_classic_augment_shifts_by_whole_pixels_and_keeps_the_background(monkeypatch):
    monkeypatch.setattr(bench, "MAX_ROTATION_DEG", 0.0)
    x = torch.full((64, 1, 28, 28), -1.0)
    x[:, :, 10:14, 12:15] = 1.0
    out = bench.classic_augment(x, torch.Generator().manual_seed(0))
    shifts = {(dy, dx): torch.roll(x[0], (dy, dx), (1, 2)) for dy in range(-2, 3) for dx in range(-2, 3)}
    found = set()
    for image in out:
        match = [s for s, shifted in shifts.items() if torch.allclose(image, shifted, atol=1e-5)]
        assert len(match) == 1
        found.add(match[0])
    assert len(found) > 5  # several different shifts were drawn
    monkeypatch.setattr(bench, "MAX_ROTATION_DEG", 10.0)
    rotated = bench.classic_augment(x, torch.Generator().manual_seed(1))
    assert rotated.min() >= -1 - 1e-5 and rotated.max() <= 1 + 1e-5
    assert torch.allclose(rotated[:, :, :3, :], torch.tensor(-1.0))  # the border stays background


def test_the_gan_of_a_setting_sees_exactly_the_classifier_s_k_per_class(tmp_path):
    setting = bench.Setting("mnist", 5, 2)
    x, y = bench.labelled(setting.data)
    assert torch.equal(torch.bincount(y), torch.full((10,), 5))
    from gankit.config import resolve

    cfg = resolve(bench.GAN_PRESET, ["data.per_class=5", "data.subset_seed=2"])
    gan_data = load_data(cfg.data)
    assert torch.equal(to_float(gan_data.images), x) and cfg.data.split == "train"
    with pytest.raises(GankitError, match="leave data"):
        bench.train_gan(setting, tmp_path, ["data.limit=100"])


def test_classifier_training_learns_and_accuracy_counts():
    x, y = bench.labelled(DataConfig(name="digits8", per_class=20))
    test_x, test_y = bench.labelled(DataConfig(name="digits8", split="test"))
    net = bench.train_classifier(x, y, seed=0, classic=False, steps=60)
    assert bench.accuracy(net, test_x, test_y) > 0.5
    with torch.no_grad():
        labels = net(test_x[:10]).argmax(1)
    labels[:4] = (labels[:4] + 1) % 10  # four of ten wrong
    assert math.isclose(bench.accuracy(net, test_x[:10], labels), 0.6)


def test_bench_augment_refuses_bad_settings(tmp_path, capsys):
    base = ["bench", "augment", "--out", str(tmp_path), "--runs", str(tmp_path / "runs")]
    for extra, message in [(["--seeds", "0"], "--seeds must be at least 1"),
                           (["--ratios", "0"], "--ratios must be whole numbers"),
                           (["--classifier-steps", "0"], "--classifier-steps must be between 1"),
                           (["--classifier-steps", "99999999999"], "--classifier-steps must be between 1"),
                           (["--datasets", "folder", "--k", "5"], "runs on mnist and digits8, not 'folder'"),
                           (["--k", "0"], "--k must be at least 1"),
                           (["--datasets", "digits8", "--k", "500"], "class 0 of 'digits8' has only")]:
        assert main(base + extra) == 2
        assert message in capsys.readouterr().err
    assert not any(Path(tmp_path).iterdir())


@pytest.mark.slow
def test_a_trained_cgan_s_class_folders_hold_digits_of_their_class(tmp_path):
    """End to end (about 2 minutes): train mnist-cgan-few on 100 digits a class, write 100 images a class with
    `gankit augment`, read them back with the folder dataset: the bundled classifier reads >= 95% as the class
    of their folder (the bench measured 96.0 +- 0.5% at this k)."""
    run, out = tmp_path / "run", tmp_path / "synthetic"
    assert main(["train", "mnist-cgan-few", "--out", str(run), "--no-progress"]) == 0
    assert main(["augment", str(run), "--n-per-class", "100", "--out", str(out)]) == 0
    data = load_data(DataConfig(name="folder", path=str(out), resolution=28, channels=1))
    assert torch.equal(torch.bincount(data.labels), torch.full((10,), 100))
    net, _ = bundled_classifier("mnist")
    with torch.no_grad():
        predicted = net(to_float(data.images))[1].argmax(1)
    assert (predicted == data.labels).float().mean() >= 0.95


def test_augment_treats_a_file_where_a_class_folder_goes_as_taken(cgan_run, tmp_path, capsys):
    out = tmp_path / "synthetic"
    out.mkdir()
    (out / "3").write_text("not a folder")
    assert main(["augment", str(cgan_run), "--n-per-class", "1", "--out", str(out)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err and (out / "3").read_text() == "not a folder"
    assert main(["augment", str(cgan_run), "--n-per-class", "1", "--out", str(out), "--overwrite"]) == 0
    assert len(list((out / "3").glob("*.png"))) == 1
