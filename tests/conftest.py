import pytest
import torch

TINY = ["data.limit=256", "train.batch_size=32", "train.log_every=2", "train.sample_every=1000",
        "train.ckpt_every=1000", "train.n_samples=16", "eval.every=0", "eval.n_final=0"]


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield
