"""GGD (graph group discrimination): the objective by hand, fast path = plain path, mini-batches,
copies, and a short real run on Cora with validation-chosen reinforcement."""
import copy
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

import graphdim as gd
from graphdim import GGD, GraphEncoder, choose_hops
from graphdim.data.synthetic import synthetic_graph
from graphdim.graph.corruptions import FeatureMask
from graphdim.graph.minibatch import uses_gcn
from graphdim.graph.models.ggd import MiniBatchGGD
from graphdim.loaders import NeighborhoodLoader, node_loader

from conftest import random_graph

HIDDEN = 16
DEVICES = ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='no CUDA device'))]


def _model(in_channels=8, hidden=HIDDEN, seed=0, **kwargs):
    torch.manual_seed(seed)
    return GGD.from_options(in_channels, hidden, **kwargs)


def _grads(model):
    return {name: p.grad.clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize('fast_path', [True, False])
@pytest.mark.parametrize('encoder,layers', [('gcn', 1), ('gcn', 2), ('sage', 2)])
def test_views_have_node_shapes_and_gradients_reach_every_parameter(encoder, layers,
                                                                     fast_path):
    data = random_graph(num_nodes=30, num_features=8, num_edges=80)
    model = _model(encoder=encoder, num_layers=layers)
    model.fast_path = fast_path
    pos_z, neg_z = model(data.x, data.edge_index)
    assert pos_z.shape == neg_z.shape == (30, HIDDEN)
    assert model.score(pos_z).shape == (30, )
    assert model.propagation.name == ('cached-sparse' if fast_path and encoder == 'gcn'
                                      else 'message-passing')
    loss = model.training_loss(data)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, f'zero gradient in {name}'
    assert model.embed(data).shape == (30, HIDDEN)


@pytest.mark.parametrize('mask_clean', [False, True])
def test_loss_matches_a_hand_computation_on_a_tiny_graph(mask_clean):
    """Dense GCN by hand, columns masked then rows shuffled, projector summed, softplus BCE."""
    x = torch.rand(5, 10)
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4, 2, 0], [1, 0, 2, 1, 4, 3, 0, 2]])
    model = _model(10, 4, drop_feature_p=0.3, mask_clean=mask_clean)
    torch.manual_seed(7)
    loss = model.training_loss(Data(x=x, edge_index=edge_index))
    torch.manual_seed(7)
    keep = FeatureMask(0.3, exact=True).keep(10)
    permutation = torch.randperm(5)
    assert int((~keep).sum()) == 3  # exactly int(0.3 * 10) columns dropped
    adjacency = torch.eye(5)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    d = adjacency.sum(1).rsqrt()
    a_hat = d[:, None] * adjacency * d[None, :]
    conv, prelu = model.encoder.convs[0], model.encoder.activations[0]

    def encode(features):
        return F.prelu(a_hat @ features @ conv.lin.weight.t() + conv.bias, prelu.weight)

    masked = x * keep
    h = encode(masked if mask_clean else x)
    h_tilde = encode(masked[permutation])
    s_pos = model.projector(h).sum(dim=1)
    s_neg = model.projector(h_tilde).sum(dim=1)
    expected = F.softplus(-s_pos).mean() + F.softplus(s_neg).mean()
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('estimator', gd.MEASURES)
def test_every_estimator_scores_clean_against_corrupted_nodes(estimator):
    data = random_graph()
    model = _model(estimator=estimator)
    pos_z, neg_z = model(data.x, data.edge_index)
    expected = gd.mi_loss(model.projector(pos_z).sum(1), model.projector(neg_z).sum(1),
                          estimator)
    torch.testing.assert_close(model.loss(pos_z, neg_z), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('mask_clean', [False, True])
@pytest.mark.parametrize('weighted', [False, True])
def test_fast_path_equals_message_passing(device, mask_clean, weighted):
    """Same seed: the cached operator (mask folded into W, XW shared or permuted after the
    transform) gives message passing's loss and gradients; sparse features too (Cora-like)."""
    data = random_graph(num_nodes=40, num_features=60, num_edges=120)
    data.x = data.x * (torch.rand_like(data.x) < 0.04)  # below the CSR feature threshold
    if weighted:
        data.edge_weight = torch.rand(data.edge_index.size(1)) + 0.5
    data = data.to(device)
    fast = _model(60, mask_clean=mask_clean, num_layers=2).to(device)
    plain = copy.deepcopy(fast)
    plain.fast_path = False
    results = []
    for model in (fast, plain):
        torch.manual_seed(3)
        loss = model.training_loss(data)
        loss.backward()
        results.append((loss.detach(), _grads(model)))
    assert fast.propagation.name == 'cached-sparse'
    assert plain.propagation.name == 'message-passing'
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-5, rtol=1e-5)
    for name, grad in results[0][1].items():
        torch.testing.assert_close(grad, results[1][1][name], atol=1e-5, rtol=1e-4,
                                   msg=lambda m: f'{name}: {m}')
    torch.testing.assert_close(fast.embed(data), plain.embed(data), atol=1e-5, rtol=1e-5)


