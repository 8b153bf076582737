r"""Mini-batch node-level DIM (DGI's Reddit setting) and whole-graph inference layer by layer.

A batch of :mod:`graphdim.loaders` is a subgraph whose first ``B = batch.batch_size`` nodes
are seeds; for a GCN encoder its edge weights are the whole graph's normalisation, handed to
the layers as a :class:`~graphdim.graph.propagation.PropagationMatrix`
(:func:`~graphdim.graph.propagation.graph_inputs`). A node model's ``training_loss`` takes such
a batch as it takes a whole graph: both views of the subgraph, only the seeds scored (DGI's
summary is the readout of the seed embeddings only,
:math:`s_b = \sigma(\frac{1}{B}\sum_{i \le B} h_i)`). :class:`MiniBatchDGI` wraps the model
as a module whose ``forward(batch)`` is that loss, for ``DistributedDataParallel``.

:func:`layerwise_embed` embeds every node of a graph too large to encode at once: layer by
layer, each layer applied to batches of target nodes with their in-neighbours, reusing the
encoder's own modules (conv, activation, batch norm), so only one layer's output for all nodes
is held at a time (two while a layer runs).
"""
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv
from tqdm.auto import tqdm

from ..loaders import NeighborhoodIndex
from .encoders import GraphEncoder
from .propagation import PropagationMatrix, PropagationReport


def uses_gcn(model: torch.nn.Module) -> bool:
    """Whether the loader should attach the full-graph GCN normalisation for this model."""
    return any(isinstance(m, GCNConv) for m in model.encoder.modules())


class MiniBatchDGI(torch.nn.Module):
    """A node model trained on loader batches: ``forward(batch)`` (and :meth:`training_loss`)
    is the model's loss of the batch's seeds, so the module can be wrapped in
    ``DistributedDataParallel``; :meth:`embed` returns the seeds' embeddings. The wrapped
    model is ``self.model`` (its state dict is the one to save); ``self.propagation`` says
    which propagation its last batch ran and, if not the sparse one, why.
    """
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    @property
    def propagation(self) -> Optional[PropagationReport]:
        return self.model.propagation

    def forward(self, batch: Data) -> Tensor:
        return self.model.training_loss(batch)

    def training_loss(self, batch: Data) -> Tensor:
        return self(batch)

    @torch.no_grad()
    def embed(self, batch: Data) -> Tensor:
        return self.model.embed(batch)


@torch.no_grad()
def layerwise_embed(encoder: GraphEncoder, data: Data, batch_size: int = 8192,
                    device=None, progress: bool = False,
                    index: Optional[NeighborhoodIndex] = None) -> Tensor:
    """Embeddings of every node of ``data`` by ``encoder``, computed layer by layer in batches.

    Equal to ``encoder(data.x, data.edge_index[, data.edge_weight])`` in eval mode (to float
    tolerance), with peak memory of about two ``[N, hidden]`` tensors plus one batch instead
    of the whole graph's activations. Features and results stay on the CPU; each batch runs on
    ``device`` (default: the encoder's). ``index`` reuses a built
    :class:`graphdim.loaders.NeighborhoodIndex`.
    """
    if not isinstance(encoder, GraphEncoder):
        raise ValueError(f"layer-wise inference needs a graphdim GraphEncoder (its layers are "
                         f"applied one at a time); got {type(encoder).__name__}")
    if batch_size < 1:
        raise ValueError(f"inference batch size must be >= 1; got {batch_size}")
    device = device or next(encoder.parameters()).device
    gcn = encoder.conv == 'gcn'
    if index is None or index.gcn != gcn:
        index = NeighborhoodIndex(data.edge_index, data.num_nodes,
                                  getattr(data, 'edge_weight', None), gcn=gcn)
    was_training = encoder.training
    encoder.eval()
    try:
        with tqdm(total=encoder.num_layers * ((data.num_nodes + batch_size - 1) // batch_size),
                  desc='embed', disable=None if progress else True,  # None: a terminal only
                  leave=False) as bar:
            return _embed_layers(encoder, data.x, index, batch_size, device, bar)
    finally:
        encoder.train(was_training)


def _embed_layers(encoder: GraphEncoder, x: Tensor, index: NeighborhoodIndex,
                  batch_size: int, device, bar) -> Tensor:
    """The encoder's layer steps, each over batches of target nodes with their in-edges."""
    h, outputs = x, []
    targets = torch.arange(x.size(0))
    for layer in range(encoder.num_layers):
        out = torch.empty(x.size(0), encoder.hidden_channels, dtype=h.dtype)
        for batch in targets.split(batch_size):
            n_id, edge_index, weights = index.subgraph(batch, 1)
            edge_index = edge_index.to(device)
            weights = None if weights is None else weights.to(device)
            if index.gcn:  # the whole graph's normalisation, used as it is
                edge_index, weights = PropagationMatrix(edge_index, weights, n_id.numel(),
                                                        'subgraph-sparse'), None
            out[batch] = encoder.layer(layer, h[n_id].to(device), edge_index,
                                       weights)[:batch.numel()].cpu()
            bar.update()
        h = out
        if encoder.concat_layers:  # otherwise only the last layer's output is kept
            outputs.append(out)
    return torch.cat(outputs, dim=-1) if encoder.concat_layers else h
