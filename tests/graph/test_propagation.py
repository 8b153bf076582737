"""CachedGCNConv and its matrices: the same encoder output however the graph is given; any
given matrix; the cache of matrices; the model's report of which propagation ran and why."""
import pytest
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm

import graphdim as gd
from graphdim.graph.minibatch import MiniBatchDGI, layerwise_embed
from graphdim.graph.propagation import GraphCache, PropagationMatrix
from graphdim.loaders import node_loader

from test_fast_path import random_graph


def _encoder(in_channels, seed=0, **kwargs):
    torch.manual_seed(seed)
    return gd.GraphEncoder(in_channels, 16, **kwargs)


@pytest.mark.parametrize('sparse_features', [False, True], ids=['dense-x', 'sparse-x'])
def test_every_way_of_giving_the_graph_gives_the_same_encoder_output(sparse_features):
    data = random_graph(120, 32, 400, sparse_features=sparse_features, directed=True,
                        weighted=True, seed=2)
    x, edge_index, weight = data.x, data.edge_index, data.edge_weight
    encoder = _encoder(32, num_layers=2, batch_norm=True, concat_layers=True).eval()
    norm_index, norm_weight = gcn_norm(edge_index, weight, x.size(0), add_self_loops=True)
    encoder.convs[0].fast_path = encoder.convs[1].fast_path = False
    reference = encoder(x, edge_index, weight)  # PyG's GCNConv: message passing
    assert encoder.convs[0].report.name == 'message-passing'
    encoder.convs[0].fast_path = encoder.convs[1].fast_path = True
    outputs = {
        'cached-sparse': encoder(x, edge_index, weight),
        'given edges': encoder(x, PropagationMatrix(norm_index, norm_weight, 120)),
        'given matrix': encoder(x, PropagationMatrix.from_matrix(torch.sparse_coo_tensor(
            norm_index.flip(0), norm_weight, (120, 120)))),
        'layer-wise': layerwise_embed(encoder, data, batch_size=25),
    }
    assert reference.shape == (120, 32)
    for name, output in outputs.items():
        torch.testing.assert_close(output, reference, atol=1e-5, rtol=1e-4, msg=name)


def test_a_shuffled_view_shares_the_first_transform_and_equals_a_plain_encode(monkeypatch):
    data = random_graph(80, 24, 300, sparse_features=True, seed=4)
    encoder = _encoder(24, num_layers=2)
    shuffled = gd.RowShuffle().shuffle(data.x)
    plain = data.x[shuffled.permutation]
    products = []
    conv = encoder.convs[0]
    real = type(conv)._linear
    monkeypatch.setattr(conv, '_linear', lambda x: products.append(1) or real(conv, x))
    clean = encoder(data.x, data.edge_index)
    negative = encoder(shuffled, data.edge_index)
    assert len(products) == 1 and shuffled.pending  # P X never computed, X W computed once
    monkeypatch.undo()
    torch.testing.assert_close(negative, encoder(plain, data.edge_index), atol=1e-5,
                               rtol=1e-4)
    torch.testing.assert_close(clean, encoder(data.x, data.edge_index))
    assert torch.equal(shuffled + 0, plain)  # to any other code it is x[permutation]


def _hand_prelu(h, slope):
    return torch.where(h > 0, h, slope * h)


@pytest.mark.parametrize('layout', ['dense', 'csr'])
def test_any_given_matrix_computes_act_of_s_x_w_plus_b(layout):
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
    out = encoder(x, PropagationMatrix.from_matrix(given))
    h = x
    for conv, act in zip(encoder.convs, encoder.activations):
        h = _hand_prelu(matrix @ (h @ conv.lin.weight.t()) + conv.bias, act.weight)
    torch.testing.assert_close(out, h.detach(), atol=1e-12, rtol=1e-10)
    assert out.dtype == torch.float64


def test_given_matrices_are_refused_where_they_cannot_apply():
    data = random_graph(30, 8, 90)
    matrix = PropagationMatrix.gcn(data.edge_index, None, 30)
    with pytest.raises(ValueError, match='SAGEConv does not use edge weights'):
        _encoder(8, conv='sage')(data.x, matrix)
    with pytest.raises(ValueError, match='square'):
        PropagationMatrix.from_matrix(torch.rand(3, 4))


