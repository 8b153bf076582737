"""Multi-view DIM (MVGRL) at node and graph level: the function against dense hand
computations, the estimators, gradients, sampling, bad inputs."""
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch
from torch_geometric.nn.conv.gcn_conv import gcn_norm

import graphdim as gd
from graphdim import cli
from graphdim.estimators import MEASURES
from conftest import random_graph


def _dense_gcn_adjacency(edge_index, n):
    index, weight = gcn_norm(edge_index, None, n, add_self_loops=True)
    a = torch.zeros(n, n)
    a[index[1], index[0]] = weight
    return a


def _dense_layer(encoder, x, operator):
    conv, act = encoder.convs[0], encoder.activations[0]
    h = operator @ (x @ conv.lin.weight.t()) + conv.bias
    return F.prelu(h, act.weight)


def test_node_mvgrl_computes_the_two_views_and_the_cross_view_loss_by_hand():
    torch.manual_seed(0)
    data = random_graph(num_nodes=30, num_edges=80, num_features=6, seed=1)
    model = gd.MVGRL(6, 8, top_k=30)  # top_k = N: the whole diffusion kept
    a = _dense_gcn_adjacency(data.edge_index, 30)
    s = gd.diffusion_matrix(data.edge_index, 30, 'ppr', top_k=30).to_dense().t()
    torch.manual_seed(5)
    clean, corrupted, summaries = model(data.x, data.edge_index)
    torch.manual_seed(5)
    permutation = torch.randperm(30)
    views = (a, s)
    for k in range(2):
        expected = _dense_layer(model.encoders[k], data.x, views[k])
        assert torch.allclose(clean[k], expected, atol=1e-5)
        assert torch.allclose(corrupted[k], _dense_layer(model.encoders[k],
                                                         data.x[permutation], views[k]),
                              atol=1e-5)
        assert torch.allclose(summaries[k], torch.sigmoid(expected.mean(0)), atol=1e-6)
    w = model.weight
    pos = torch.cat([clean[0] @ w @ summaries[1], clean[1] @ w @ summaries[0]])
    neg = torch.cat([corrupted[0] @ w @ summaries[1], corrupted[1] @ w @ summaries[0]])
    expected_loss = F.softplus(-pos).mean() + F.softplus(neg).mean()
    assert torch.allclose(model.loss(clean, corrupted, summaries), expected_loss, atol=1e-6)
    embedding = model.embed(data)
    assert torch.allclose(embedding, clean[0] + clean[1], atol=1e-5)


@pytest.mark.parametrize('measure', MEASURES)
def test_node_mvgrl_trains_every_parameter_with_every_estimator(measure):
    torch.manual_seed(0)
    data = random_graph(num_nodes=40, num_edges=120, num_features=5, seed=2)
    model = gd.MVGRL(5, 16, estimator=measure, top_k=8)
    loss = model.training_loss(data)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name
    assert gd.embed(model, data).shape == (40, 16)


def test_node_mvgrl_sampled_subgraphs_slice_both_normalised_views():
    torch.manual_seed(0)
    data = random_graph(num_nodes=50, num_edges=150, num_features=4, seed=3)
    model = gd.MVGRL(4, 8, top_k=10, sample_size=20, subgraphs=3)
    views = model.views(data.x, data.edge_index)
    nodes = torch.tensor([1, 4, 9, 20, 33, 49])
    sub = views.subgraph(nodes)
    for whole, part in ((views.adjacency, sub.adjacency), (views.diffusion, sub.diffusion)):
        dense = whole.adjacency.to_dense()[nodes][:, nodes]
        assert torch.allclose(part.adjacency.to_dense(), dense)
        assert torch.equal(part.x, data.x[nodes])
    loss = model.training_loss(data)
    assert torch.isfinite(loss) and model.propagation.name == 'subgraph-sparse'
    model.sample_size = 0
    model.training_loss(data)
    assert model.propagation.name == 'cached-sparse'
    # The views are built once per graph: the same operators on the next call.
    assert model.views(data.x, data.edge_index) is views


