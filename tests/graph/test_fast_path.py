"""CachedGCNConv's fast path (cached normalised matrix, sparse features, shared first
transform) computes the same function as PyG's message passing: losses, gradients,
embeddings."""
import copy

import pytest
import torch
from torch_geometric.data import Data

import graphdim
from graphdim.graph.corruptions import PermutedRows
from graphdim.graph.encoders import _PReLU, PReLU
from graphdim.graph.propagation import PropagationReport, _sparse_features


def random_graph(num_nodes=300, num_features=64, num_edges=1500, sparse_features=False,
                 directed=False, weighted=False, seed=0):
    generator = torch.Generator().manual_seed(seed)
    if sparse_features:  # binary bag-of-words at ~2% density
        x = (torch.rand(num_nodes, num_features, generator=generator) < 0.02).float()
    else:
        x = torch.randn(num_nodes, num_features, generator=generator)
    edge_index = torch.randint(num_nodes, (2, num_edges), generator=generator)
    if not directed:
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    edge_weight = (torch.rand(edge_index.size(1), generator=generator) + 0.1) if weighted \
        else None
    return Data(x=x, edge_index=edge_index, edge_weight=edge_weight)


def loss_and_grads(model, data, seed, propagation):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    loss = model.training_loss(data)
    assert model.propagation.name == propagation, model.propagation
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def assert_same_function(model, data, seed=1, rtol=1e-4):
    fast_loss, fast_grads = loss_and_grads(model, data, seed, 'cached-sparse')
    model.fast_path = False
    plain_loss, plain_grads = loss_and_grads(model, data, seed, 'message-passing')
    assert model.propagation.reason == 'fast_path=False'
    model.fast_path = True
    torch.testing.assert_close(fast_loss, plain_loss, rtol=rtol, atol=1e-6)
    for name, grad in plain_grads.items():
        scale = grad.abs().max().clamp(min=1e-8)
        assert float((fast_grads[name] - grad).abs().max() / scale) < rtol, name


@pytest.mark.parametrize('sparse_features', [False, True], ids=['dense-x', 'sparse-x'])
@pytest.mark.parametrize('num_layers,activation', [(1, 'prelu'), (2, 'prelu'), (2, 'relu')])
def test_fast_and_plain_paths_give_equal_losses_and_gradients(sparse_features, num_layers,
                                                              activation):
    data = random_graph(sparse_features=sparse_features)
    torch.manual_seed(0)
    model = graphdim.DeepGraphInfomax.from_options(data.num_features, 32, num_layers=num_layers,
                                                   activation=activation)
    # the two feature layouts really take the two code paths
    assert (_sparse_features(data.x) is not None) == sparse_features
    assert_same_function(model, data)


@pytest.mark.parametrize('directed,weighted', [(True, False), (False, True), (True, True)])
def test_equal_on_directed_and_weighted_graphs(directed, weighted):
    # A directed graph makes the normalised adjacency asymmetric, so the backward pass must
    # use its transpose.
    data = random_graph(directed=directed, weighted=weighted, sparse_features=True, seed=3)
    torch.manual_seed(0)
    model = graphdim.DeepGraphInfomax.from_options(data.num_features, 16, num_layers=2)
    assert_same_function(model, data)


@pytest.mark.parametrize('estimator', graphdim.MEASURES)
def test_equal_for_every_estimator_and_readout(estimator):
    data = random_graph(seed=5)
    for readout in ('sigmoid_mean', 'mean', 'max'):
        torch.manual_seed(0)
        model = graphdim.DeepGraphInfomax.from_options(data.num_features, 16, summary=readout,
                                                       estimator=estimator)
        assert_same_function(model, data)


def test_equal_with_isolated_nodes_and_self_loops():
    data = random_graph(num_nodes=200, num_edges=100, seed=7)  # many isolated nodes
    data.edge_index = torch.cat([data.edge_index, torch.arange(10).repeat(2, 1)], dim=1)
    torch.manual_seed(0)
    model = graphdim.DeepGraphInfomax.from_options(data.num_features, 16)
    assert_same_function(model, data)


