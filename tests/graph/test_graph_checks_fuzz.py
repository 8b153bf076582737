"""Property-based fuzz of ``check_graph`` (issue 24): any graph is accepted or refused with a
GraphInputError naming the problem."""
import torch
from hypothesis import given, strategies as st
from torch_geometric.data import Data

from helpers import FUZZ
from graphdim.graph.checks import GraphInputError, check_graph


@FUZZ
@given(num_nodes=st.integers(0, 5), width=st.integers(0, 3),
       x_dtype=st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool,
                                torch.float16, None]),
       edges=st.lists(st.integers(-2, 6), max_size=8),
       edge_dtype=st.sampled_from([torch.long, torch.int32, torch.float32]),
       weight=st.one_of(st.none(), st.lists(st.floats(-1, 2) | st.sampled_from(
           [float('nan'), float('inf')]), max_size=8)),
       nan=st.booleans())
def test_check_graph_accepts_or_names_the_problem(num_nodes, width, x_dtype, edges,
                                                  edge_dtype, weight, nan):
    x = None if x_dtype is None else torch.ones(num_nodes, width).to(x_dtype)
    if nan and x is not None and x.numel() and x.is_floating_point():
        x[0, 0] = float('nan')
    edges = edges[:len(edges) // 2 * 2]
    edge_index = torch.tensor(edges, dtype=edge_dtype).view(2, -1)
    data = Data(x=x, edge_index=edge_index, num_nodes=num_nodes)
    if weight is not None:
        data.edge_weight = torch.tensor(weight, dtype=torch.float32)
    try:
        check_graph(data)
    except GraphInputError as error:
        assert str(error)
        return
    assert x.dtype == torch.float32 and bool(torch.isfinite(x).all())
    assert edge_index.numel() == 0 or 0 <= int(edge_index.min()) <= int(edge_index.max()) < \
        num_nodes
