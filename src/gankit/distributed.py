"""Multi-process data-parallel training on torch.distributed (gloo on CPU, NCCL on GPUs), started by torchrun.

Every process holds the whole model and the same random generators; each step's global batch (and its
noise) is drawn identically everywhere and each process takes its slice, so N processes compute the same
update as one process with the same global batch. After each backward the trained network's gradients are
averaged across processes (one all-reduce per phase), which keeps the weights identical everywhere.
Only rank 0 writes files. BatchNorm statistics stay per process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  # gankit joined the group (not the caller), so gankit leaves it

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, full: torch.Tensor) -> torch.Tensor:
        """This process's equal slice (along the first dimension) of a tensor every process holds whole."""
        if not self.active:
            return full
        share = len(full) // self.world
        return full[self.rank * share:(self.rank + 1) * share]

    def all_reduce_grads(self, params: list[torch.Tensor]) -> None:
        """Average the gradients of `params` across processes, in one flat all-reduce."""
        if not self.active:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = _flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat /= self.world
        for grad, synced in zip(grads, _unflatten_dense_tensors(flat, grads)):
            grad.copy_(synced)

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every process's slice joined along the first dimension, in rank order (the inverse of `shard`)."""
        if not self.active:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.active:
            tensor = tensor.clone()
            dist.all_reduce(tensor)
            tensor /= self.world
        return tensor

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every process if it is True on any (a collective decision: stop, time up)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group this Dist joined. A process that exits still in a gloo group can abort
        (SIGABRT) while the interpreter shuts down, as gloo's threads free their tensors."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
        self.owns_group = False


def init_distributed(device: str) -> Dist:
    """Join the process group torchrun describes (WORLD_SIZE > 1); a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if dist.is_initialized():  # the caller's group: the caller leaves it
        return Dist(rank, world, local_rank)
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return Dist(rank, world, local_rank, owns_group=True)
