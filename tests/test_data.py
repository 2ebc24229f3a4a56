import gzip
import hashlib
import http.server
import struct
import threading
import time
from functools import partial

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import BatchSampler, load_data, to_float, to_uint8
from gankit.data.base import fit_images
from gankit.data.mnist import IDXSource, fetch, load_idx, read_idx
from gankit.errors import GankitError


def test_bundled_mnist_is_the_full_set():
    train = load_data(DataConfig(name="mnist"))
    test = load_data(DataConfig(name="mnist", split="test"))
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(train.labels).tolist()[:3] == [5923, 6742, 5958]  # the known MNIST class counts
    batch = train.batch(torch.arange(8))
    assert batch["image"].min() >= -1 and batch["image"].max() <= 1 and batch["label"].shape == (8,)


def test_float_uint8_round_trip_is_exact():
    x = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    assert torch.equal(to_uint8(to_float(x)), x)


def test_resize_and_channel_conversion():
    data = load_data(DataConfig(name="mnist", limit=10, resolution=32, channels=3))
    assert data.images.shape == (10, 3, 32, 32)
    assert torch.equal(data.images[:, 0], data.images[:, 2])
    gray = fit_images(torch.full((2, 3, 8, 8), 200, dtype=torch.uint8), 0, 1)
    assert gray.shape == (2, 1, 8, 8) and int(gray[0, 0, 0, 0]) == 200


def test_unknown_split_and_dataset():
    with pytest.raises(GankitError, match="unknown data split 'val'"):
        load_data(DataConfig(name="mnist", split="val"))
    with pytest.raises(GankitError, match="unknown dataset 'cifar'; valid: .*mnist"):
        load_data(DataConfig(name="cifar"))


def test_sampler_covers_each_epoch_once_and_restores_exactly():
    sampler = BatchSampler(10, 3, seed=0)
    epoch = torch.cat([sampler.next() for _ in range(3)])
    assert len(set(epoch.tolist())) == 9  # 3 full batches, ragged tail dropped
    state = sampler.state_dict()
    ahead = [sampler.next() for _ in range(5)]
    again = BatchSampler(10, 3, seed=123)
    again.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(ahead, [again.next() for _ in range(5)]))
    with pytest.raises(GankitError, match="batch size 20 is larger than the dataset"):
        BatchSampler(10, 20, seed=0)


def write_png(path, size, color, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def test_folder_with_class_subfolders(tmp_path):
    write_png(tmp_path / "cats" / "a.png", (40, 30), (255, 0, 0))
    write_png(tmp_path / "cats" / "b.jpg", (30, 30), (255, 0, 0))
    write_png(tmp_path / "dogs" / "c.png", (20, 50), (0, 0, 255), "RGB")
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    data = load_data(DataConfig(name="folder", path=str(tmp_path), resolution=16))
    assert data.images.shape == (3, 3, 16, 16)
    assert data.class_names == ("cats", "dogs") and data.labels.tolist() == [0, 0, 1]
    assert data.images[2, 2].float().mean() > 250 and data.images[2, 0].float().mean() < 5
    gray = load_data(DataConfig(name="folder", path=str(tmp_path), resolution=8, channels=1))
    assert gray.images.shape == (3, 1, 8, 8)


def test_flat_folder_has_no_labels_and_skips_broken_files(tmp_path):
    write_png(tmp_path / "x.png", (10, 10), 128, "L")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = load_data(DataConfig(name="folder", path=str(tmp_path), resolution=4))
    assert data.labels is None and data.images.shape == (1, 3, 4, 4)
    with pytest.raises(GankitError, match="1 unreadable image file.*broken.png"):
        load_data(DataConfig(name="folder", path=str(tmp_path), resolution=4, strict=True))


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(GankitError, match="holds no images"):
        load_data(DataConfig(name="folder", path=str(tmp_path)))
    with pytest.raises(GankitError, match="does not exist"):
        load_data(DataConfig(name="folder", path=str(tmp_path / "nope")))
    with pytest.raises(GankitError, match="needs data.path"):
        load_data(DataConfig(name="folder"))


# ---------------------------------------------------------------- IDX downloads from a local server


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_server(tmp_path):
    """A local HTTP server with tiny IDX fixture files; yields (base URL, source, requests log)."""
    served = tmp_path / "served"
    served.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5], dtype=np.uint8)
    files = {}
    for key, name, array in (("train-images", "ti.gz", images), ("train-labels", "tl.gz", labels),
                             ("test-images", "vi.gz", images[:2]), ("test-labels", "vl.gz", labels[:2])):
        (served / name).write_bytes(idx_bytes(array))
        data = (served / name).read_bytes()
        files[key] = (name, "sha256:" + hashlib.sha256(data).hexdigest(), len(data))
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield url, IDXSource("fixture", url, files, tuple("abcdef")), images, requests
    server.shutdown()


def test_idx_download_checksum_and_cache(idx_server, tmp_path):
    url, source, images, requests = idx_server
    cfg = DataConfig(name="fixture", path=str(tmp_path / "cache"))
    data = load_idx(source, cfg)
    assert torch.equal(data.images[:, 0], torch.from_numpy(images)) and data.labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert len(requests) == 2
    load_idx(source, cfg)  # second load comes from the cache
    assert len(requests) == 2
    assert (tmp_path / "cache" / "fixture" / "ti.gz").is_file()