def test_fast_embeddings_equal_plain_embeddings():
    data = random_graph(sparse_features=True)
    torch.manual_seed(0)
    model = graphdim.DeepGraphInfomax.from_options(data.num_features, 32, num_layers=2)
    fast_z = graphdim.embed(model, data)
    plain = copy.deepcopy(model)
    plain.fast_path = False
    torch.testing.assert_close(fast_z, graphdim.embed(plain, data), rtol=1e-5, atol=1e-6)


def test_cache_is_rebuilt_when_the_graph_changes_in_place():
    data = random_graph(sparse_features=True, weighted=True)
    torch.manual_seed(0)
    model = graphdim.DeepGraphInfomax.from_options(data.num_features, 16)
    model.training_loss(data)
    cache = model.encoder.convs[0].graph_cache
    first = cache.latest
    data.edge_weight.mul_(2.0)  # in place: same tensor object, new version counter
    assert_same_function(model, data)
    assert cache.latest is not first
    same = cache.latest
    data.x.mul_(2.0)  # the features held as CSR are rebuilt too: a stale copy fails here
    assert_same_function(model, data)
    assert cache.latest is same  # the graph is unchanged: its matrix is reused


def test_fast_path_gives_the_plain_function_for_any_corruption_summary_or_input():
    data = random_graph(sparse_features=True)
    models = {
        'edge_drop': graphdim.DeepGraphInfomax.from_options(data.num_features, 16,
                                                            corruption='edge_drop'),
        'feature_mask': graphdim.DeepGraphInfomax.from_options(data.num_features, 16,
                                                               corruption='feature_mask'),
        'pyg_style': graphdim.DeepGraphInfomax(
            16, graphdim.GraphEncoder(data.num_features, 16),
            summary=lambda z, *args, **kwargs: z.mean(dim=0).sigmoid(),
            corruption=lambda x, edge_index: (x[torch.randperm(x.size(0))], edge_index))}
    for name, model in models.items():
        assert_same_function(model, data)
    # an edge-dropped copy does not evict the graph's own matrix
    cache = models['edge_drop'].encoder.convs[0].graph_cache
    models['edge_drop'](data.x, data.edge_index)
    rebuilt = []
    cache.get(lambda *key: rebuilt.append(key), data.edge_index, None, 300, torch.float32)
    assert len(cache) == 2 and not rebuilt
    # features that need gradients get them on the fast path too
    grads = []
    for fast in (True, False):
        torch.manual_seed(0)
        model = graphdim.DeepGraphInfomax.from_options(data.num_features, 16, num_layers=2)
        model.fast_path = fast
        x = data.x.clone().requires_grad_()
        torch.manual_seed(1)
        model.loss(*model(x, data.edge_index)).backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-7)


def test_fast_path_is_skipped_where_the_matrix_cannot_be_a_constant_or_a_gcn_one():
    data = random_graph()
    sage = graphdim.DeepGraphInfomax.from_options(data.num_features, 16, encoder='sage')
    sage(data.x, data.edge_index)
    assert sage.propagation == PropagationReport(
        'message-passing', "encoder 'sage' has no linear-then-propagate form")
    model = graphdim.DeepGraphInfomax.from_options(data.num_features, 16)
    weight = torch.rand(data.edge_index.size(1), requires_grad=True)
    model(data.x, data.edge_index, weight)
    assert model.propagation.name == 'message-passing'
    assert 'requires gradients' in model.propagation.reason


def test_permutation_and_prelu_functions_pass_gradcheck():
    torch.manual_seed(0)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    shuffled = PermutedRows(x.detach(), torch.randperm(6))
    assert torch.autograd.gradcheck(shuffled.of, (x, ))
    assert torch.equal(shuffled.of(x), x[shuffled.permutation])
    weight = torch.full((3, ), 0.25, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_PReLU.apply, (x, weight))
    shared = torch.full((1, ), 0.1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_PReLU.apply, (x, shared))
    prelu = PReLU(3)
    assert isinstance(prelu, torch.nn.PReLU) and set(prelu.state_dict()) == {'weight'}
    h = torch.randn(20, 3)
    torch.testing.assert_close(prelu(h), torch.nn.functional.prelu(h, prelu.weight))
