"""Propagation backends: one encoder loop, the same function over each; any given operator;
the model's report of which propagation ran and why."""
import pytest
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm

import graphdim as gd
from graphdim.graph.minibatch import MiniBatchDGI, layerwise_embed
from graphdim.graph.propagation import (MessagePassing, gcn_operator, operator_from_edges,
                                        operator_from_matrix)
from graphdim.loaders import node_loader

from test_fast_path import random_graph


def _encoder(in_channels, seed=0, **kwargs):
    torch.manual_seed(seed)
    return gd.GraphEncoder(in_channels, 16, **kwargs)


@pytest.mark.parametrize('sparse_features', [False, True], ids=['dense-x', 'sparse-x'])
def test_every_backend_gives_the_same_encoder_output(sparse_features):
    data = random_graph(120, 32, 400, sparse_features=sparse_features, directed=True,
                        weighted=True, seed=2)
    x, edge_index, weight = data.x, data.edge_index, data.edge_weight
    encoder = _encoder(32, num_layers=2, batch_norm=True, concat_layers=True).eval()
    norm_index, norm_weight = gcn_norm(edge_index, weight, x.size(0), add_self_loops=True)
    reference = encoder(x, edge_index, weight)  # PyG message passing, normalised by GCNConv
    outputs = {
        'cached-sparse': encoder.encode(x, gcn_operator(x, edge_index, weight)),
        'given edges': encoder.encode(x, operator_from_edges(x, norm_index, norm_weight)),
        'given matrix': encoder.encode(x, operator_from_matrix(torch.sparse_coo_tensor(
            norm_index.flip(0), norm_weight, (120, 120)), x)),
        'prenormalised subgraph': encoder.encode(
            x, MessagePassing(norm_index, norm_weight, normalized=True)),
        'layer-wise': layerwise_embed(encoder, data, batch_size=25),
    }
    assert reference.shape == (120, 32)
    for name, output in outputs.items():
        torch.testing.assert_close(output, reference, atol=1e-5, rtol=1e-4, msg=name)


def test_views_share_the_first_transform_and_equal_two_plain_encodes():
    data = random_graph(80, 24, 300, sparse_features=True, seed=4)
    encoder = _encoder(24, num_layers=2)
    permutation = torch.randperm(80, generator=torch.Generator().manual_seed(1))
    operator = gcn_operator(data.x, data.edge_index)
    assert operator.shares_first_transform and operator.features_t is not None
    message_passing = MessagePassing(data.edge_index)
    assert not message_passing.shares_first_transform
    for propagation in (operator, message_passing):
        clean, shuffled = encoder.encode_views(data.x, propagation, permutation)
        torch.testing.assert_close(clean, encoder(data.x, data.edge_index), atol=1e-5,
                                   rtol=1e-4)
        torch.testing.assert_close(shuffled, encoder(data.x[permutation], data.edge_index),
                                   atol=1e-5, rtol=1e-4)


def _hand_prelu(h, slope):
    return torch.where(h > 0, h, slope * h)


@pytest.mark.parametrize('layout', ['dense', 'csr'])
def test_any_given_operator_computes_act_of_s_x_w_plus_b(layout):
    """A dense random row-stochastic S: H1 = PReLU(S X W1 + b1), H2 = PReLU(S H1 W2 + b2)."""
    generator = torch.Generator().manual_seed(0)
    matrix = torch.rand(40, 40, generator=generator, dtype=torch.float64)
    matrix = matrix / matrix.sum(dim=1, keepdim=True)
    x = torch.randn(40, 6, generator=generator, dtype=torch.float64)
    encoder = _encoder(6, num_layers=2).double()
    with torch.no_grad():  # non-default slopes and biases, so both are really tested
        for conv, act in zip(encoder.convs, encoder.activations):
            conv.bias.normal_(generator=generator)
            act.weight.uniform_(0.1, 0.9, generator=generator)
    given = matrix.to_sparse_csr() if layout == 'csr' else matrix
    out = encoder.encode(x, operator_from_matrix(given, x))
    h = x
    for conv, act in zip(encoder.convs, encoder.activations):
        h = _hand_prelu(matrix @ (h @ conv.lin.weight.t()) + conv.bias, act.weight)
    torch.testing.assert_close(out, h.detach(), atol=1e-12, rtol=1e-10)
    assert out.dtype == torch.float64


