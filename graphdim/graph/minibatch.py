r"""Mini-batch node-level DIM (DGI's Reddit setting) and whole-graph inference layer by layer.

:class:`MiniBatchDGI` wraps a :class:`~graphdim.graph.models.dgi.DeepGraphInfomax` for batches from
:mod:`graphdim.loaders`: each batch is a subgraph whose first ``B = batch.batch_size`` nodes
are seeds. Per batch, the encoder runs on the subgraph and on its corruption (rows of the
subgraph's ``X`` shuffled), the summary is the readout of the **seed** embeddings only,
:math:`s_b = \sigma(\frac{1}{B}\sum_{i \le B} h_i)`, and the loss is the model's estimator on
the seeds' scores :math:`T(h_i, s_b)` against :math:`T(\tilde h_i, s_b)`.

:func:`layerwise_embed` embeds every node of a graph too large to encode at once: layer by
layer, each layer applied to batches of target nodes with their in-neighbours, reusing the
encoder's own modules (conv, activation, batch norm), so only one layer's output for all nodes
is held at a time (two while a layer runs).

Both run the encoder's one layer loop (:class:`~graphdim.graph.encoders.GraphEncoder`): a
batch over its subgraph's sparse operator or by message passing, layer-wise inference one
layer step at a time over each batch's subgraph.
"""
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv
from tqdm.auto import tqdm

from ..loaders import NeighborhoodIndex
from .encoders import GraphEncoder
from .propagation import (MessagePassing, PropagationReport, SparseOperator, graph_inputs,
                          operator_from_edges, prenormalized_gcn)


def uses_gcn(model: torch.nn.Module) -> bool:
    """Whether the loader should attach the full-graph GCN normalisation for this model."""
    return any(isinstance(m, GCNConv) for m in model.encoder.modules())


class MiniBatchDGI(torch.nn.Module):
    """DGI trained on sampled subgraphs: corruption and summary computed per batch.

    ``forward(batch)`` (and :meth:`training_loss`) returns the loss, so the module can be
    wrapped in ``DistributedDataParallel``; :meth:`embed` returns the seeds' embeddings.
    The wrapped model is ``self.model`` (its state dict is the one to save). After each batch
    ``self.propagation`` says which propagation ran and, if not the sparse one, why.
    """
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.propagation: Optional[PropagationReport] = None

    def _encode(self, batch: Data, inputs: tuple) -> Tensor:
        with prenormalized_gcn(self.model.encoder, bool(getattr(batch, 'gcn_normalized', 0))):
            return self.model.encoder(*inputs)[:batch.batch_size]

    def _batch_operator(self, batch: Data) -> Optional[SparseOperator]:
        """The batch's subgraph as a sparse operator (its weights already are the whole
        graph's :math:`\\hat A`), or None where message passing runs; records which, and
        why, in ``self.propagation``."""
        reason = self.model.sparse_blocker()
        if reason is None and not (getattr(batch, 'gcn_normalized', False)
                                   and getattr(batch, 'edge_weight', None) is not None):
            reason = ("the batch carries no full-graph GCN normalisation (a loader with "
                      "gcn_normalized=False, or fan-out sampling)")
        if reason is not None:
            self.propagation = PropagationReport('message-passing', reason)
            return None
        operator = operator_from_edges(batch.x, batch.edge_index, batch.edge_weight,
                                       name='subgraph-sparse')
        self.propagation = PropagationReport(operator.name)
        return operator

    def forward(self, batch: Data) -> Tensor:
        size = batch.batch_size
        operator = self._batch_operator(batch)
        if operator is not None:
            permutation = self.model.corruption.permutation(batch.num_nodes, batch.x.device)
            pos_z, neg_z = self.model.encoder.encode_views(batch.x, operator, permutation)
            pos_z, neg_z = pos_z[:size], neg_z[:size]
        else:
            inputs = graph_inputs(batch)
            pos_z = self._encode(batch, inputs)
            corrupted = self.model.corruption(*inputs)
            neg_z = self._encode(batch, corrupted if isinstance(corrupted, tuple)
                                 else (corrupted, *inputs[1:]))
        return self.model.loss(pos_z, neg_z, self.model.summary(pos_z))

    def training_loss(self, batch: Data) -> Tensor:
        return self(batch)

    @torch.no_grad()
    def embed(self, batch: Data) -> Tensor:
        return self._encode(batch, graph_inputs(batch))


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
            subgraph = MessagePassing(edge_index.to(device),
                                      None if weights is None else weights.to(device),
                                      normalized=index.gcn, num_targets=batch.numel())
            out[batch] = encoder.layer(layer, h[n_id].to(device), subgraph).cpu()
            bar.update()
        h = out
        if encoder.concat_layers:  # otherwise only the last layer's output is kept
            outputs.append(out)
    return torch.cat(outputs, dim=-1) if encoder.concat_layers else h
