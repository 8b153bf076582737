"""GraphACL (neighbour contrast, moving-average target): shapes and gradients, the objective by
hand on a 3-node graph, edge weights, sampled negatives, the target's moving average under
graphdim.fit's loop, and a short karate run through the command line."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data

import graphdim as gd
from graphdim import cli
from graphdim.data import karate_club
from graphdim.graph.models.graphacl import GraphACL, neighbour_pairs

from conftest import random_graph

HIDDEN = 16


def _model(in_channels=8, hidden=HIDDEN, seed=0, **kwargs):
    torch.manual_seed(seed)
    return GraphACL.from_options(in_channels, hidden, **kwargs)


@pytest.mark.parametrize('fast_path', [True, False])
@pytest.mark.parametrize('encoder,layers,predictor', [('gcn', 1, 1), ('gcn', 2, 2),
                                                      ('sage', 2, 1)])
def test_shapes_and_gradients_reach_the_online_side_only(encoder, layers, predictor,
                                                         fast_path):
    data = random_graph(num_nodes=30, num_features=8, num_edges=80)
    model = _model(encoder=encoder, num_layers=layers, predictor_layers=predictor)
    model.fast_path = fast_path
    h, p, t = model(data.x, data.edge_index)
    assert h.shape == p.shape == t.shape == (30, HIDDEN) and not t.requires_grad
    assert model.propagation.name == ('cached-sparse' if fast_path and encoder == 'gcn'
                                      else 'message-passing')
    assert all(conv.fast_path == fast_path for conv in
               gd.graph.propagation.cached_convs(model.target_encoder))
    loss = model.training_loss(data)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    for name, parameter in model.named_parameters():
        if name.startswith('target_encoder.'):
            assert parameter.grad is None and not parameter.requires_grad, name
        else:
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    assert torch.equal(model.embed(data), model.encoder(data.x, data.edge_index))


def _hand_loss(model, x, edges, weights, estimator, drawn=None):
    """The objective written out pair by pair: N(v) = v's in-neighbours and v itself."""
    with torch.no_grad():
        h = model.encoder(x, edges, weights)
        t = model.target_encoder(x, edges, weights)
    p = model.predictor[0](h)
    n = x.size(0)
    h_hat, p_hat, t_hat = (z / z.norm(dim=1, keepdim=True) for z in (h, p, t))
    tau = model.temperature
    drawn = list(range(n)) if drawn is None else drawn.tolist()
    node_terms, negatives = [], []
    for v in range(n):
        pairs = [(int(s), float(w)) for s, d, w in zip(edges[0], edges[1], weights)
                 if int(d) == v] + [(v, 1.0)]
        neg = torch.stack([h_hat[v] @ h_hat[w] / tau for w in drawn])
        negatives.append(neg)
        total = 0.0
        for u, w in pairs:
            s = p_hat[v] @ t_hat[u] / tau
            if estimator == 'infonce':
                normaliser = torch.exp(s) + torch.exp(neg).sum() * n / len(drawn)
                total = total + w * (s - torch.log(normaliser))
            else:  # bce: E_P = -sp(-s)
                total = total + w * -F.softplus(-s)
        node_terms.append(total / sum(w for _, w in pairs))
    e_pos = torch.stack(node_terms).mean()
    if estimator == 'infonce':
        return -(math.log(n + 1) + e_pos)
    return F.softplus(torch.stack(negatives)).mean() - e_pos


@pytest.mark.parametrize('estimator,negatives', [('infonce', 0), ('infonce', 2), ('bce', 0)])
def test_loss_matches_a_hand_computation_on_a_three_node_graph(estimator, negatives):
    x = torch.rand(3, 5)
    edges = torch.tensor([[0, 1, 1, 2, 0], [1, 0, 2, 1, 0]])  # a path, and a self-loop on 0
    model = _model(5, 4, temperature=0.5, momentum=0.9, estimator=estimator,
                   negatives=negatives)
    with torch.no_grad():  # a target unlike the online encoder, as after some steps
        for parameter in model.target_encoder.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    torch.manual_seed(5)
    loss = model.loss(*model(x, edges), edges)
    torch.manual_seed(5)
    drawn = model.negative_nodes(3, x.device)
    assert (drawn is None) == (negatives == 0) and (drawn is None or drawn.numel() == 2)
    # the graph's own self-loop is replaced by the one self-pair every node gets
    clean = edges[:, :4]
    expected = _hand_loss(model, x, clean, torch.ones(4), estimator, drawn)
    assert float(loss.detach()) == pytest.approx(float(expected), abs=1e-5)