def test_sparse_operator_and_message_passing_reject_what_they_cannot_compute():
    data = random_graph(30, 8, 90)
    sage = _encoder(8, conv='sage')
    with pytest.raises(ValueError, match='SAGEConv has no linear-then-propagate form'):
        sage.encode(data.x, gcn_operator(data.x, data.edge_index))
    with pytest.raises(ValueError, match='precomputed first transform'):
        _encoder(8).encode(data.x, MessagePassing(data.edge_index), transformed=True)
    with pytest.raises(ValueError, match='square'):
        operator_from_matrix(torch.rand(3, 4))


def test_the_cache_holds_its_inputs_and_sees_in_place_edits():
    data = random_graph(30, 8, 90, weighted=True)
    operator = gcn_operator(data.x, data.edge_index, data.edge_weight)
    assert operator.matches(data.x, data.edge_index, data.edge_weight)
    assert not operator.matches(data.x.clone(), data.edge_index, data.edge_weight)
    assert not operator.matches(data.x, data.edge_index, None)
    data.edge_weight.mul_(2.0)
    assert not operator.matches(data.x, data.edge_index, data.edge_weight)


# ------------------------------------------------------------------ which propagation ran
def _report(data, *inputs, **options):
    torch.manual_seed(0)
    model = gd.DeepGraphInfomax.from_options(data.num_features, 16, **options)
    model(*inputs)
    return model.propagation.name, model.propagation.reason


def test_the_model_reports_which_propagation_ran_and_why():
    data = random_graph(40, 8, 120)
    x, edge_index = data.x, data.edge_index
    assert _report(data, x, edge_index) == ('cached-sparse', None)
    assert _report(data, x, edge_index, encoder='sage') == (
        'message-passing', "encoder 'sage' has no linear-then-propagate form")
    assert _report(data, x, edge_index, corruption='edge_drop') == (
        'message-passing', 'corruption EdgeDrop changes the graph')
    assert _report(data, x, edge_index, corruption='feature_mask') == (
        'message-passing', 'corruption FeatureMask is not a row shuffle')
    adj_t = torch.sparse_coo_tensor(edge_index.flip(0), torch.ones(edge_index.size(1)),
                                    (40, 40)).to_sparse_csr()
    name, reason = _report(data, x, adj_t)
    assert name == 'message-passing' and reason.startswith('inputs are a sparse')
    model = gd.DeepGraphInfomax(16, gd.GraphEncoder(8, 16), fast_path=False)
    model.embed(data)
    assert (model.propagation.name, model.propagation.reason) == (
        'message-passing', 'fast_path=False')
    model = gd.DeepGraphInfomax(16, gd.GraphEncoder(8, 16), summary=lambda z, *a, **k: z.mean(0))
    model(x, edge_index)
    assert model.propagation.reason == ('summary <lambda> is not a graphdim Readout (it may '
                                        'read the inputs)')


def test_the_minibatch_model_reports_its_propagation():
    data = random_graph(60, 8, 200)
    torch.manual_seed(0)
    model = MiniBatchDGI(gd.DeepGraphInfomax.from_options(8, 16))
    model(next(iter(node_loader(data, 20, gcn_normalized=True))))
    assert (model.propagation.name, model.propagation.reason) == ('subgraph-sparse', None)
    model(next(iter(node_loader(data, 20, gcn_normalized=False))))
    assert model.propagation.name == 'message-passing'
    assert 'no full-graph GCN normalisation' in model.propagation.reason
