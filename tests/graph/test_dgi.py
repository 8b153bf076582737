"""Node-level model: encoders, DeepGraphInfomax as a PyG drop-in, edge weights.

Readouts and corruptions: tests/graph/test_readouts_corruptions.py."""
import copy

import pytest
import torch
from torch import nn
import torch_geometric.nn as pygnn
from torch_geometric.nn import GCNConv

import graphdim
from graphdim import (DeepGraphInfomax, GraphEncoder, Readout, RowShuffle, make_corruption,
                      mi_loss)
from graphdim.data import karate_club
from graphdim.graph.corruptions import CORRUPTIONS
from graphdim.graph.encoders import ENCODERS

from conftest import random_graph

HIDDEN = 16


def _assert_grads_reach_every_parameter(model):
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f'no gradient reached {name}'
        assert torch.isfinite(parameter.grad).all(), f'non-finite gradient in {name}'
    total = sum(float(p.grad.abs().sum()) for p in model.parameters())
    assert total > 0


# ---------------------------------------------------------------------------------- encoders
@pytest.mark.parametrize('num_layers', [1, 3])
@pytest.mark.parametrize('conv', ENCODERS)
def test_encoder_output_shape_and_gradients_reach_every_parameter(conv, num_layers):
    torch.manual_seed(0)
    data = random_graph(num_nodes=30, num_features=7, num_edges=80)
    model = DeepGraphInfomax.from_options(7, HIDDEN, encoder=conv, num_layers=num_layers)
    z = model.encoder(data.x, data.edge_index)
    assert z.shape == (30, HIDDEN)
    loss = model.training_loss(data)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    _assert_grads_reach_every_parameter(model)


@pytest.mark.parametrize('conv', ENCODERS)
def test_encoder_concat_layers_concatenates_every_layer_output(conv):
    torch.manual_seed(0)
    data = random_graph(num_nodes=25, num_features=5)
    encoder = GraphEncoder(5, HIDDEN, num_layers=3, conv=conv, concat_layers=True)
    assert encoder.out_channels == 3 * HIDDEN
    z = encoder(data.x, data.edge_index)
    assert z.shape == (25, 3 * HIDDEN)
    # the last block is the plain (non-concatenated) encoder's output
    encoder.concat_layers = False
    assert torch.allclose(z[:, -HIDDEN:], encoder(data.x, data.edge_index))
    model = DeepGraphInfomax(encoder.out_channels, GraphEncoder(5, HIDDEN, 3, conv=conv,
                                                                concat_layers=True))
    model.training_loss(data).backward()
    _assert_grads_reach_every_parameter(model)


def test_encoder_rejects_unknown_names_and_sizes():
    with pytest.raises(ValueError, match='nope'):
        GraphEncoder(4, 8, conv='nope')
    with pytest.raises(ValueError, match='nope'):
        GraphEncoder(4, 8, activation='nope')
    with pytest.raises(ValueError):
        GraphEncoder(4, 8, num_layers=0)
    with pytest.raises(ValueError, match='divisible'):
        GraphEncoder(4, 10, conv='gat', heads=4)


def test_model_rejects_unknown_estimator_with_its_name():
    with pytest.raises(ValueError, match='bogus_measure'):
        DeepGraphInfomax(HIDDEN, GraphEncoder(4, HIDDEN), estimator='bogus_measure')


@pytest.mark.parametrize('estimator', graphdim.MEASURES)
def test_model_loss_uses_the_chosen_estimator(estimator):
    torch.manual_seed(0)
    data = random_graph()
    model = DeepGraphInfomax.from_options(8, HIDDEN, estimator=estimator)
    pos_z, neg_z, summary = model(data.x, data.edge_index)
    expected = mi_loss(model.discriminate(pos_z, summary, sigmoid=False),
                       model.discriminate(neg_z, summary, sigmoid=False), estimator)
    assert torch.allclose(model.loss(pos_z, neg_z, summary), expected)


# ---------------------------------------------------------------------------- PyG drop-in
class ExampleEncoder(nn.Module):
    """The encoder of PyG's examples/infomax_transductive.py."""
    def __init__(self, in_channels, hidden_channels):
        super().__init__()
        self.conv = GCNConv(in_channels, hidden_channels)
        self.prelu = nn.PReLU(hidden_channels)

    def forward(self, x, edge_index):
        x = self.conv(x, edge_index)
        x = self.prelu(x)
        return x


def example_corruption(x, edge_index):
    return x[torch.randperm(x.size(0), device=x.device)], edge_index


def example_summary(z, *args, **kwargs):
    return z.mean(dim=0).sigmoid()


