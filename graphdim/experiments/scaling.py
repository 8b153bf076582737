"""What a node-level run does differently past one machine: mini-batches, processes, checkpoints.

:func:`~graphdim.experiments.node.run_node_experiment` runs inside one :class:`ScaledRun`,
which holds the config and answers for this process: full-batch or mini-batch training
(``batch_size``), one process or many (``distributed``), resuming (``resume``).
"""
import os
from contextlib import contextmanager
from typing import Iterator, Tuple

import torch

from ..graph.minibatch import layerwise_embed, uses_gcn
from ..loaders import node_loader, parse_num_neighbors
from ..registry import model_entry, model_names
from ..runtime import resolve_device
from ..train import embed



def check_scaling_options(config) -> None:
    """Reject option combinations that cannot work, naming the fix."""
    fanouts = parse_num_neighbors(config.num_neighbors)
    if fanouts is not None and not config.batch_size:
        raise ValueError("--num-neighbors samples mini-batches: give --batch-size N as well")
    if fanouts is not None and len(fanouts) != config.num_layers:
        raise ValueError(f"--num-neighbors needs one fan-out per layer (--layers "
                         f"{config.num_layers}); got {config.num_neighbors!r}")
    if config.distributed and not config.batch_size:
        raise ValueError("--distributed splits seed nodes between processes: give "
                         "--batch-size N as well (full-batch training has nothing to split)")
    entry = model_entry('node', config.model)
    if entry.minibatch is None and (config.batch_size or config.distributed):
        raise ValueError(f"--model {config.model} trains on whole graphs only, not with "
                         f"--batch-size / --distributed (models that do: "
                         f"{', '.join(n for n in model_names('node') if model_entry('node', n).minibatch)})")


def _join_processes(config) -> Tuple[int, int, torch.device]:
    """``(rank, world_size, device)``; with ``config.distributed`` joins the torchrun group
    (nccl on GPU, gloo on CPU) and uses the GPU of this process's ``LOCAL_RANK``."""
    device = resolve_device(config.device)
    if not config.distributed:
        return 0, 1, device
    import torch.distributed as dist
    if 'RANK' not in os.environ or 'WORLD_SIZE' not in os.environ:
        raise ValueError("--distributed runs under torchrun, which sets RANK and WORLD_SIZE: "
                         "torchrun --nproc_per_node=N -m graphdim train ... --distributed")
    if device.type == 'cuda':
        device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    return dist.get_rank(), dist.get_world_size(), device


def _leave_processes(config) -> None:
    if config.distributed:
        import torch.distributed as dist
        if dist.is_initialized():
            dist.destroy_process_group()


class ScaledRun:
    """This process's share of a node-level run: its rank among ``world_size`` processes,
    its device, what it trains on and how it embeds. ``ScaledRun.start(experiment)`` checks
    the options, joins the process group and leaves it at the end."""

    def __init__(self, config, rank: int, world_size: int, device: torch.device):
        self.config, self.rank, self.world_size, self.device = config, rank, world_size, device

    @classmethod
    @contextmanager
    def start(cls, experiment) -> Iterator['ScaledRun']:
        """Join the processes for ``experiment`` (it gets ``scaled`` and ``rank``)."""
        config = experiment.config
        check_scaling_options(config)
        scaled = cls(config, *_join_processes(config))
        experiment.scaled, experiment.rank = scaled, scaled.rank
        try:
            yield scaled
        finally:
            _leave_processes(config)

    @contextmanager
    def rank_zero_first(self) -> Iterator[None]:
        """Around a step only rank 0 should do first (processing a dataset into the cache):
        the other ranks wait before it, rank 0 releases them after it."""
        self._barrier(waits=self.rank != 0)
        yield
        self._barrier(waits=self.rank == 0)

    def _barrier(self, waits: bool) -> None:
        if self.world_size > 1 and waits:
            import torch.distributed as dist
            dist.barrier()

    def training_inputs(self, model, data, seed: int):
        """What :func:`graphdim.fit` trains on: ``(model, data)`` full-batch, else the
        per-batch wrapper and this process's loader."""
        config = self.config
        if not config.batch_size:
            return model, data
        loader = node_loader(data, config.batch_size, config.num_layers,
                             parse_num_neighbors(config.num_neighbors),
                             gcn_normalized=uses_gcn(model), seed=seed, rank=self.rank,
                             world_size=self.world_size)
        return model_entry('node', config.model).minibatch(model), loader

    def embeddings(self, model, data, progress: bool):
        return node_embeddings(self.config, model, data, self.device, progress)


def node_embeddings(config, model, data, device, progress: bool):
    """All node embeddings: layer by layer in batches after mini-batch training."""
    if not config.batch_size:
        return embed(model, data)
    return layerwise_embed(model.encoder, data, config.inference_batch_size, device=device,
                           progress=progress)
