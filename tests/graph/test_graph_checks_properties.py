"""Property-based tests (Hypothesis) of the graph input checks: valid graphs pass, an
out-of-range or negative node index and non-finite features are always named."""
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from torch_geometric.data import Data

import graphdim as gd

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def graphs(draw):
    num_nodes = draw(st.integers(1, 30))
    num_edges = draw(st.integers(0, 60))
    edges = draw(arrays('int64', (2, num_edges), elements=st.integers(0, num_nodes - 1)))
    features = draw(st.integers(1, 5))
    return Data(x=torch.randn(num_nodes, features), edge_index=torch.from_numpy(edges))


@SETTINGS
@given(data=graphs())
def test_valid_graphs_always_pass_the_checks(data):
    gd.check_graph(data)


@SETTINGS
@given(data=graphs(), excess=st.integers(0, 1000), position=st.integers(0, 10**6))
def test_an_out_of_range_node_index_is_always_named(data, excess, position):
    if data.edge_index.numel() == 0:
        data.edge_index = torch.zeros(2, 1, dtype=torch.long)
    flat = data.edge_index.view(-1)
    flat[position % flat.numel()] = data.num_nodes + excess
    with pytest.raises(gd.GraphInputError, match=f"refers to node {data.num_nodes + excess} "
                                                 f"but the graph has {data.num_nodes} nodes"):
        gd.check_graph(data)


@SETTINGS
@given(data=graphs(), value=st.integers(-1000, -1), position=st.integers(0, 10**6))
def test_a_negative_node_index_is_always_named(data, value, position):
    if data.edge_index.numel() == 0:
        data.edge_index = torch.zeros(2, 1, dtype=torch.long)
    flat = data.edge_index.view(-1)
    flat[position % flat.numel()] = value
    with pytest.raises(gd.GraphInputError, match='negative node index'):
        gd.check_graph(data)


@SETTINGS
@given(data=graphs(), bad=st.sampled_from([float('nan'), float('inf'), -float('inf')]),
       position=st.integers(0, 10**6))
def test_non_finite_features_are_always_rejected(data, bad, position):
    flat = data.x.view(-1)
    flat[position % flat.numel()] = bad
    with pytest.raises(gd.GraphInputError, match='NaN or inf in 1 of'):
        gd.check_graph(data)