@pytest.mark.slow  # an accuracy run on Cora
def test_node_mvgrl_on_cora_beats_its_random_init(data_root):
    # A short real run (30 epochs): the trained embeddings must clearly beat the untrained.
    data = gd.load_node_dataset('Cora', str(data_root), download=False).data
    split = gd.public_split(data)
    gd.seed_everything(0)
    model = gd.MVGRL(data.num_features, 128)
    untrained = gd.linear_probe(gd.embed(model, data), data.y, split).test_acc
    gd.fit(model, data, epochs=30, patience=0, progress=False)
    trained = gd.linear_probe(gd.embed(model, data), data.y, split).test_acc
    assert trained >= 0.75 and trained > untrained + 0.03, (trained, untrained)


def _graph_batch(seed=0):
    graphs = [random_graph(num_nodes=n, num_edges=2 * n, num_features=3, seed=seed + n)
              for n in (5, 7, 6, 8)]
    return Batch.from_data_list([gd.DiffusionView(eps=0.0)(g) for g in graphs])


def test_graph_mvgrl_local_global_features_and_loss_by_hand():
    torch.manual_seed(0)
    batch = _graph_batch()
    model = gd.GraphMVGRL(3, 4, num_layers=2)
    local, global_ = model(batch.x, batch.edge_index, batch.diffusion_index,
                           batch.diffusion_weight, batch.batch)
    assert local[0].shape == local[1].shape == (26, 8)
    assert global_[0].shape == global_[1].shape == (4, 8)
    # The diffusion view: weighted sums over the diffusion edges, no renormalisation.
    s = torch.zeros(26, 26)
    s[batch.diffusion_index[1], batch.diffusion_index[0]] = batch.diffusion_weight
    encoder = model.encoders[1]
    h1 = _dense_layer(encoder, batch.x, s)
    conv, act = encoder.convs[1], encoder.activations[1]
    h2 = F.prelu(s @ (h1 @ conv.lin.weight.t()) + conv.bias, act.weight)
    assert torch.allclose(local[1], torch.cat([h1, h2], 1), atol=1e-5)
    sums = torch.stack([local[0][batch.batch == g].sum(0) for g in range(4)])
    assert torch.allclose(global_[0], sums, atol=1e-5)
    mask = gd.batch_pos_mask(batch.batch, 4)
    lh, gh = model.local_head, model.global_head
    expected = (gd.local_global_loss(lh(local[0]), gh(global_[1]), mask, 'jsd')
                + gd.local_global_loss(lh(local[1]), gh(global_[0]), mask, 'jsd'))
    assert torch.allclose(model.loss(local, global_, batch.batch), expected)
    assert torch.allclose(model.embed(batch), gh(global_[0]) + gh(global_[1]))


@pytest.mark.parametrize('measure', MEASURES)
def test_graph_mvgrl_trains_every_parameter_with_every_estimator(measure):
    torch.manual_seed(0)
    model = gd.GraphMVGRL(3, 4, num_layers=2, estimator=measure)
    loss = model.training_loss(_graph_batch())
    assert torch.isfinite(loss)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


def test_graph_mvgrl_bad_inputs_say_what_to_do():
    model = gd.GraphMVGRL(3, 4, num_layers=2)
    plain = Batch.from_data_list([random_graph(num_nodes=5, num_edges=8, num_features=3)] * 2)
    with pytest.raises(ValueError, match='DiffusionView'):
        model.training_loss(plain)
    one = Batch.from_data_list([gd.DiffusionView()(random_graph(num_nodes=5, num_edges=8,
                                                                num_features=3))])
    with pytest.raises(ValueError, match='at least 2 graphs'):
        model.training_loss(one)


