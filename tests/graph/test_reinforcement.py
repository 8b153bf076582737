"""Embedding reinforcement (z + Â^k z) against dense algebra, its checks, and the
validation-only choice of k."""
import pytest
import torch

import graphdim as gd
from graphdim import choose_hops, reinforce
from graphdim.eval import ProbeResult, Split
from graphdim.eval import reinforced as reinforced_module
from graphdim.graph import reinforcement

from conftest import random_graph

DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='no CUDA device'))]


def _dense_a_hat(edge_index, num_nodes, edge_weight=None):
    """GCN's normalisation by hand: D^-1/2 (A + I) D^-1/2, A[target, source] = weight."""
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    weights = torch.ones(edge_index.size(1), dtype=torch.float64) if edge_weight is None \
        else edge_weight.double()
    adjacency.index_put_((edge_index[1], edge_index[0]), weights, accumulate=True)
    adjacency += torch.eye(num_nodes, dtype=torch.float64)
    d = adjacency.sum(dim=1).rsqrt()
    return d[:, None] * adjacency * d[None, :]


def _tiny():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 4],
                               [1, 0, 2, 1, 3, 2, 4, 3, 4, 0]])
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return z, edge_index  # node 5 is isolated: only its self-loop


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('hops', [1, 2, 5])
def test_add_and_replace_match_dense_powers(hops, weighted, device):
    z, edge_index = _tiny()
    weight = torch.rand(edge_index.size(1), dtype=torch.float64) + 0.5 if weighted else None
    power = torch.linalg.matrix_power(_dense_a_hat(edge_index, 6, weight), hops)
    on = dict(device=device)
    add = reinforce(z.to(**on), edge_index.to(**on), hops,
                    None if weight is None else weight.to(**on))
    replace = reinforce(z.to(**on), edge_index.to(**on), hops,
                        None if weight is None else weight.to(**on), mode='replace')
    assert add.device.type == device and add.dtype == z.dtype
    torch.testing.assert_close(add.cpu(), z + power @ z)
    torch.testing.assert_close(replace.cpu(), power @ z)


def test_zero_hops_is_the_identity_and_nothing_needs_gradients():
    z, edge_index = _tiny()
    assert reinforce(z, edge_index, 0) is z
    assert reinforce(z, edge_index, 0, mode='replace') is z
    leaf = z.clone().requires_grad_()
    out = reinforce(leaf, edge_index, 2)
    assert not out.requires_grad
    assert torch.equal(leaf.detach(), z)  # the input is left as it was


def test_float32_on_a_real_sized_graph_matches_two_products():
    data = random_graph(num_nodes=300, num_features=4, num_edges=1500)
    z = torch.randn(300, 8)
    a_hat = _dense_a_hat(data.edge_index, 300).float()
    torch.testing.assert_close(reinforce(z, data.edge_index, 2), z + a_hat @ (a_hat @ z),
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('hops', [-1, 1.5, '2', True, None])
def test_bad_hops_raise_value_errors(hops):
    z, edge_index = _tiny()
    with pytest.raises(ValueError, match='hops must be a non-negative integer'):
        reinforce(z, edge_index, hops)


def test_wrong_embeddings_and_modes_raise_value_errors():
    z, edge_index = _tiny()
    with pytest.raises(ValueError, match='4 rows but the graph has 6 nodes'):
        reinforce(z[:4], edge_index, 1, num_nodes=6)
    with pytest.raises(ValueError, match='edge_index out of range'):
        reinforce(z[:4], edge_index, 1)  # the graph names nodes 4 and 5
    with pytest.raises(ValueError, match='2-D'):
        reinforce(z[0], edge_index, 1)
    with pytest.raises(ValueError, match='floating point'):
        reinforce(z.long(), edge_index, 1)
    with pytest.raises(ValueError, match="mode 'sum'"):
        reinforce(z, edge_index, 1, mode='sum')


def test_powers_of_a_grid_cost_its_largest_k_in_products(monkeypatch):
    z, edge_index = _tiny()
    products = []
    real = reinforcement.PropagationMatrix.propagate
    monkeypatch.setattr(reinforcement.PropagationMatrix, 'propagate',
                        lambda matrix, h: products.append(1) or real(matrix, h))
    powers = dict(reinforcement.propagated_powers(z, edge_index, [5, 0, 2, 10, 2]))
    assert sorted(powers) == [0, 2, 5, 10] and len(products) == 10
    a_hat = _dense_a_hat(edge_index, 6)
    for k, smoothed in powers.items():
        torch.testing.assert_close(smoothed, torch.linalg.matrix_power(a_hat, k) @ z)


def _split(n=6):
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    masks[0][:2], masks[1][2:4], masks[2][4:] = True, True, True
    return Split(*masks, 'test')


def test_choose_hops_chooses_on_validation_never_on_test(monkeypatch):
    """A probe whose validation and test accuracies disagree: the validation winner is kept
    (its test score reported), ties go to the smaller k, every candidate is the reinforced
    embedding of its k and mode."""
    z, edge_index = _tiny()
    data = type('G', (), {'edge_index': edge_index, 'num_nodes': 6,
                          'y': torch.tensor([0, 1, 0, 1, 0, 1])})()
    val = {('add', 0): 0.5, ('add', 1): 0.7, ('replace', 1): 0.6, ('add', 2): 0.7,
           ('replace', 2): 0.65}
    test = {('add', 0): 0.9, ('add', 1): 0.4, ('replace', 1): 0.95, ('add', 2): 0.99,
            ('replace', 2): 0.98}
    calls = []

    def fake_probe(embeddings, labels, split, c_grid=None, device=None, adam=None):
        key = next(key for key in val if torch.allclose(
            embeddings, reinforce(z, edge_index, key[1], mode=key[0])))
        calls.append(key)
        return ProbeResult(test_score=test[key], val_score=val[key])

    monkeypatch.setattr(reinforced_module, 'linear_probe', fake_probe)
    chosen = choose_hops(z, data, _split(), grid=(2, 0, 1), modes=('add', 'replace'))
    assert calls == list(val)  # k ascending, k = 0 once
    assert (chosen.hops, chosen.mode) == (1, 'add')  # 0.7 ties with k = 2: smaller k wins
    assert chosen.test_score == 0.4 and chosen.val_score == 0.7
    assert chosen.val_scores == val


def test_choose_hops_on_real_embeddings_returns_the_probe_of_its_choice():
    data = random_graph(num_nodes=60, num_features=4, num_edges=200)
    data.y = torch.arange(60) % 3
    z = torch.randn(60, 5)
    split = gd.random_split(data.y, seed=0, train_fraction=0.3, val_fraction=0.3)
    chosen = choose_hops(z, data, split, grid=(0, 1, 3), modes=('add', 'replace'))
    assert set(chosen.val_scores) == {('add', 0), ('add', 1), ('replace', 1), ('add', 3),
                                      ('replace', 3)}
    assert chosen.val_score == max(chosen.val_scores.values())
    again = gd.linear_probe(reinforce(z, data.edge_index, chosen.hops, mode=chosen.mode),
                            data.y, split)
    assert again.test_score == chosen.test_score
    with pytest.raises(ValueError, match='hops must be'):
        choose_hops(z, data, split, grid=(0, -2))
    with pytest.raises(ValueError, match='50 rows but the graph has 60 nodes'):
        choose_hops(z[:50], data, split)
