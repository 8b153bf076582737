"""Input checks for graphs: one clear error per problem, naming the problem and the fix.

Run once before training or embedding (not in the inner loop).
"""
import inspect

import torch
from torch import Tensor


class GraphInputError(ValueError):
    """A graph given to graphdim is malformed; the message says what and how to fix it."""


def check_graph(data, require_features: bool = True) -> None:
    """Validate a PyG ``Data``: features, edge index, optional edge weights and masks.

    Raises :class:`GraphInputError` naming the first problem found.
    """
    if data is None or not hasattr(data, 'num_nodes'):
        raise GraphInputError(f"check_graph takes a PyG Data (x, edge_index); got "
                              f"{_describe(data)}")
    x = getattr(data, 'x', None)
    edge_index = getattr(data, 'edge_index', None)
    num_nodes = data.num_nodes
    if x is None:
        if require_features:
            raise GraphInputError("the graph has no node features (data.x is None); add "
                                  "features, e.g. torch_geometric.transforms.OneHotDegree or "
                                  "an identity matrix")
    else:
        if isinstance(x, Tensor) and x.layout != torch.strided:
            raise GraphInputError(f"node features must be a dense tensor; got a {x.layout} "
                                  f"one (convert with data.x = data.x.to_dense())")
        if not isinstance(x, Tensor) or x.dim() != 2:
            raise GraphInputError(f"node features must be a 2-D tensor [num_nodes, "
                                  f"num_features]; got {_describe(x)}")
        if x.dtype != torch.float32:
            raise GraphInputError(f"node features must be floating point, float32 (the "
                                  f"models' parameters are); got {x.dtype} (convert with "
                                  f"data.x = data.x.float())")
        if x.size(0) == 0:
            raise GraphInputError("the graph is empty: it has no nodes")
        if num_nodes is not None and x.size(0) != num_nodes:
            raise GraphInputError(f"node features have {x.size(0)} rows but the graph has "
                                  f"num_nodes={num_nodes}; give one feature row per node")
        if not bool(torch.isfinite(x).all()):
            bad = int((~torch.isfinite(x)).any(dim=1).sum())
            raise GraphInputError(f"node features contain NaN or inf in {bad} of {x.size(0)} "
                                  f"rows; clean or impute them first")
    if num_nodes is None or num_nodes == 0:
        raise GraphInputError("the graph is empty: it has no nodes")
    check_edge_index(edge_index, num_nodes)
    check_edge_weight(getattr(data, 'edge_weight', None), edge_index.size(1))
    for name in ('train_mask', 'val_mask', 'test_mask'):
        mask = getattr(data, name, None)
        if mask is not None and (not isinstance(mask, Tensor) or mask.dtype != torch.bool
                                 or mask.shape != (num_nodes, )):
            raise GraphInputError(f"{name} must be a bool tensor of shape [{num_nodes}] (one "
                                  f"entry per node); got {_describe(mask)}"
                                  + (f" of dtype {mask.dtype}" if isinstance(mask, Tensor)
                                     else ''))


def check_edge_index(edge_index, num_nodes: int) -> None:
    """``edge_index`` a ``[2, num_edges]`` long tensor of node indices in ``[0, num_nodes)``:
    :class:`GraphInputError` naming the problem otherwise."""
    if edge_index is None:
        raise GraphInputError("the graph has no edge_index; give a [2, num_edges] tensor "
                              "(an empty one, torch.empty(2, 0, dtype=torch.long), if edgeless)")
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphInputError(f"edge_index must be a [2, num_edges] tensor; got "
                              f"{_describe(edge_index)} (transpose a [num_edges, 2] list)")
    if edge_index.dtype != torch.long:
        raise GraphInputError(f"edge_index must have dtype torch.long; got {edge_index.dtype} "
                              f"(convert with edge_index.long())")
    check_node_indices(edge_index, num_nodes)


