"""Diffusion matrices (PPR, heat) against a dense float64 reference from T's eigenvectors."""
import math

import pytest
import torch

from graphdim.graph.diffusion import diffusion_matrix
from conftest import random_graph


def _reference(edge_index, num_nodes, method, alpha=0.2, t=5.0):
    """S = V f(lambda) V^T with T = D^-1/2 (A + I) D^-1/2 built densely by hand."""
    a = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    a[edge_index[1], edge_index[0]] = 1.0
    a += torch.eye(num_nodes, dtype=torch.float64)
    d = a.sum(1).rsqrt()
    transition = d[:, None] * a * d[None, :]
    lam, vec = torch.linalg.eigh(transition)
    f = alpha / (1 - (1 - alpha) * lam) if method == 'ppr' else torch.exp(-t * (1 - lam))
    return vec @ torch.diag(f) @ vec.t()


@pytest.mark.parametrize('method', ['ppr', 'heat'])
@pytest.mark.parametrize('exact', [True, False])
def test_diffusion_matches_the_dense_reference(method, exact):
    graph = random_graph(num_nodes=40, num_edges=90, seed=3)
    expected = _reference(graph.edge_index, 40, method)
    s = diffusion_matrix(graph.edge_index, 40, method, exact_max_nodes=40 if exact else 0,
                         eps=0.0, block_size=16)
    assert s.is_sparse and s.shape == (40, 40)
    assert torch.allclose(s.to_dense().double(), expected, atol=2e-5, rtol=0)


def test_top_k_keeps_each_columns_largest_entries():
    graph = random_graph(num_nodes=30, num_edges=60, seed=1)
    dense = _reference(graph.edge_index, 30, 'ppr')
    s = diffusion_matrix(graph.edge_index, 30, 'ppr', top_k=5).to_dense()
    assert ((s != 0).sum(0) == 5).all()
    for column in range(30):
        kept = set(torch.nonzero(s[:, column]).flatten().tolist())
        assert kept == set(dense[:, column].topk(5).indices.tolist())
    series = diffusion_matrix(graph.edge_index, 30, 'ppr', top_k=5, exact_max_nodes=0)
    assert torch.allclose(series.to_dense(), s, atol=2e-5)


def test_eps_threshold_and_the_dense_guard():
    graph = random_graph(num_nodes=30, num_edges=60, seed=2)
    s = diffusion_matrix(graph.edge_index, 30, 'heat', eps=1e-2).coalesce()
    assert float(s.values().min()) >= 1e-2
    with pytest.raises(ValueError, match='dense.*top_k.*eps'):
        diffusion_matrix(graph.edge_index, 30, 'ppr', exact_max_nodes=10)
    with pytest.raises(ValueError, match="unknown diffusion 'katz'"):
        diffusion_matrix(graph.edge_index, 30, 'katz')
    with pytest.raises(ValueError, match="alpha must be in"):
        diffusion_matrix(graph.edge_index, 30, 'ppr', alpha=1.5)
    assert math.isfinite(float(s.values().sum()))


@pytest.mark.parametrize('method', ['ppr', 'heat'])
def test_diffusion_matches_pyg_gdc(method):
    # PyG's GDC (Klicpera et al.), dense exact diffusion with symmetric self-loop
    # normalisation: the same matrix, computed independently.
    from torch_geometric.transforms import GDC
    graph = random_graph(num_nodes=25, num_edges=50, seed=4)
    kwargs = {'alpha': 0.2} if method == 'ppr' else {'t': 5.0}
    from torch_geometric.utils import add_self_loops
    loops, _ = add_self_loops(graph.edge_index, num_nodes=25)
    gdc = GDC()
    index, weight = gdc.transition_matrix(loops, torch.ones(loops.size(1), dtype=torch.float64),
                                          25, 'sym')
    expected = gdc.diffusion_matrix_exact(index, weight, 25, method, **kwargs)
    s = diffusion_matrix(graph.edge_index, 25, method, eps=0.0)
    assert torch.allclose(s.to_dense().double(), expected.t(), atol=1e-6, rtol=0)


def test_diffusion_view_adds_weighted_edges_that_batch_like_edge_index():
    from torch_geometric.data import Batch
    from graphdim import DiffusionView
    graphs = [random_graph(num_nodes=n, num_edges=2 * n, seed=n) for n in (6, 9)]
    viewed = [DiffusionView('ppr', eps=0.0)(g) for g in graphs]
    for graph, view in zip(graphs, viewed):
        dense = torch.zeros(graph.num_nodes, graph.num_nodes, dtype=torch.float64)
        dense[view.diffusion_index[1], view.diffusion_index[0]] = view.diffusion_weight.double()
        assert torch.allclose(dense, _reference(graph.edge_index, graph.num_nodes, 'ppr'),
                              atol=1e-5)
        assert not hasattr(graph, 'diffusion_index')  # the transform does not edit its input
    batch = Batch.from_data_list(viewed)
    first = viewed[0].diffusion_index.size(1)
    assert torch.equal(batch.diffusion_index[:, first:], viewed[1].diffusion_index + 6)
