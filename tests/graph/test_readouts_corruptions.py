"""Readouts and corruptions of node-level DIM: values against hand computations."""
import pytest
import torch

from graphdim import EdgeDrop, FeatureMask, Readout, RowShuffle, make_corruption

from conftest import random_graph

# ---------------------------------------------------------------------------------- readouts
Z = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [-1.0, 4.0, 2.0], [0.0, 1.0, 1.0],
                  [2.0, -3.0, 0.0]])
BATCH = torch.tensor([0, 0, 1, 1, 1])


def _hand_readout(kind, rows):
    rows = [Z[i].tolist() for i in rows]
    cols = list(zip(*rows))
    if kind == 'sum':
        return [sum(c) for c in cols]
    if kind == 'max':
        return [max(c) for c in cols]
    means = [sum(c) / len(c) for c in cols]
    if kind == 'mean':
        return means
    return [float(torch.sigmoid(torch.tensor(m))) for m in means]


@pytest.mark.parametrize('kind', ['sigmoid_mean', 'mean', 'sum', 'max'])
def test_readout_values_without_batch(kind):
    out = Readout(kind)(Z)
    assert out.shape == (3,)
    assert torch.allclose(out, torch.tensor(_hand_readout(kind, range(5))), atol=1e-6)


@pytest.mark.parametrize('kind', ['sigmoid_mean', 'mean', 'sum', 'max'])
def test_readout_values_with_batch_vector(kind):
    out = Readout(kind)(Z, batch=BATCH)
    assert out.shape == (2, 3)
    expected = torch.tensor([_hand_readout(kind, [0, 1]), _hand_readout(kind, [2, 3, 4])])
    assert torch.allclose(out, expected, atol=1e-6)


def test_readout_ignores_extra_arguments_like_pyg_summary():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    assert torch.equal(Readout('sum')(Z, Z, edge_index, edge_weight=None), Z.sum(0))


def test_readout_rejects_unknown_kind():
    with pytest.raises(ValueError, match='nope'):
        Readout('nope')


# ------------------------------------------------------------------------------- corruptions
def test_row_shuffle_permutes_rows_and_keeps_edges():
    torch.manual_seed(0)
    x = torch.arange(50 * 4, dtype=torch.float32).reshape(50, 4)
    edge_index = random_graph(50, 1, 100).edge_index
    weight = torch.rand(edge_index.size(1))
    out_x, out_edges, out_weight = RowShuffle()(x, edge_index, weight)
    assert out_x.shape == x.shape
    assert not torch.equal(out_x, x)
    assert sorted(map(tuple, out_x.tolist())) == sorted(map(tuple, x.tolist()))
    assert torch.equal(out_edges, edge_index) and torch.equal(out_weight, weight)
    assert len(RowShuffle()(x, edge_index)) == 2


def test_edge_drop_keeps_a_subset_at_rate_near_p_with_matching_weights():
    torch.manual_seed(0)
    num_edges, p = 20000, 0.3
    edge_index = torch.stack([torch.arange(num_edges) % 1000, torch.arange(num_edges) // 20])
    weight = torch.arange(num_edges, dtype=torch.float32)  # weight = original column index
    x = torch.randn(1000, 3)
    out_x, out_edges, out_weight = EdgeDrop(p)(x, edge_index, weight)
    assert torch.equal(out_x, x)
    assert out_edges.size(0) == 2 and out_edges.size(1) == out_weight.numel()
    kept_fraction = out_edges.size(1) / num_edges
    assert abs(kept_fraction - (1 - p)) < 0.02
    original_columns = out_weight.long()
    assert torch.equal(edge_index[:, original_columns], out_edges)
    assert bool((original_columns[1:] > original_columns[:-1]).all())  # a subset, in order
    out_x2, out_edges2 = EdgeDrop(p)(x, edge_index)
    assert abs(out_edges2.size(1) / num_edges - (1 - p)) < 0.02


def test_edge_drop_with_p_zero_keeps_everything():
    edge_index = random_graph().edge_index
    assert torch.equal(EdgeDrop(0.0)(torch.zeros(20, 2), edge_index)[1], edge_index)


def test_feature_mask_zeroes_whole_columns_at_rate_near_p():
    torch.manual_seed(0)
    p = 0.25
    x = torch.rand(100, 2000) + 0.5  # no zero entries
    edge_index = random_graph(100, 1, 200).edge_index
    out_x, out_edges = FeatureMask(p)(x, edge_index)
    zero_columns = (out_x == 0).all(dim=0)
    kept_columns = (out_x == x).all(dim=0)
    assert bool((zero_columns | kept_columns).all()), 'a column was partly masked'
    assert abs(float(zero_columns.float().mean()) - p) < 0.04
    assert torch.equal(out_edges, edge_index)


@pytest.mark.parametrize('p', [-0.1, 1.0, 1.5])
def test_corruption_probability_outside_unit_interval_is_rejected(p):
    with pytest.raises(ValueError, match='probability'):
        EdgeDrop(p)
    with pytest.raises(ValueError, match='probability'):
        FeatureMask(p)
    with pytest.raises(ValueError):
        make_corruption('edge_drop', p)


def test_make_corruption_by_name():
    assert isinstance(make_corruption('row_shuffle'), RowShuffle)
    assert isinstance(make_corruption('edge_drop', 0.4), EdgeDrop)
    assert make_corruption('feature_mask', 0.4).p == 0.4
    with pytest.raises(ValueError, match='nope'):
        make_corruption('nope')
