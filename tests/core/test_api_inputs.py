"""The Python API names the argument it cannot take (issue 37, cause 13): a ValueError with
the fix, where a TypeError, RuntimeError or NotImplementedError from deep inside torch came."""
import networkx as nx
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv

import graphdim as gd
from graphdim.eval.linear import _FIRST_ORDER_BELOW, fit_logistic_regression, linear_probe
from graphdim.graph.reinforcement import reinforce

EDGES = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])


def _graph(**extra):
    return Data(x=torch.rand(6, 4), edge_index=EDGES, **extra)


def _model():
    return gd.DeepGraphInfomax.from_options(4, 8)


@pytest.mark.parametrize('hidden, message', [
    (8.5, r'hidden_channels must be an integer >= 1; got 8\.5'),
    (True, r'hidden_channels must be an integer >= 1; got True'),
    (2 ** 40, r'hidden_channels=1099511627776 .* GiB of weights, more than the .* available'),
])
def test_hidden_channels_that_make_no_encoder(hidden, message):
    with pytest.raises(ValueError, match=message):
        gd.DeepGraphInfomax.from_options(4, hidden)


@pytest.mark.parametrize('data, got', [(None, 'None'),
                                       (torch.rand(6, 4), r'a tensor of shape \[6, 4\]'),
                                       ('graph.txt', 'a str')])
@pytest.mark.parametrize('entry', ['fit', 'embed'])
def test_data_that_is_no_graph(entry, data, got):
    call = (lambda: gd.fit(_model(), data, epochs=1, progress=False)) if entry == 'fit' \
        else (lambda: gd.embed(_model(), data))
    with pytest.raises(ValueError, match=r'data must be a PyG Data .*; got ' + got):
        call()


@pytest.mark.parametrize('convert, message', [
    (lambda m: m.double(), r'parameters are torch\.float64.*model\.float\(\)'),
    (lambda m: m.half(), r'parameters are torch\.float16.*model\.float\(\)'),
    (lambda m: m.to('meta'), r'meta device.*to_empty'),
])
@pytest.mark.parametrize('entry', ['fit', 'embed'])
def test_a_model_not_in_float32_values(entry, convert, message):
    model = convert(_model())
    call = (lambda: gd.fit(model, _graph(), epochs=1, progress=False)) if entry == 'fit' \
        else (lambda: gd.embed(model, _graph()))
    with pytest.raises(ValueError, match=message):
        call()


def test_a_model_that_is_no_model():
    with pytest.raises(ValueError, match=r'model must be a torch\.nn\.Module with '
                                         r'training_loss'):
        gd.fit(None, _graph(), epochs=1, progress=False)


class _PygEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = GCNConv(4, 8)

    def forward(self, x, edge_index):
        return self.conv(x, edge_index)


@pytest.mark.parametrize('entry', ['fit', 'embed'])
def test_a_pyg_encoder_given_edge_weights_is_named(entry):
    model = gd.DeepGraphInfomax(8, _PygEncoder())
    data = _graph(edge_weight=torch.rand(5))
    call = (lambda: gd.fit(model, data, epochs=1, progress=False)) if entry == 'fit' \
        else (lambda: gd.embed(model, data))
    with pytest.raises(ValueError, match=r'encoder _PygEncoder takes \(x, edge_index\) but '
                                         r'the graph has edge_weight'):
        call()
    del data.edge_weight
    call()  # without weights the same encoder runs


def _probe_data(scale=1.0):
    gd.seed_everything(0)
    labels = torch.arange(60) % 2
    embeddings = (torch.randn(60, 4) + 3 * labels[:, None]) * scale
    return embeddings, labels, gd.random_split(labels, 0, 0.4, 0.3)


def test_sparse_embeddings_to_the_probe():
    embeddings, labels, split = _probe_data()
    with pytest.raises(ValueError, match=r'dense tensors; got torch\.sparse_coo'):
        linear_probe(embeddings.to_sparse(), labels, split)


@pytest.mark.parametrize('scale', [1e-12, 1e-30])
def test_the_probe_on_tiny_embeddings(scale):
    """float32 L-BFGS overflowed below ~1e-10. At 1e-12 the L2-normalised probe sees the
    directions the unit-scale one does, and validation chooses it; at 1e-30 (below
    normalisation's 1e-12 floor) no probe sees them, and the result is still a score."""
    tiny = linear_probe(*_probe_data(scale))
    assert 0.0 <= tiny.test_score <= 1.0
    if scale > 1e-20:
        unit = linear_probe(*_probe_data(1.0), normalizations=('l2', ))
        assert tiny.normalization == 'l2' and tiny.test_score == unit.test_score


def test_the_first_order_solution_where_the_penalty_dominates():
    """Just above the threshold L-BFGS solves the fit, just below the first-order form: the
    weights, divided by C, agree to the form's error (~C n max|x|^2); and 1e-12 embeddings in
    float32 get W = C (Y - 1/2)^T X (two balanced classes: the bias-only fit is uniform)."""
    x, y, _ = _probe_data()
    x = x.double() / x.abs().max()
    weights = [fit_logistic_regression(x, y, 2, c, tolerance=1e-12)[0] / c
               for c in (_FIRST_ORDER_BELOW / 60 * 1.01, _FIRST_ORDER_BELOW / 60 * 0.99)]
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-6, atol=0)
    tiny = (x * 1e-12).float()
    weight, bias = fit_logistic_regression(tiny, y, 2, 0.01)
    expected = 0.01 * (torch.nn.functional.one_hot(y, 2).double() - 0.5).t() @ tiny.double()
    torch.testing.assert_close(weight.double(), expected, rtol=1e-4, atol=0)
    torch.testing.assert_close(bias, torch.zeros(2), atol=1e-6, rtol=0)


@pytest.mark.parametrize('scores, got', [
    ((torch.tensor([1, 2]), torch.tensor([0, 1])), 'a torch.int64 tensor'),
    (([1.0, 2.0], [0.0, 1.0]), 'a list'),
])
def test_mi_loss_on_integer_tensors_or_lists(scores, got):
    with pytest.raises(ValueError, match=r'pos_scores must be a floating-point tensor; got '
                                         + got):
        gd.mi_loss(*scores)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_reinforce_in_half_precision(dtype):
    z = torch.randn(6, 4)
    smoothed = reinforce(z.to(dtype), EDGES, 2)
    assert smoothed.dtype == dtype
    torch.testing.assert_close(smoothed.float(), reinforce(z, EDGES, 2), rtol=0.02, atol=0.02)


@pytest.mark.parametrize('name', [42, None, ['cora']])
def test_load_node_dataset_of_no_name(name):
    with pytest.raises(ValueError, match=r'name must be a dataset name'):
        gd.load_node_dataset(name)


def test_from_networkx_with_list_valued_labels():
    graph = nx.path_graph(4)
    nx.set_node_attributes(graph, {n: [n % 2] for n in graph}, 'club')
    with pytest.raises(gd.GraphInputError, match=r"label attribute 'club' must hold one class "
                                                 r"per node .*found \[0\] \(a list\)"):
        gd.from_networkx(graph, label_attribute='club', missing_features='ones')
