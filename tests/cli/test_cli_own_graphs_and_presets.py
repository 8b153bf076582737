"""Your own graph through the command line (train, embed, plot, logs, TensorBoard) and the
presets and config files that set a run (reading the files: tests/data/test_custom_graphs.py)."""
import json

import networkx as nx
import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim import cli
from graphdim.cli.common import apply_config_defaults
from graphdim.cli.options import config_from_args
from helpers import karate_files

QUICK = ['--epochs', '20', '--hidden', '16', '--quiet']


def _run_cli(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_train_embed_and_plot_your_own_graph_from_the_cli(tmp_path, capsys):
    edges, x, y = karate_files(tmp_path)
    run_dir = tmp_path / 'run'
    code, out, err = _run_cli(['train', '--graph', str(edges), '--features', str(x), '--labels',
                               str(y), '--out', str(run_dir), '--plot', '--json', *QUICK], capsys)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary['dataset'] == 'edges' and summary['num_nodes'] == 34
    assert 0 <= summary['test_acc_mean'] <= 100 and 'random 10%/10%/80%' in summary['split']
    for name in ('tsne_seed0.png', 'loss.png'):  # real PNG files, not empty placeholders
        assert (run_dir / name).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    log = [json.loads(line) for line in (run_dir / 'seed_0' / 'log.jsonl').read_text().splitlines()]
    assert [r['epoch'] for r in log] == list(range(1, 21)) and {'loss', 'seconds', 'lr'} <= set(log[0])

    code, out, err = _run_cli(['embed', str(run_dir), '--graph', str(edges), '--features', str(x),
                               '--out', str(tmp_path / 'emb')], capsys)
    assert code == 0, err
    saved = torch.load(tmp_path / 'emb.pt', weights_only=True)
    assert saved['embeddings'].shape == (34, 16) and saved['node_ids'] == list(range(34))
    assert np.load(tmp_path / 'emb.npy').shape == (34, 16)
    # The saved model reproduces the run's own embeddings of the same graph.
    model, _ = gd.load_model(run_dir)
    same = torch.load(run_dir / 'seed_0' / 'embeddings.pt', weights_only=True)
    assert torch.allclose(saved['embeddings'], same, atol=1e-5)
    assert model.hidden_channels == 16


def test_a_graph_without_labels_is_trained_but_not_probed(tmp_path, capsys):
    edges, x, _ = karate_files(tmp_path, with_labels=False)
    code, out, err = _run_cli(['train', '--graph', str(edges), '--features', str(x), '--json',
                               *QUICK], capsys)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary['test_acc_mean'] is None and 'not probed' in out


def test_run_experiment_on_a_networkx_graph_in_python():
    graph = nx.karate_club_graph()
    for n in graph.nodes:
        graph.nodes[n]['onehot'] = np.eye(34, dtype=np.float32)[n]
    data = gd.from_networkx(graph, label_attribute='club')
    summary = gd.run_node_experiment(gd.NodeConfig(epochs=10, hidden_channels=8), progress=False,
                                     dataset=gd.NodeDataset('karate-nx', data, 2, False))
    assert summary['dataset'] == 'karate-nx' and summary['num_nodes'] == 34


def test_plot_and_tensorboard_need_an_out_dir(capsys):
    code, _, err = _run_cli(['train', '--plot', *QUICK], capsys)
    assert code == 2 and '--out DIR' in err


def test_tensorboard_writes_event_files(tmp_path, capsys):
    pytest.importorskip('tensorboard')
    code, _, err = _run_cli(['train', '--epochs', '5', '--hidden', '8', '--quiet', '--out',
                             str(tmp_path), '--tensorboard'], capsys)
    assert code == 0, err
    events = list((tmp_path / 'tensorboard' / 'seed_0').glob('events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 0


# --- configs and presets --------------------------------------------------------------------

def _parse(argv):
    parser = cli.build_parser(argv)
    return apply_config_defaults(parser, parser.parse_args(argv), argv)


def test_preset_sets_the_recipe_and_the_command_line_still_wins():
    config = config_from_args(gd.NodeConfig, _parse(['train', '--preset', 'dgi-cora']))
    assert (config.dataset, config.seeds, config.hidden_channels, config.estimator) == \
        ('Cora', 10, 512, 'bce')
    args = _parse(['train', '--preset', 'dgi-cora', '--seeds', '2'])
    assert args.seeds == 2


def test_every_preset_names_only_options_of_its_command():
    from graphdim.cli.train import OtherLevelOption
    for name, (command, values) in gd.PRESETS.items():
        parser = cli.build_parser([command, '--preset', name])  # train: the preset's level
        known = {a.dest for a in parser.command_parsers[command]._actions
                 if not isinstance(a, OtherLevelOption)}
        assert set(values) <= known, name


@pytest.mark.parametrize('argv, message', [
    (['train', '--preset', 'dgi-mars'], "unknown preset 'dgi-mars'"),
    (['train', '--config', '/no/such/config.json'], 'config file /no/such/config.json not found'),
])
def test_bad_preset_or_config_is_a_clear_error(argv, message, capsys):
    code, _, err = _run_cli(argv, capsys)
    assert code == 2 and message in err


def test_config_with_unknown_keys_is_rejected(tmp_path, capsys):
    path = tmp_path / 'c.json'
    path.write_text(json.dumps({'dataset': 'karate', 'hidden_size': 3}))
    code, _, err = _run_cli(['train', '--config', str(path)], capsys)
    assert code == 2 and 'unknown options in the config: hidden_size' in err
    path.write_text('{not json')
    code, _, err = _run_cli(['train', '--config', str(path)], capsys)
    assert code == 2 and 'not valid JSON' in err