def _pair(encoder, summary, corruption, hidden):
    ours = DeepGraphInfomax(hidden, copy.deepcopy(encoder), summary, corruption)
    theirs = pygnn.DeepGraphInfomax(hidden, copy.deepcopy(encoder), summary, corruption)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


PAIRINGS = {
    # PyG's example callables: graphdim runs the plain path.
    'pyg_example': lambda n: (ExampleEncoder(n, 64), example_summary, example_corruption, 64),
    # graphdim's own modules inside PyG's class: graphdim may take its fast path.
    'graphdim_modules': lambda n: (GraphEncoder(n, 64), Readout('sigmoid_mean'), RowShuffle(),
                                   64),
    'graphdim_deep': lambda n: (GraphEncoder(n, 32, num_layers=3, activation='relu',
                                             batch_norm=True, concat_layers=True),
                                Readout('mean'), RowShuffle(), 96),
    'graphdim_sage': lambda n: (GraphEncoder(n, 32, num_layers=2, conv='sage'), Readout('max'),
                                RowShuffle(), 32),
}


@pytest.mark.parametrize('pairing', PAIRINGS)
def test_same_outputs_discriminator_and_loss_as_pyg(pairing):
    torch.manual_seed(0)
    data = karate_club()
    ours, theirs = _pair(*PAIRINGS[pairing](data.num_features))
    torch.manual_seed(1)
    mine = ours(data.x, data.edge_index)
    torch.manual_seed(1)
    reference = theirs(data.x, data.edge_index)
    # graphdim's GCN modules run the cached sparse operator, the others message passing
    assert ours.propagation.name == ('message-passing' if pairing in ('pyg_example',
                                                                       'graphdim_sage')
                                     else 'cached-sparse')
    for a, b in zip(mine, reference):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)
    pos_z, neg_z, summary = reference
    for z in (pos_z, neg_z):
        for sigmoid in (True, False):
            assert torch.allclose(ours.discriminate(z, summary, sigmoid=sigmoid),
                                  theirs.discriminate(z, summary, sigmoid=sigmoid),
                                  atol=1e-5, rtol=1e-5)
    our_loss, their_loss = ours.loss(*mine), theirs.loss(*reference)
    assert float(our_loss.detach()) == pytest.approx(float(their_loss.detach()), abs=1e-5)
    our_loss.backward()
    their_loss.backward()
    our_grads = dict(ours.named_parameters())
    for name, parameter in theirs.named_parameters():
        assert torch.allclose(our_grads[name].grad, parameter.grad, atol=1e-6, rtol=1e-4), name


def test_same_outputs_as_pyg_with_a_sparse_adjacency_input():
    # PyG's GCNConv also takes a torch.sparse adjacency (adj_t) in place of edge_index.
    from torch_geometric.utils import to_torch_coo_tensor
    torch.manual_seed(0)
    data = karate_club()
    adj_t = to_torch_coo_tensor(data.edge_index, size=data.num_nodes).t()
    ours, theirs = _pair(*PAIRINGS['graphdim_modules'](data.num_features))
    torch.manual_seed(1)
    reference = theirs(data.x, adj_t)
    torch.manual_seed(1)
    mine = ours(data.x, adj_t)
    for a, b in zip(mine, reference):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)


def test_model_can_be_deep_copied_after_a_forward_pass():
    # copy.deepcopy(model) is the usual way to keep a best model; PyG's class allows it.
    torch.manual_seed(0)
    data = karate_club()
    model = DeepGraphInfomax.from_options(data.num_features, HIDDEN)
    model.training_loss(data).backward()
    clone = copy.deepcopy(model)
    for (name, a), b in zip(model.state_dict().items(), clone.state_dict().values()):
        assert torch.equal(a, b), name
    with torch.no_grad():
        assert torch.allclose(clone.embed(data), model.embed(data))


def test_test_method_matches_pyg_accuracy():
    torch.manual_seed(0)
    data = karate_club()
    ours, theirs = _pair(*PAIRINGS['pyg_example'](data.num_features))
    with torch.no_grad():
        z = ours.encoder(data.x, data.edge_index)
    split = graphdim.random_split(data.y, seed=0, train_fraction=0.3, val_fraction=0.1)
    args = (z[split.train], data.y[split.train], z[split.test], data.y[split.test])
    accuracy = ours.test(*args, max_iter=150)
    assert 0.0 <= accuracy <= 1.0
    assert accuracy == theirs.test(*args, max_iter=150)