def test_edge_weights_weight_each_nodes_mean_over_its_neighbours():
    """A zero-weight edge is no edge: GCN's normalisation drops it, and so does the mean."""
    data = random_graph(num_nodes=12, num_features=6, num_edges=30)
    model = _model(6, 8)
    weights = torch.ones(data.edge_index.size(1))
    weights[:2] = 0.0
    weighted = model.loss(*model(data.x, data.edge_index, weights), data.edge_index, weights)
    kept = data.edge_index[:, 2:]
    assert float(weighted) == pytest.approx(float(model.loss(*model(data.x, kept), kept)),
                                            abs=1e-5)
    anchor, positive, weight = neighbour_pairs(data.edge_index, weights, 12)
    assert torch.equal(anchor[-12:], torch.arange(12)) and torch.equal(positive[-12:],
                                                                       torch.arange(12))


def test_the_target_moves_by_the_moving_average_after_each_step():
    data = random_graph(num_nodes=20, num_features=8, num_edges=60)
    model = _model(momentum=0.9)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    start = copy.deepcopy(model.encoder.state_dict())
    model.training_loss(data).backward()
    assert all(torch.equal(a, b) for a, b in zip(model.target_encoder.state_dict().values(),
                                                 start.values()))  # not before a step
    optimizer.step()
    stepped = copy.deepcopy(model.encoder.state_dict())
    optimizer.zero_grad()
    model.training_loss(data)  # moves the target first: 0.9 old + 0.1 new
    for name, target in model.target_encoder.state_dict().items():
        expected = 0.9 * start[name] + 0.1 * stepped[name]
        assert torch.allclose(target, expected, atol=1e-6), name
        assert not torch.equal(target, start[name]), name
    with torch.no_grad():  # a call without gradients (evaluation) leaves it alone
        moved = copy.deepcopy(model.target_encoder.state_dict())
        model.update_target()
        model.training_loss(data)
    assert model.target_encoder.state_dict()['convs.0.lin.weight'].sub(
        moved['convs.0.lin.weight']).abs().sum() > 0  # update_target moved it once
    assert not bool(model.target_behind)


def test_momentum_zero_is_the_online_encoder_under_stop_gradient():
    data = random_graph(num_nodes=20, num_features=8, num_edges=60)
    model = _model(momentum=0.0)
    assert model.target_encoder is None
    h, p, t = model(data.x, data.edge_index)
    assert torch.equal(h.detach(), t) and not t.requires_grad


def test_linear_output_drops_the_last_activation_only():
    """The authors' encoder: the activation between layers, none after the last, so the
    embeddings are the last convolution's output (of either sign under ReLU)."""
    data = random_graph(num_nodes=20, num_features=8, num_edges=60)
    model = _model(num_layers=2, activation='relu', linear_output=True)
    online, target = model.encoder, model.target_encoder
    assert isinstance(online.activations[0], torch.nn.ReLU)
    assert isinstance(online.activations[1], torch.nn.Identity)
    assert isinstance(target.activations[1], torch.nn.Identity)
    h, _, _ = model(data.x, data.edge_index)
    hidden = online.activations[0](online.convs[0](data.x, data.edge_index))
    assert torch.allclose(h, online.convs[1](hidden, data.edge_index), atol=1e-6)
    assert (h < 0).any()  # a ReLU after the last layer would leave none


def test_bad_settings_are_refused():
    encoder = gd.GraphEncoder(4, 8)
    with pytest.raises(ValueError, match='temperature must be > 0'):
        GraphACL(8, encoder, temperature=0.0)
    with pytest.raises(ValueError, match='negatives must be an integer >= 0'):
        GraphACL(8, encoder, negatives=-1)
    with pytest.raises(ValueError, match='unknown estimator'):
        GraphACL(8, encoder, estimator='kl')


def test_fit_trains_it_on_karate_and_lowers_the_loss():
    torch.manual_seed(0)
    data = karate_club()
    model = GraphACL.from_options(data.num_features, 8, temperature=0.5, momentum=0.9)
    target_before = model.target_encoder.convs[0].lin.weight.clone()
    result = gd.fit(model, data, epochs=30, lr=0.01, patience=0, progress=False)
    assert result.epochs == 30 and min(result.losses[1:]) < result.losses[0]
    assert not torch.equal(model.target_encoder.convs[0].lin.weight, target_before)
    assert gd.embed(model, data).shape == (34, 8)


def test_the_command_line_trains_it_with_its_options(tmp_path, capsys):
    out = tmp_path / 'run'
    assert cli.main(['train', '--model', 'graphacl', '--dataset', 'karate', '--epochs', '3',
                     '--min-epochs', '1', '--hidden', '8', '--estimator', 'infonce',
                     '--temperature', '0.5', '--momentum', '0.9', '--quiet',
                     '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert 'GraphACL on' in printed and 'tau 0.5, target momentum 0.9' in printed
    model, config = gd.load_model(out)
    assert isinstance(model, GraphACL) and model.momentum == 0.9
    assert config.model_options.temperature == 0.5
    assert cli.main(['train', '--model', 'graphacl', '--dataset', 'karate',
                     '--batch-size', '8', '--quiet', '--out', str(tmp_path / 'b')]) == 2