def test_mask_drops_whole_columns_and_the_clean_view_is_untouched_by_default():
    data = random_graph(num_nodes=12, num_features=20)
    model = _model(20, drop_feature_p=0.5)
    model.fast_path = False
    seen = []
    model.encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    model(data.x, data.edge_index)
    clean, corrupted = seen
    assert torch.equal(clean, data.x)
    zero_columns = (corrupted == 0).all(dim=0)
    assert int(zero_columns.sum()) == 10
    assert torch.equal(corrupted.sort(dim=0).values,
                       (data.x * ~zero_columns).sort(dim=0).values)  # rows permuted


def test_bad_options_raise_value_errors():
    with pytest.raises(ValueError, match='corruption probability'):
        GGD.from_options(4, 8, drop_feature_p=1.0)
    with pytest.raises(ValueError, match='bogus'):
        GGD.from_options(4, 8, estimator='bogus')
    with pytest.raises(ValueError, match='nope'):
        GGD.from_options(4, 8, encoder='nope')


def test_copies_and_pickles_leave_the_cached_operator_out():
    data = random_graph()
    model = _model()
    model.training_loss(data).backward()
    assert len(model.encoder.convs[0].graph_cache) == 1  # the graph's normalised matrix
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert len(clone.encoder.convs[0].graph_cache) == 0
        for (name, a), b in zip(model.state_dict().items(), clone.state_dict().values()):
            assert torch.equal(a, b), name
        with torch.no_grad():
            torch.testing.assert_close(clone.embed(data), model.embed(data))


@pytest.mark.parametrize('fast_path', [True, False])
def test_one_batch_of_all_nodes_gives_the_full_graph_loss(fast_path):
    data = synthetic_graph(200, 5, 16)
    model = _model(16)
    model.fast_path = fast_path
    batch = next(iter(NeighborhoodLoader(data, 200, gcn_normalized=True, shuffle=False)))
    torch.manual_seed(5)
    full = model.training_loss(data)
    torch.manual_seed(5)
    batched = model.training_loss(batch)
    assert model.propagation.name == ('subgraph-sparse' if fast_path else 'message-passing')
    torch.testing.assert_close(batched, full, atol=1e-5, rtol=1e-5)


def test_minibatch_loss_scores_only_the_seeds_and_fit_runs_on_a_loader():
    data = synthetic_graph(300, 6, 16)
    model = _model(16, num_layers=2)
    batch = next(iter(node_loader(data, 32, 2, gcn_normalized=uses_gcn(model))))
    assert batch.num_nodes > batch.batch_size
    seen = []
    original = model.loss
    model.loss = lambda pos, neg: seen.append(pos.size(0)) or original(pos, neg)
    loss = model.training_loss(batch)
    loss.backward()
    del model.loss
    assert seen == [32] and torch.isfinite(loss)
    assert all(conv.normalize for conv in model.encoder.convs)  # restored after the batch
    loader = node_loader(data, 100, 2, gcn_normalized=True, seed=0)
    result = gd.fit(model, loader, epochs=3, patience=0, progress=False)
    assert result.epochs == 3
    z = gd.embed(model, node_loader(data, 100, 2, gcn_normalized=True, shuffle=False))
    torch.testing.assert_close(z, model.eval().embed(data), atol=1e-5, rtol=1e-4)
    assert isinstance(MiniBatchGGD(model), gd.MiniBatchDGI)


def test_encoders_without_a_sparse_form_run_message_passing():
    data = random_graph()
    model = GGD(HIDDEN, GraphEncoder(8, HIDDEN, conv='gat', heads=2))
    model.training_loss(data).backward()
    assert model.propagation.name == 'message-passing'
    assert 'gat' in model.propagation.reason


@pytest.mark.slow  # an accuracy run on Cora
def test_cora_short_run_reaches_a_real_accuracy(data_root):
    """A real run: GGD's Cora recipe (512 units, lr 1e-3), reinforcement depth chosen on
    validation; a few seconds on two CPU cores."""
    data = gd.load_node_dataset('Cora', root=str(data_root), download=False).data
    split = gd.public_split(data)
    gd.seed_everything(0)
    model = GGD.from_options(data.num_features, 512)
    result = gd.fit(model, data, lr=1e-3, epochs=100, patience=20, progress=False)
    assert result.losses[result.best_epoch - 1] < result.losses[0]
    probe = choose_hops(gd.embed(model, data), data, split, grid=(0, 2, 5))
    assert probe.val_score > 0.78 and probe.test_score > 0.79, probe