def test_mvgrl_bad_settings_name_the_problem():
    with pytest.raises(ValueError, match="unknown diffusion 'katz'"):
        gd.MVGRL(4, 8, diffusion='katz')
    with pytest.raises(ValueError, match='sample_size must be >= 0'):
        gd.MVGRL(4, 8, sample_size=-1)


def test_multiview_models_check_the_feature_width():
    data = random_graph(num_nodes=10, num_edges=20, num_features=4)
    with pytest.raises(gd.GraphInputError, match='takes 5 input features'):
        gd.fit(gd.MVGRL(5, 8), data, epochs=1, progress=False)


def test_cli_trains_mvgrl_at_node_level_with_its_random_init_beside(tmp_path, capsys):
    import json
    out = tmp_path / 'run'
    assert cli.main(['train', '--model', 'mvgrl', '--dataset', 'karate', '--epochs', '5',
                        '--min-epochs', '1', '--hidden', '16', '--top-k', '8',
                        '--random-baseline', '--json', '--quiet', '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed.strip().splitlines()[-1])
    assert 'MVGRL on karate' in printed and 'random-init encoder' in printed
    assert summary['config']['model'] == 'mvgrl' and summary['epochs_mean'] == 5
    assert 0 <= summary['random_init_test_acc_mean'] <= 100
    assert 'random_init_test_acc' in summary['runs'][0]
    model, _ = gd.load_model(str(out))  # the run folder reloads as the model it trained
    assert isinstance(model, gd.MVGRL) and model.top_k == 8


@pytest.mark.slow  # a graph-level CLI run with cross-validation
def test_cli_trains_mvgrl_at_graph_level(data_root, capsys):
    import json
    assert cli.main(['train', '--level', 'graph', '--model', 'mvgrl', '--dataset', 'MUTAG',
                        '--root', str(data_root), '--epochs', '2', '--hidden', '8',
                        '--layers', '2', '--folds', '3', '--inner-folds', '2',
                        '--random-baseline', '--json', '--quiet']) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed.strip().splitlines()[-1])
    assert 'MVGRL on MUTAG' in printed
    assert summary['config']['model'] == 'mvgrl' and 0 < summary['test_acc_mean'] <= 100
    assert 'random_init_test_acc_mean' in summary


@pytest.mark.parametrize('argv, message', [
    (['--model', 'mvgrl', '--encoder', 'sage'], '--encoder applies to --model dgi, ggd, graphacl only'),
    (['--top-k', '4'], '--top-k applies to --model mvgrl only'),
    (['--model', 'infograph'], 'graph-level model: add --level graph'),
    (['--level', 'graph', '--model', 'dgi'], 'node-level model'),
    (['--level', 'graph', '--model', 'mvgrl', '--prior-weight', '0.1'],
     '--prior-weight applies to --model infograph only'),
    (['--level', 'graph', '--sample-size', '10'], 'node-level DIM only'),
    (['--model', 'mvgrl', '--batch-size', '8'], 'not with --batch-size'),
])
def test_cli_refuses_options_the_chosen_model_would_ignore(argv, message, capsys):
    assert cli.main(['train', *argv, '--epochs', '1', '--quiet']) == 2
    assert message in capsys.readouterr().err


def test_configs_refuse_options_of_another_model_on_construction():
    with pytest.raises(ValueError, match='--encoder applies to --model dgi, ggd, graphacl only'):
        gd.NodeConfig.from_dict({'model': 'mvgrl', 'encoder': 'sage'})  # flat, as the CLI
    with pytest.raises(ValueError, match='--top-k, --sample-size apply to --model mvgrl only'):
        gd.NodeConfig.from_dict({'top_k': 4, 'sample_size': 10})
    with pytest.raises(ValueError, match='--alpha applies to --model mvgrl only'):
        gd.GraphConfig(model_options={'alpha': 0.1})
    config = gd.NodeConfig(model='mvgrl', model_options={'top_k': 4})
    assert config.model_options.top_k == 4