def check_edge_weight(edge_weight, num_edges: int, float32: bool = True) -> None:
    """``edge_weight`` None, or one finite weight ``>= 0`` per edge (float32 where
    ``float32``, else any floating point): :class:`GraphInputError` otherwise."""
    if edge_weight is None:
        return
    if not isinstance(edge_weight, Tensor):
        raise GraphInputError(f"edge_weight must be a tensor with one entry per edge; got "
                              f"{_describe(edge_weight)}")
    if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
        raise GraphInputError(f"edge_weight must have one entry per edge "
                              f"([{num_edges}]); got {list(edge_weight.shape)}")
    if edge_weight.dtype != torch.float32 and (float32 or not edge_weight.is_floating_point()):
        raise GraphInputError(f"edge_weight must be float32; got {edge_weight.dtype} "
                              f"(convert with data.edge_weight = data.edge_weight.float())")
    if not bool(torch.isfinite(edge_weight).all()):
        raise GraphInputError("edge_weight contains NaN or inf")
    if edge_weight.numel() and float(edge_weight.min()) < 0:
        raise GraphInputError(f"edge_weight has negative entries (min "
                              f"{float(edge_weight.min()):g}); GCN normalisation takes "
                              f"square roots of weighted degrees: give weights >= 0")


def check_node_indices(edge_index: Tensor, num_nodes: int) -> None:
    """Every index of ``edge_index`` in ``[0, num_nodes)`` (an index outside crashes sparse
    kernels instead of raising)."""
    if edge_index.numel():
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0:
            raise GraphInputError(f"edge_index has a negative node index ({low}); node "
                                  f"indices must be in [0, {num_nodes})")
        if high >= num_nodes:
            raise GraphInputError(f"edge_index out of range: it refers to node {high} but the "
                                  f"graph has {num_nodes} nodes (indices must be in "
                                  f"[0, {num_nodes}))")


def check_in_channels(model, data) -> None:
    """The feature width of ``data`` against what ``model``'s encoder was built for (a
    graphdim or PyG encoder's ``in_channels``; lazy ``-1`` and unknown widths pass)."""
    encoder = getattr(model, 'encoder', None) or getattr(getattr(model, 'model', None),
                                                         'encoder', None)
    if encoder is None and getattr(model, 'encoders', None):  # multi-view: one per view
        encoder = model.encoders[0]
    expected = getattr(encoder, 'in_channels', None)
    x = getattr(data, 'x', None)
    if isinstance(expected, int) and expected > 0 and isinstance(x, Tensor) and x.dim() == 2 \
            and x.size(1) != expected:
        raise GraphInputError(f"the model's encoder takes {expected} input features but the "
                              f"graph has {x.size(1)} (data.x is {list(x.shape)}); build the "
                              f"model with in_channels={x.size(1)} (data.num_features)")


# The models that pass a graph's edge weights to their encoder (by module: importing them
# here would run the model registry's imports from inside a check).
_WEIGHTED_ENCODER_CALLERS = ('graphdim.graph.models.dgi', 'graphdim.graph.models.ggd',
                             'graphdim.graph.models.graphacl')


def check_encoder_inputs(model, data) -> None:
    """A DGI, GGD or GraphACL model calls its encoder ``(x, edge_index, edge_weight)`` where
    the graph has edge weights: an encoder of PyG's ``(x, edge_index)`` form cannot take them,
    and is refused naming the argument, rather than failing inside the first step."""
    edge_weight = getattr(data, 'edge_weight', None)
    inner = next((m for m in (model, getattr(model, 'model', None))  # or a mini-batch wrapper
                  if any(c.__module__ in _WEIGHTED_ENCODER_CALLERS for c in type(m).__mro__)),
                 None)
    if edge_weight is None or inner is None:
        return
    try:
        signature = inspect.signature(inner.encoder.forward)
    except (TypeError, ValueError):  # no signature to read (a builtin): let it run
        return
    try:
        signature.bind(data.x, data.edge_index, edge_weight)
    except TypeError:
        raise GraphInputError(f"the model's encoder {type(inner.encoder).__name__} takes "
                              f"{_parameters(signature)} but the graph has edge_weight: drop "
                              f"it (del data.edge_weight) or give the encoder's forward an "
                              f"edge_weight argument") from None


def _parameters(signature) -> str:
    return '(' + ', '.join(signature.parameters) + ')'


def shown(value, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters: how a value read from a file or a
    name is displayed (literally, and never a whole 10 MB line)."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {list(value.shape)}"
    return f"a {type(value).__name__}"
