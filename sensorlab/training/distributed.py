"""Training with several processes under ``torchrun`` (PyTorch DDP, gloo backend, CPU).

``sensorlab train`` runs unchanged under ``torchrun --nproc_per_node N -m sensorlab.cli train …``:
`from_env` sees torchrun's ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` (and ``MASTER_ADDR`` /
``MASTER_PORT``), joins the process group and the training loop does the rest:

- every process builds the same model from the same seed (DDP also broadcasts rank 0's
  weights when it wraps the model) and draws the *same* shuffled global batch of
  ``batch_size`` windows, with the same augmentation, from the same generator;
- each process trains on its share of that batch (``batch[rank::world]``) and DDP averages
  the gradients. The loss of a share is scaled so that this average is exactly the gradient of
  the single-process weighted loss on the whole batch (class weights included);
- batch normalization uses the statistics of the whole global batch, as one process would:
  `global_batch_norm` sums the per-channel sums across processes with a differentiable
  all-reduce (PyTorch's ``SyncBatchNorm`` does this on GPUs only).

So a run with N processes computes the same gradients as one process, up to float summation
order; how close the final weights come is measured in docs/TRAINING.md. (Why not
``DistributedSampler``: it gives every process its own slice of a per-epoch permutation, so the
global batches would differ from a one-process run and the two could only be compared
statistically.)

After each epoch rank 0's buffers (batch-norm running statistics) are copied to the others and
rank 0's validation loss decides early stopping for all: a process that stopped alone would
hang the others. Only rank 0 prints progress and writes the run folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class Context:
    """This process's place in the job: rank 0 of 1 when not launched by torchrun."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, model):
        """The module to train: DDP around ``model`` when there are several processes."""
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        global_batch_norm(model)
        # Buffers are not broadcast on every forward: batch-norm statistics are computed from the
        # global batch (identical everywhere), and the log-mel basis never changes.
        return DistributedDataParallel(model, forward_sync_buffers=False)

    def share(self, t):
        """This process's part of a global batch."""
        return t if self.world == 1 else t[self.rank :: self.world]

    def sum(self, *values: float) -> list[float]:
        """Sums over all processes (float64)."""
        if self.world == 1:
            return [float(v) for v in values]
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()

    def from_main(self, value: float) -> float:
        """Rank 0's value, on every process (decisions that must agree, like early stopping)."""
        if self.world == 1:
            return value
        import torch
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64)
        dist.broadcast(t, 0)
        return float(t[0])

    def sync_buffers(self, model) -> None:
        """Rank 0's buffers (batch-norm running statistics) on every process."""
        if self.world == 1:
            return
        import torch.distributed as dist

        for b in model.buffers():
            dist.broadcast(b, 0)

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def launched() -> bool:
    """True inside a process started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main() -> bool:
    """Rank 0 (or not distributed): the process that prints and writes."""
    return int(os.environ.get("RANK", "0")) == 0


def from_env() -> Context:
    """Join torchrun's process group (gloo, CPU) when launched with several processes."""
    if not launched():
        return Context()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")  # env:// rendezvous: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE
    return Context(dist.get_rank(), dist.get_world_size())


def global_batch_norm(model) -> None:
    """Make the batch-norm layers of ``model`` normalize with global-batch statistics in training.

    Same parameters, buffers and state-dict keys (the checkpoint is unchanged); evaluation uses
    the running statistics as before.
    """
    import types

    from torch.nn.modules.batchnorm import _BatchNorm

    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.forward = types.MethodType(_global_bn_forward, m)


def _all_sum(t):
    """Sum over processes, differentiable: the gradient of a sum is the sum of the gradients."""
    import torch
    import torch.distributed as dist

    class AllSum(torch.autograd.Function):
        @staticmethod
        def forward(ctx, v):
            v = v.clone()
            dist.all_reduce(v)
            return v

        @staticmethod
        def backward(ctx, grad):
            grad = grad.clone()
            dist.all_reduce(grad)
            return grad

    return AllSum.apply(t)


def _global_bn_forward(self, x):
    import torch

    if not self.training:
        return type(self).forward(self, x)
    dims = [0, *range(2, x.dim())]
    shape = [1, -1] + [1] * (x.dim() - 2)
    n = _all_sum(torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype))
    mean = _all_sum(x.sum(dims)) / n  # two passes, as batch_norm computes the variance
    var = _all_sum(((x - mean.view(shape)) ** 2).sum(dims)) / n
    with torch.no_grad():
        self.num_batches_tracked += 1
        f = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        self.running_mean.mul_(1 - f).add_(f * mean.detach())
        self.running_var.mul_(1 - f).add_(f * var.detach() * n / (n - 1))  # unbiased, as batch_norm stores it
    y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
    return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y