def test_unchanged_pyg_training_loop_runs_and_lowers_the_loss():
    torch.manual_seed(0)
    data = karate_club()
    model = DeepGraphInfomax(
        hidden_channels=512, encoder=ExampleEncoder(data.num_features, 512),
        summary=lambda z, *args, **kwargs: z.mean(dim=0).sigmoid(),
        corruption=example_corruption)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)

    def train():
        model.train()
        optimizer.zero_grad()
        pos_z, neg_z, summary = model(data.x, data.edge_index)
        loss = model.loss(pos_z, neg_z, summary)
        loss.backward()
        optimizer.step()
        return loss.item()

    losses = [train() for _ in range(30)]
    assert all(l == l for l in losses)
    assert losses[0] == pytest.approx(2 * 0.6931, abs=0.05)  # chance: 2 log 2
    assert sum(losses[-5:]) / 5 < losses[0] - 0.3


# ------------------------------------------------------------------------------ edge weights
def _weighted_graph():
    data = random_graph(num_nodes=30, num_features=6, num_edges=90, seed=3)
    data.edge_weight = torch.rand(data.edge_index.size(1),
                                  generator=torch.Generator().manual_seed(4)) + 0.1
    return data


@pytest.mark.parametrize('corruption', CORRUPTIONS)
def test_corruptions_return_three_tuple_with_edge_weight(corruption):
    data = _weighted_graph()
    out = make_corruption(corruption)(data.x, data.edge_index, data.edge_weight)
    assert isinstance(out, tuple) and len(out) == 3
    assert out[2].numel() == out[1].size(1)


@pytest.mark.parametrize('corruption', CORRUPTIONS)
def test_gcn_edge_weight_positional_and_keyword_agree(corruption):
    torch.manual_seed(0)
    data = _weighted_graph()
    model = DeepGraphInfomax.from_options(6, HIDDEN, corruption=corruption)
    x, edge_index, weight = data.x, data.edge_index, data.edge_weight
    torch.manual_seed(5)
    positional = model(x, edge_index, weight)
    torch.manual_seed(5)
    keyword = model(x, edge_index, edge_weight=weight)
    torch.manual_seed(5)
    unweighted = model(x, edge_index)
    for a, b in zip(positional, keyword):
        assert torch.allclose(a, b, atol=1e-6)
    assert not torch.allclose(positional[0], unweighted[0], atol=1e-4), 'edge_weight ignored'
    # the weights reach the encoder of both views
    assert torch.allclose(positional[0], model.encoder(x, edge_index, weight), atol=1e-5)
    if corruption == 'row_shuffle':
        torch.manual_seed(5)
        permutation = torch.randperm(x.size(0))
        expected_neg = model.encoder(x[permutation], edge_index, weight)
        assert torch.allclose(positional[1], expected_neg, atol=1e-5)
        assert torch.allclose(keyword[1], expected_neg, atol=1e-5)
    loss = model.loss(*keyword)
    loss.backward()
    _assert_grads_reach_every_parameter(model)
    assert torch.isfinite(model.training_loss(data))  # Data.edge_weight is used too


def test_training_loss_uses_data_edge_weight():
    torch.manual_seed(0)
    data = _weighted_graph()
    model = DeepGraphInfomax.from_options(6, HIDDEN)
    weighted = model.embed(data)
    del data.edge_weight
    assert not torch.allclose(weighted, model.embed(data), atol=1e-4)


def test_sage_rejects_edge_weight():
    data = _weighted_graph()
    encoder = GraphEncoder(6, HIDDEN, conv='sage')
    with pytest.raises(ValueError, match='edge'):
        encoder(data.x, data.edge_index, data.edge_weight)
    model = DeepGraphInfomax.from_options(6, HIDDEN, encoder='sage')
    with pytest.raises(ValueError, match='edge'):
        model(data.x, data.edge_index, data.edge_weight)
    with pytest.raises(ValueError, match='edge'):
        model(data.x, data.edge_index, edge_weight=data.edge_weight)
    with pytest.raises(ValueError, match='edge'):
        model.training_loss(data)


# ------------------------------------------------------------------------------------- CUDA
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_model_trains_and_embeds_on_cuda():
    torch.manual_seed(0)
    data = karate_club()
    model = DeepGraphInfomax.from_options(data.num_features, HIDDEN).cuda()
    gpu_data = data.to('cuda')
    loss = model.training_loss(gpu_data)
    loss.backward()
    assert loss.is_cuda and torch.isfinite(loss)
    assert all(p.grad.is_cuda for p in model.parameters())
    result = graphdim.fit(model, data, epochs=3, min_epochs=1, device='cuda', progress=False)
    assert result.epochs == 3
    z = graphdim.embed(model, data)
    assert z.shape == (34, HIDDEN) and z.device.type == 'cpu'
