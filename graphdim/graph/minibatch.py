r"""Mini-batch node-level DIM (DGI's Reddit setting) and whole-graph inference layer by layer.

:class:`MiniBatchDGI` wraps a :class:`~graphdim.graph.node.DeepGraphInfomax` for batches from
:mod:`graphdim.loaders`: each batch is a subgraph whose first ``B = batch.batch_size`` nodes
are seeds. Per batch, the encoder runs on the subgraph and on its corruption (rows of the
subgraph's ``X`` shuffled), the summary is the readout of the **seed** embeddings only,
:math:`s_b = \sigma(\frac{1}{B}\sum_{i \le B} h_i)`, and the loss is the model's estimator on
the seeds' scores :math:`T(h_i, s_b)` against :math:`T(\tilde h_i, s_b)`.

:func:`layerwise_embed` embeds every node of a graph too large to encode at once: layer by
layer, each layer applied to batches of target nodes with their in-neighbours, reusing the
encoder's own modules (conv, activation, batch norm), so only one layer's output for all nodes
is held at a time (two while a layer runs).
"""
import contextlib
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv
from tqdm.auto import tqdm

from ..loaders import NeighborhoodIndex
from .encoders import GraphEncoder
from .fast import encode, fast_path_applies, operators_from_normalized
from .node import DeepGraphInfomax, graph_inputs


@contextlib.contextmanager
def prenormalized_gcn(encoder: torch.nn.Module, active: bool = True):
    """Within the block, ``GCNConv`` layers take ``edge_weight`` as the final normalised
    adjacency (self-loops included) instead of normalising the subgraph again."""
    convs = [m for m in encoder.modules() if isinstance(m, GCNConv)] if active else []
    saved = [conv.normalize for conv in convs]
    try:
        for conv in convs:
            conv.normalize = False
        yield
    finally:
        for conv, value in zip(convs, saved):
            conv.normalize = value


def uses_gcn(model: DeepGraphInfomax) -> bool:
    """Whether the loader should attach the full-graph GCN normalisation for this model."""
    return any(isinstance(m, GCNConv) for m in model.encoder.modules())


class MiniBatchDGI(torch.nn.Module):
    """DGI trained on sampled subgraphs: corruption and summary computed per batch.

    ``forward(batch)`` (and :meth:`training_loss`) returns the loss, so the module can be
    wrapped in ``DistributedDataParallel``; :meth:`embed` returns the seeds' embeddings.
    The wrapped model is ``self.model`` (its state dict is the one to save).
    """
    def __init__(self, model: DeepGraphInfomax):
        super().__init__()
        self.model = model

    def _encode(self, batch: Data, inputs: tuple) -> Tensor:
        with prenormalized_gcn(self.model.encoder, bool(getattr(batch, 'gcn_normalized', 0))):
            return self.model.encoder(*inputs)[:batch.batch_size]

    def _fast(self, batch: Data) -> bool:
        # DGI's own fast path (graphdim.graph.fast) on the batch: one shared XW for both
        # views, sparse X; the same function as the plain path below.
        return (self.model.fast_path and bool(getattr(batch, 'gcn_normalized', False))
                and getattr(batch, 'edge_weight', None) is not None
                and fast_path_applies(self.model))

    def forward(self, batch: Data) -> Tensor:
        size = batch.batch_size
        if self._fast(batch):
            operators = operators_from_normalized(batch.x, batch.edge_index, batch.edge_weight)
            permutation = self.model.corruption.permutation(batch.num_nodes, batch.x.device)
            pos_z, neg_z = encode(self.model.encoder, operators, permutation)
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
    ``device`` (default: the encoder's). ``index`` reuses a built :class:`NeighborhoodIndex`.
    """
    if not isinstance(encoder, GraphEncoder):
        raise ValueError(f"layer-wise inference needs a graphdim GraphEncoder (its layers are "
                         f"applied one at a time); got {type(encoder).__name__}")
    if batch_size < 1:
        raise ValueError(f"inference batch size must be >= 1; got {batch_size}")
    device = device or next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    gcn = encoder.conv == 'gcn'
    if index is None or index.gcn != gcn:
        index = NeighborhoodIndex(data.edge_index, data.num_nodes,
                                  getattr(data, 'edge_weight', None), gcn=gcn)
    h, outputs = data.x, []
    targets = torch.arange(data.num_nodes)
    steps = encoder.num_layers * ((data.num_nodes + batch_size - 1) // batch_size)
    bar = tqdm(total=steps, desc='embed', disable=not progress, leave=False)
    for layer, (conv, act) in enumerate(zip(encoder.convs, encoder.activations)):
        out = torch.empty(data.num_nodes, encoder.hidden_channels, dtype=h.dtype)
        for batch in targets.split(batch_size):
            n_id, edge_index, weights = index.subgraph(batch, 1)
            args = (h[n_id].to(device), edge_index.to(device))
            if gcn and weights is not None:
                args = args + (weights.to(device), )
            with prenormalized_gcn(conv, gcn):
                z = act(conv(*args)[:batch.numel()])
            if encoder.norms:
                z = encoder.norms[layer](z)
            out[batch] = z.cpu()
            bar.update()
        h = out
        if encoder.concat_layers:
            outputs.append(out)
    bar.close()
    encoder.train(was_training)
    return torch.cat(outputs, dim=-1) if encoder.concat_layers else h
