"""Multi-process training (torchrun, gloo on CPU) against one process with the same global batch."""
import subprocess
import sys

import torch

from gankit.sampling import load_generator

from conftest import TINY

# no BatchNorm: its statistics are per process, everything else must match one process exactly
ARGS = ["train", "seed-mlp", "--no-progress", "--steps", "12"] + sum(
    (["--set", s] for s in TINY + ["mlp.g_hidden=[32, 32]", "mlp.d_hidden=[32]", "train.threads=1",
                                   "train.ema_halflife_kimg=0.5", "train.precision=fp32"]), [])


# the CycleGAN: its history pools see the global batch, so two processes keep the pools one process keeps
CYCLEGAN_ARGS = ["train", "cyclegan-digits", "--no-progress", "--steps", "6"] + sum(
    (["--set", s] for s in TINY + ["train.batch_size=8", "unet.width=4", "unet.depth=2", "unet.blocks=1",
                                   "patchgan.width=4", "cyclegan.pool_size=4", "train.threads=1",
                                   "train.precision=fp32"]), [])


def run(out, processes, args=ARGS):
    if processes == 1:
        command = [sys.executable, "-m", "gankit", *args, "--out", str(out)]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
                   "-m", "gankit", *args, "--out", str(out)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    run(tmp_path / "one", 1)
    run(tmp_path / "two", 2)
    one, two = load_generator(tmp_path / "one"), load_generator(tmp_path / "two")
    a, b = one.nets["G"].state_dict(), two.nets["G"].state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4) for k in a)
    assert not any(torch.equal(a[k], torch.zeros_like(a[k])) for k in a)
    # only rank 0 wrote: one stats line per tick, not two
    assert len((tmp_path / "two" / "stats.jsonl").read_text().splitlines()) == 6


def test_a_cyclegan_with_its_pools_trains_the_same_in_two_processes(tmp_path):
    run(tmp_path / "one", 1, CYCLEGAN_ARGS)
    run(tmp_path / "two", 2, CYCLEGAN_ARGS)
    one, two = load_generator(tmp_path / "one"), load_generator(tmp_path / "two")
    # compared by what they compute: a conv bias right before an instance norm has a gradient of float noise
    # only (the norm cancels it), which Adam scales up to a full step, so those biases differ while outputs do not
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    for name in ("G_ab", "G_ba"):
        with torch.no_grad():
            out_one, out_two = one.nets[name].eval()(x), two.nets[name].eval()(x)
        assert torch.allclose(out_one, out_two, atol=1e-5), name
        assert not torch.allclose(out_one, load_generator(tmp_path / "one").nets[name].eval()(x * 0), atol=1e-3)


# StyleGAN2 with ADA: noise, style mixing, augmentation and path-length draws come from the trainer's draws
# and minibatch-std groups are consecutive samples, so two processes train as one
STYLEGAN_ARGS = ["train", "mnist-stylegan2", "--no-progress", "--steps", "6"] + sum(
    (["--set", s] for s in TINY + ["train.batch_size=8", "stylegan2.g_width=4", "stylegan2.d_width=4",
                                   "stylegan2.max_width=8", "stylegan2.w_dim=8", "gan.ada=bgc", "gan.ada_kimg=0.01",
                                   "gan.ada_interval=2", "gan.r1_every=2", "gan.pl_every=2", "train.threads=1",
                                   "train.precision=fp32"]), [])


def test_stylegan2_with_ada_trains_the_same_in_two_processes(tmp_path):
    run(tmp_path / "one", 1, STYLEGAN_ARGS)
    run(tmp_path / "two", 2, STYLEGAN_ARGS)
    one, two = load_generator(tmp_path / "one"), load_generator(tmp_path / "two")
    a, b = one.nets["G"].state_dict(), two.nets["G"].state_dict()
    assert a["mapping.w_avg"].abs().sum() > 0
    assert all(torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4) for k in a), [k for k in a if not torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4)]
    records = [line for line in (tmp_path / "two" / "stats.jsonl").read_text().splitlines()]
    assert '"ada_p"' in records[-1]


def test_gankit_leaves_the_group_it_joined_and_only_that(tmp_path, monkeypatch):
    """A process that exits still in a gloo group can abort at shutdown, so fit() leaves the group it joined;
    a group the caller set up stays up for the caller."""
    import torch.distributed as dist

    from gankit.distributed import init_distributed

    store = dist.FileStore(str(tmp_path / "store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", "0")
        callers = init_distributed("cpu")
        assert callers.active and not callers.owns_group
        callers.close()
        assert dist.is_initialized()
    finally:
        dist.destroy_process_group()
    # no group yet: gankit joins one (here a one-process group standing in for torchrun's) and leaves it
    join = dist.init_process_group
    monkeypatch.setattr(dist, "init_process_group", lambda backend: join(
        backend, store=dist.FileStore(str(tmp_path / "store2"), 1), rank=0, world_size=1))
    ours = init_distributed("cpu")
    assert ours.owns_group and dist.is_initialized()
    ours.close()
    assert not dist.is_initialized()
