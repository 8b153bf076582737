"""Mini-batches of seed nodes with their neighbourhoods, for node-level DIM on large graphs.

Two samplers give the same batch format as PyG's ``NeighborLoader``: a ``Data`` subgraph whose
first ``batch.batch_size`` nodes are the seed nodes, ``batch.n_id`` the global ids of its nodes.

* :class:`NeighborhoodLoader` (the default, no compiled extension needed): each seed batch with
  its **full** ``num_layers``-hop in-neighbourhood, gathered from a CSR index of the graph in
  plain torch. For a GCN encoder the edges carry the *full-graph* normalisation
  :math:`\\hat D^{-1/2}(A+I)\\hat D^{-1/2}` (``batch.gcn_normalized``), so the encoder computes
  on the seeds exactly what it computes on the whole graph; nothing is sampled, so there is no
  sampling variance and no mismatch between training and whole-graph inference. Cost grows
  with the neighbourhood size (degree to the power ``num_layers``): right for DGI's one-layer
  encoder, and for deep encoders on dense graphs use fan-outs.
* ``num_neighbors=[10, 10]``: PyG's ``NeighborLoader`` (fan-out sampling per layer). It needs
  the ``pyg-lib`` or ``torch-sparse`` extension; without one a clear error names the fix.

Seeds are split between processes by torch's ``DistributedSampler`` (each rank its share,
reshuffled every epoch by ``set_epoch``), so the order of an epoch depends only on
``(seed, epoch)``: that is all a checkpoint needs to resume the sampler.
"""
import math
from typing import List, Optional, Sequence

import torch
from torch import Tensor
from torch.utils.data import DistributedSampler
from torch_geometric.data import Data
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import index_sort
from torch_geometric.utils.sparse import index2ptr

NEIGHBOR_LOADER_FIX = (
    "--num-neighbors uses PyG's NeighborLoader, which needs the 'pyg-lib' or 'torch-sparse' "
    "extension: install one built for your torch version (pip install pyg-lib -f "
    "https://data.pyg.org/whl/torch-{torch}+cpu.html, or +cu121 etc. on a GPU), or leave out "
    "--num-neighbors to take full neighbourhoods, which needs no extension")


class NeighborhoodIndex:
    """In-edges of every node as CSR (``rowptr`` over targets, ``sources``, ``weights``).

    ``gcn=True`` stores the full-graph GCN normalisation with self-loops as ``weights`` (what
    ``GCNConv`` computes on the whole graph); otherwise the graph's own edge weights, if any.
    """
    def __init__(self, edge_index: Tensor, num_nodes: int, edge_weight: Optional[Tensor] = None,
                 gcn: bool = False):
        if gcn:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, num_nodes)
        # PyG's CSR conversion; stable, so each node's in-edges keep the graph's order
        targets, order = index_sort(edge_index[1], num_nodes, stable=True)
        self.rowptr = index2ptr(targets, num_nodes)
        self.sources = edge_index[0, order].contiguous()
        self.weights = None if edge_weight is None else edge_weight[order].contiguous()
        self.num_nodes = num_nodes
        self.gcn = gcn
        # Global -> local ids of the subgraph being built; reset after each use, so a batch
        # costs time in its own size, not in the graph's.
        self._local = torch.full((num_nodes, ), -1, dtype=torch.long)

    def subgraph(self, seeds: Tensor, num_hops: int):
        """``(n_id, edge_index, weights)``: seeds first, then the in-neighbours hop by hop,
        with the in-edges of every node within ``num_hops - 1`` hops (local ids)."""
        local = self._local
        n_id = [seeds]
        local[seeds] = torch.arange(seeds.numel())
        count, frontier = seeds.numel(), seeds
        rows, cols, weights = [], [], []
        try:
            for _ in range(num_hops):
                starts, ends = self.rowptr[frontier], self.rowptr[frontier + 1]
                degrees = ends - starts
                total = int(degrees.sum())
                offsets = torch.repeat_interleave(starts - (torch.cumsum(degrees, 0) - degrees),
                                                  degrees, output_size=total)
                edge_ids = offsets + torch.arange(total)
                sources = self.sources[edge_ids]
                new = torch.unique(sources[local[sources] < 0])
                local[new] = torch.arange(count, count + new.numel())
                count += new.numel()
                n_id.append(new)
                rows.append(local[sources])
                cols.append(torch.repeat_interleave(local[frontier], degrees,
                                                    output_size=total))
                if self.weights is not None:
                    weights.append(self.weights[edge_ids])
                frontier = new
            n_id = torch.cat(n_id)
        finally:
            local[torch.cat(n_id) if isinstance(n_id, list) else n_id] = -1
        edge_index = torch.stack([torch.cat(rows), torch.cat(cols)])
        return n_id, edge_index, (torch.cat(weights) if weights else None)


def _seed_nodes(data: Data, input_nodes: Optional[Tensor]) -> Tensor:
    if input_nodes is None:
        return torch.arange(data.num_nodes)
    if input_nodes.dtype == torch.bool:
        return input_nodes.nonzero().view(-1)
    return input_nodes.view(-1).long()


def _check_batch_size(batch_size: int) -> int:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    return batch_size