def test_the_cache_rebuilds_for_other_or_edited_tensors_and_keeps_the_graph():
    data = random_graph(30, 8, 90, weighted=True)
    builds = []
    cache = GraphCache()

    def build(*key):
        builds.append(key)
        return len(builds)
    edge_index, weight = data.edge_index, data.edge_weight
    assert cache.get(build, edge_index, weight, 30) == cache.get(build, edge_index, weight, 30)
    assert len(builds) == 1
    cache.get(build, edge_index.clone(), weight, 30)  # another object: rebuilt ...
    assert cache.get(build, edge_index, weight, 30) == 1  # ... beside the graph's own
    weight.mul_(2.0)  # in place: a new version
    assert cache.get(build, edge_index, weight, 30) == 3 and len(cache) == 2
    assert cache.get(build, edge_index, weight, 31) == 4  # other values too


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
    assert _report(data, x, edge_index, corruption='edge_drop') == ('cached-sparse', None)
    assert _report(data, x, edge_index, encoder='sage') == (
        'message-passing', "encoder 'sage' has no linear-then-propagate form")
    adj_t = torch.sparse_coo_tensor(edge_index.flip(0), torch.ones(edge_index.size(1)),
                                    (40, 40)).to_sparse_csr()
    name, reason = _report(data, x, adj_t)
    assert name == 'message-passing' and reason.startswith('inputs are a sparse')
    model = gd.DeepGraphInfomax(16, gd.GraphEncoder(8, 16), fast_path=False)
    model.embed(data)
    assert (model.propagation.name, model.propagation.reason) == (
        'message-passing', 'fast_path=False')


def test_the_minibatch_model_reports_its_propagation():
    data = random_graph(60, 8, 200)
    torch.manual_seed(0)
    model = MiniBatchDGI(gd.DeepGraphInfomax.from_options(8, 16))
    model(next(iter(node_loader(data, 20, gcn_normalized=True))))
    assert (model.propagation.name, model.propagation.reason) == ('subgraph-sparse', None)
    model(next(iter(node_loader(data, 20, gcn_normalized=False))))  # GCNConv's own
    assert model.propagation.name == 'cached-sparse'  # normalisation, of the subgraph


def test_sparse_times_dense_is_torch_product_bit_for_bit_and_never_reads_its_buffer():
    """The fast product writes into an uninitialised tensor where MKL does the product: the
    values equal ``matrix @ dense`` exactly, and MKL's beta = 0 product must not read what
    the buffer held (a NaN-filled buffer stands for any garbage)."""
    from graphdim.graph.propagation import _MKL_SPARSE, sparse_times_dense
    data = random_graph(150, 24, 600, weighted=True, seed=4)
    matrix = PropagationMatrix.gcn(data.edge_index, data.edge_weight, 150).matrix
    dense = torch.randn(150, 40)
    assert torch.equal(sparse_times_dense(matrix, dense), matrix @ dense)
    if _MKL_SPARSE:
        garbage = torch.full((150, 40), float('nan'))
        assert torch.equal(garbage.addmm_(matrix, dense, beta=0), matrix @ dense)


def test_the_weight_is_pygs_initialisation_kept_column_major_and_survives_save_and_load():
    from torch_geometric.nn import GCNConv
    from graphdim.graph.propagation import CachedGCNConv
    torch.manual_seed(0)
    reference = GCNConv(7, 5)
    torch.manual_seed(0)
    conv = CachedGCNConv(7, 5)
    weight = conv.lin.weight
    assert torch.equal(weight, reference.lin.weight) and weight.t().is_contiguous()
    torch.manual_seed(1)
    conv.reset_parameters()  # again: the same values as PyG's, the same layout
    torch.manual_seed(1)
    reference.reset_parameters()
    assert torch.equal(weight, reference.lin.weight) and weight.t().is_contiguous()
    x, edge_index = torch.rand(6, 7), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    conv(x, edge_index).square().sum().backward()
    assert weight.grad.stride() == weight.stride()  # the gradient lands in its layout
    conv.load_state_dict(reference.state_dict())  # a row-major state dict loads as it is
    assert torch.equal(weight, reference.lin.weight) and weight.t().is_contiguous()
    assert torch.allclose(conv(x, edge_index), reference(x, edge_index), atol=1e-6)