def test_idx_checksum_mismatch_is_refused_and_not_cached(idx_server, tmp_path):
    url, source, _, _ = idx_server
    size = source.files["train-images"][2]
    wrong = IDXSource("fixture", url, {**source.files, "train-images": ("ti.gz", "md5:" + "0" * 32, size)},
                      source.class_names)
    with pytest.raises(GankitError, match="checksum mismatch for .*ti.gz: expected md5:0000"):
        load_idx(wrong, DataConfig(path=str(tmp_path / "cache")))
    assert not (tmp_path / "cache" / "fixture" / "ti.gz").exists()


def test_registered_mnist_idx_downloads_from_a_mirror_and_checks_real_checksums(idx_server, tmp_path):
    url, _, _, _ = idx_server  # serve a fixture under the real name: its checksum must not pass
    (tmp_path / "served" / "train-images-idx3-ubyte.gz").write_bytes(idx_bytes(np.zeros((2, 28, 28))))
    with pytest.raises(GankitError, match="checksum mismatch for .*train-images-idx3-ubyte.gz: expected md5:f68b3c"):
        load_data(DataConfig(name="mnist-idx", path=str(tmp_path / "cache"), mirror=url))


def test_a_mirror_that_sends_too_much_is_refused_and_nothing_is_kept(idx_server, tmp_path):
    url, source, _, _ = idx_server
    name, checksum, size = source.files["train-images"]
    with pytest.raises(GankitError, match=f"announces {size} bytes, the file has {size - 1}"):
        fetch(url + name, tmp_path / "ti.gz", checksum, size - 1)
    assert not list(tmp_path.glob("ti.gz*"))


@pytest.fixture
def dripping_server():
    """A mirror that sends a byte every 50 ms forever, with no Content-Length, or chunks past its promise."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(100_000 if self.path == "/drip" else 10):
                    self.wfile.write(b"x" * (1 if self.path == "/drip" else 4096))
                    self.wfile.flush()
                    time.sleep(0.05 if self.path == "/drip" else 0)
            except OSError:  # the client gave up
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_a_dripping_mirror_meets_the_deadline(dripping_server, tmp_path):
    start = time.monotonic()
    with pytest.raises(GankitError, match=r"not finished after 1 s \(\d+ of 1000 bytes\)"):
        fetch(dripping_server + "drip", tmp_path / "f.gz", "md5:" + "0" * 32, 1000, timeout_s=5, deadline_s=1)
    assert time.monotonic() - start < 3 and not list(tmp_path.iterdir())


def test_a_mirror_without_a_length_is_cut_at_the_expected_size(dripping_server, tmp_path):
    with pytest.raises(GankitError, match="sent more than the file's 5000 bytes"):
        fetch(dripping_server + "flood", tmp_path / "f.gz", "md5:" + "0" * 32, 5000)
    assert not list(tmp_path.iterdir())


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(GankitError, match="cannot download http://127.0.0.1:9/"):
        load_data(DataConfig(name="fashion-mnist", path=str(tmp_path), mirror="http://127.0.0.1:9/"))


def test_read_idx_rejects_truncated_files(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2])))  # 9 labels promised, 2 present
    with pytest.raises(GankitError, match="truncated"):
        read_idx(path)
    path.write_bytes(gzip.compress(b"hello world"))
    with pytest.raises(GankitError, match="not an IDX file"):
        read_idx(path)


def test_bundled_emoji_are_colour_pictures_on_white():
    from gankit.data.emoji import bundled_emoji

    data = load_data(DataConfig(name="emoji"))
    images = data.arrays["image"]
    assert images.shape == (1360, 3, 64, 64) and images.dtype == torch.uint8
    assert (images[:, :, 0, 0] == 255).all()  # white corners
    spread = images.float().std(1).mean((1, 2))  # colour: the channels differ
    assert (spread > 5).float().mean() > 0.8
    codes = bundled_emoji()["codes"]
    assert 0x1F600 in codes and len(set(codes.tolist())) == 1360 and data.info["codes"][:3] == codes[:3].tolist()
    small = load_data(DataConfig(name="emoji", resolution=32, limit=10))
    assert small.arrays["image"].shape == (10, 3, 32, 32)
    assert torch.equal(load_data(DataConfig(name="emoji", split="test")).arrays["image"], images)


def test_glyph_fonts_label_each_glyph_by_font_and_hold_out_characters():
    train, test = (load_data(DataConfig(name="glyph-fonts", split=s)) for s in ("train", "test"))
    assert train.class_names == ("hei", "kai", "ming", "droid") and len(train) + len(test) == 15020
    assert set(train.arrays["label"].tolist()) == {0, 1, 2, 3}
    glyphs = load_data(DataConfig(name="glyphs", split="test", fonts="hei,kai"))
    hei = test.arrays["image"][test.arrays["label"] == 0]
    assert torch.equal(hei, 255 - glyphs.arrays["a"])  # the held-out characters, white ink on black
    limited = load_data(DataConfig(name="glyph-fonts", limit=200))
    assert len(limited) == 200 and len(set(limited.arrays["label"].tolist())) == 4


def test_a_folder_is_one_split(tmp_path):
    """A test split of a folder would be its training images under another name: refused, not served."""
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    assert len(load_data(DataConfig(name="folder", path=str(tmp_path), resolution=4)).images) == 1
    with pytest.raises(GankitError, match="no 'test' split: point data.path at a folder of held-out images"):
        load_data(DataConfig(name="folder", path=str(tmp_path), split="test"))