class NeighborhoodLoader:
    """Batches of ``batch_size`` seed nodes, each with its full ``num_layers``-hop
    in-neighbourhood (see the module docstring). Iterate it once per epoch; call
    :meth:`set_epoch` before each epoch to reshuffle (the training loop does).

    Args:
        data: the whole graph (``x``, ``edge_index``, optional ``edge_weight``), on the CPU.
        batch_size: seed nodes per batch (per process when distributed).
        num_layers: hops to gather (the encoder's depth).
        input_nodes: seed nodes (ids or a boolean mask); default all nodes.
        gcn_normalized: attach the full-graph GCN normalisation (for a GCN encoder).
        shuffle, seed: reshuffle the seeds each epoch from ``(seed, epoch)``.
        rank, world_size: this process's share of the seeds (``DistributedSampler``).
    """
    def __init__(self, data: Data, batch_size: int, num_layers: int = 1,
                 input_nodes: Optional[Tensor] = None, gcn_normalized: bool = False,
                 shuffle: bool = True, seed: int = 0, rank: int = 0, world_size: int = 1):
        self.batch_size = _check_batch_size(batch_size)
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1; got {num_layers}")
        self.data, self.num_layers = data, num_layers
        self.seeds = _seed_nodes(data, input_nodes)
        self.index = NeighborhoodIndex(data.edge_index, data.num_nodes,
                                       getattr(data, 'edge_weight', None), gcn_normalized)
        self.sampler = DistributedSampler(range(self.seeds.numel()), num_replicas=world_size,
                                          rank=rank, shuffle=shuffle, seed=seed)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return math.ceil(len(self.sampler) / self.batch_size)

    def batch(self, seeds: Tensor) -> Data:
        """The subgraph of one batch of seed nodes (global ids)."""
        n_id, edge_index, weights = self.index.subgraph(seeds, self.num_layers)
        batch = Data(x=self.data.x[n_id], edge_index=edge_index, n_id=n_id,
                     batch_size=seeds.numel())
        if weights is not None:
            batch.edge_weight = weights
        batch.gcn_normalized = self.index.gcn
        return batch

    def __iter__(self):
        order = self.seeds[torch.tensor(list(iter(self.sampler)), dtype=torch.long)]
        for seeds in order.split(self.batch_size):
            yield self.batch(seeds)


class PyGNeighborLoader:
    """PyG's ``NeighborLoader`` with per-layer fan-outs, seeds split by ``DistributedSampler``."""
    def __init__(self, data: Data, batch_size: int, num_neighbors: Sequence[int],
                 input_nodes: Optional[Tensor] = None, shuffle: bool = True, seed: int = 0,
                 rank: int = 0, world_size: int = 1):
        import torch_geometric.typing as pyg_typing
        if not (pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE):
            raise ValueError(NEIGHBOR_LOADER_FIX.format(torch=torch.__version__.split('+')[0]))
        from torch_geometric.loader import NeighborLoader
        seeds = _seed_nodes(data, input_nodes)
        self.sampler = DistributedSampler(range(seeds.numel()), num_replicas=world_size,
                                          rank=rank, shuffle=shuffle, seed=seed)
        self.loader = NeighborLoader(data, num_neighbors=list(num_neighbors),
                                     batch_size=_check_batch_size(batch_size),
                                     input_nodes=seeds, sampler=self.sampler)

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        return iter(self.loader)


def parse_num_neighbors(text: Optional[str]) -> Optional[List[int]]:
    """``'10,10'`` -> ``[10, 10]`` (``-1`` takes all neighbours at that layer); None/'' -> None."""
    if text is None or str(text).strip() == '':
        return None
    try:
        fanouts = [int(part) for part in str(text).split(',')]
    except ValueError:
        raise ValueError(f"--num-neighbors takes comma-separated integers, one per layer, "
                         f"e.g. 10,10; got {text!r}") from None
    if any(f == 0 or f < -1 for f in fanouts):
        raise ValueError(f"--num-neighbors fan-outs must be positive (or -1 for all "
                         f"neighbours); got {text!r}")
    return fanouts


def node_loader(data: Data, batch_size: int, num_layers: int = 1,
                num_neighbors: Optional[Sequence[int]] = None,
                input_nodes: Optional[Tensor] = None, gcn_normalized: bool = False,
                shuffle: bool = True, seed: int = 0, rank: int = 0, world_size: int = 1):
    """The mini-batch loader for node-level DIM: full neighbourhoods by default
    (:class:`NeighborhoodLoader`), PyG's ``NeighborLoader`` when ``num_neighbors`` is given."""
    if num_neighbors is None:
        return NeighborhoodLoader(data, batch_size, num_layers, input_nodes, gcn_normalized,
                                  shuffle, seed, rank, world_size)
    if len(num_neighbors) != num_layers:
        raise ValueError(f"--num-neighbors needs one fan-out per encoder layer "
                         f"({num_layers}); got {len(num_neighbors)}: "
                         f"{','.join(map(str, num_neighbors))}")
    return PyGNeighborLoader(data, batch_size, num_neighbors, input_nodes, shuffle, seed, rank,
                             world_size)
