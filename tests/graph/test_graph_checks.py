"""Input checks: one clear GraphInputError per malformed graph, before any training."""
import pytest
import torch
from torch_geometric.data import Data

import graphdim
import graphdim.experiments.node
from graphdim import GraphInputError, NodeConfig, check_graph, cli, run_node_experiment
from graphdim.data import NodeDataset, karate_club

from conftest import random_graph

EDGES = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
PATH_OF_3 = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # 0 - 1 - 2, both directions


def graph(**overrides):
    values = {'x': torch.randn(4, 3), 'edge_index': EDGES}
    values.update(overrides)
    return Data(**{k: v for k, v in values.items() if v is not None})


def test_valid_graphs_pass():
    check_graph(graph())
    check_graph(graph(edge_index=torch.empty(2, 0, dtype=torch.long)))  # edgeless
    check_graph(graph(edge_weight=torch.rand(4)))
    check_graph(random_graph())
    check_graph(karate_club())
    check_graph(Data(edge_index=EDGES, num_nodes=4), require_features=False)


def test_graph_input_error_is_a_value_error():
    assert issubclass(GraphInputError, ValueError)


def test_edge_index_out_of_range_names_the_node_count():
    bad = graph(edge_index=torch.tensor([[0, 1, 7], [1, 2, 0]]))
    with pytest.raises(GraphInputError, match=r'out of range.*node 7.*4 nodes'):
        check_graph(bad)


def test_negative_edge_index():
    with pytest.raises(GraphInputError, match=r'negative node index \(-1\)'):
        check_graph(graph(edge_index=torch.tensor([[0, -1], [1, 2]])))


def test_float_edge_index_dtype():
    with pytest.raises(GraphInputError, match=r'torch\.long.*torch\.float32'):
        check_graph(graph(edge_index=EDGES.float()))


def test_edge_index_transposed_shape():
    with pytest.raises(GraphInputError, match=r'\[2, num_edges\].*\[4, 2\].*transpose'):
        check_graph(graph(edge_index=EDGES.t().contiguous()))


def test_edge_index_missing():
    with pytest.raises(GraphInputError, match='no edge_index'):
        check_graph(graph(edge_index=None))


@pytest.mark.parametrize('value, rows', [(float('nan'), 1), (float('inf'), 1),
                                         (float('-inf'), 1)])
def test_non_finite_features(value, rows):
    x = torch.randn(4, 3)
    x[2, 1] = value
    with pytest.raises(GraphInputError, match=rf'NaN or inf in {rows} of 4 rows'):
        check_graph(graph(x=x))


@pytest.mark.parametrize('x', [torch.randn(4), torch.randn(4, 3, 2)])
def test_features_not_two_dimensional(x):
    with pytest.raises(GraphInputError, match='2-D'):
        check_graph(graph(x=x))


@pytest.mark.parametrize('dtype', [torch.long, torch.int32, torch.bool])
def test_integer_features(dtype):
    with pytest.raises(GraphInputError, match=r'floating point.*\.float\(\)'):
        check_graph(graph(x=torch.ones(4, 3, dtype=dtype)))


def test_no_features():
    with pytest.raises(GraphInputError, match=r'no node features.*OneHotDegree'):
        check_graph(Data(edge_index=EDGES, num_nodes=4))


def test_empty_graph():
    empty = Data(x=torch.empty(0, 3), edge_index=torch.empty(2, 0, dtype=torch.long))
    with pytest.raises(GraphInputError, match='empty'):
        check_graph(empty)
    with pytest.raises(GraphInputError, match='empty'):
        check_graph(Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=0),
                    require_features=False)


@pytest.mark.parametrize('weight', [torch.rand(3), torch.rand(5), torch.rand(4, 1)])
def test_edge_weight_wrong_length(weight):
    with pytest.raises(GraphInputError, match=r'one entry per edge \(\[4\]\)'):
        check_graph(graph(edge_weight=weight))


def test_edge_weight_not_finite():
    with pytest.raises(GraphInputError, match='edge_weight contains NaN'):
        check_graph(graph(edge_weight=torch.tensor([1.0, float('nan'), 1.0, 1.0])))


def test_edge_weight_not_a_tensor():
    with pytest.raises(GraphInputError, match='edge_weight'):
        check_graph(graph(edge_weight=[1.0, 1.0, 1.0, 1.0]))


def test_feature_rows_differ_from_num_nodes():
    with pytest.raises(GraphInputError, match=r'3 rows but the graph has num_nodes=4'):
        check_graph(Data(x=torch.randn(3, 2), edge_index=EDGES, num_nodes=4))


def test_split_mask_of_wrong_length():
    # check_graph's docstring promises to validate masks too.
    bad = graph(train_mask=torch.tensor([True, False]))
    with pytest.raises(GraphInputError, match='train_mask'):
        check_graph(bad)


# ------------------------------------------------------------- the experiment / CLI path
def _patch_dataset(monkeypatch, data):
    def fake_load(name, root=None, download=True, normalize_features=True):
        return NodeDataset('bad', data, 2, False)
    monkeypatch.setattr(graphdim.experiments.node, 'load_node_dataset', fake_load)


def test_experiment_rejects_a_bad_graph_before_training(monkeypatch):
    data = karate_club()
    data.edge_index = data.edge_index.clone()
    data.edge_index[0, 0] = 99
    _patch_dataset(monkeypatch, data)
    trained = []
    monkeypatch.setattr(graphdim.experiments.node, 'fit', lambda *a, **k: trained.append(1))
    with pytest.raises(GraphInputError, match='out of range'):
        run_node_experiment(NodeConfig(dataset='bad', epochs=2), progress=False)
    assert not trained


def test_cli_reports_a_bad_graph_and_exits_2(monkeypatch, capsys):
    data = karate_club()
    data.x = data.x.clone()
    data.x[3, 3] = float('nan')
    _patch_dataset(monkeypatch, data)
    assert cli.main(['train', '--dataset', 'bad', '--epochs', '2', '--quiet']) == 2
    err = capsys.readouterr().err
    assert 'graphdim: error:' in err and 'NaN or inf' in err


def test_experiment_on_karate_works():
    result = run_node_experiment(NodeConfig(dataset='karate', epochs=5, min_epochs=1,
                                            hidden_channels=16), progress=False)
    assert result['dataset'] == 'karate' and result['num_nodes'] == 34
    assert 0.0 <= result['test_acc_mean'] <= 100.0
    assert result['epochs_mean'] == 5


@pytest.mark.parametrize('x, problem', [
    (torch.ones(3, 2, dtype=torch.float64), r'float32.*got torch.float64'),
    (torch.ones(3, 2, dtype=torch.half), r'float32.*got torch.float16'),
    (torch.ones(3, 2).to_sparse(), r'dense tensor.*to_dense\(\)'),
])
def test_feature_dtypes_are_refused_with_the_fix(x, problem):
    with pytest.raises(GraphInputError, match=problem):
        check_graph(Data(x=x, edge_index=PATH_OF_3, num_nodes=3))


@pytest.mark.parametrize('weight, problem', [
    (torch.tensor([1, 1, 2, 2]), r'float32.*\.float\(\)'),
    (torch.tensor([1.0, 1.0, -2.0, -2.0]), 'negative'),
])
def test_edge_weights_of_the_wrong_kind_are_refused(weight, problem):
    with pytest.raises(GraphInputError, match=problem):
        check_graph(Data(x=torch.ones(3, 2), edge_index=PATH_OF_3, edge_weight=weight, num_nodes=3))
