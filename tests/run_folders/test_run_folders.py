"""Run folders: one layout for node, graph and image runs, and each kind round-trips
train -> embed -> plot -> train --config with the same result."""
import json

import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim import cli
from graphdim.cli.common import read_config_source
from graphdim.registry import flat_options
from graphdim.runs import RunFolder

PNG = b'\x89PNG\r\n\x1a\n'

# A few seconds of training per kind: karate (built in), MUTAG, 128 MNIST images.
TRAIN_ARGV = {
    'node': lambda roots: ['train', '--epochs', '20', '--hidden', '16'],
    'graph': lambda roots: ['train', '--level', 'graph', '--dataset', 'MUTAG', '--root',
                            roots['graph'], '--epochs', '2', '--folds', '3', '--inner-folds',
                            '2', '--hidden', '8', '--layers', '2'],
    'image': lambda roots: ['image', '--root', roots['image'], '--epochs', '1', '--train-size',
                            '128', '--val-size', '50', '--probe-train-size', '100',
                            '--mi-units', '8', '--out-dim', '8', '--no-baselines'],
}
# What graphdim embed writes: rows x width, and what a row is. Graph level: 2 layers of 8
# units, concatenated; image: --out-dim 8 for each of the small MNIST's 300 test images.
EMBEDDED = {'node': (34, 16, 'nodes'), 'graph': (188, 16, 'graphs'),
            'image': (300, 8, 'test images')}
CONFIG_CLASS = {'node': gd.NodeConfig, 'graph': gd.GraphConfig, 'image': gd.ImageConfig}


def _run_cli(argv, capsys):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _json_line(out):
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def roots(data_root, tmp_path_factory):
    """Data roots: the offline one, and a small MNIST (the first 600 training and 300 test
    images of the real one) so that embedding every test image takes no time."""
    small = tmp_path_factory.mktemp('small_mnist')
    (small / 'images' / 'mnist').mkdir(parents=True)
    for split, size in (('train', 600), ('test', 300)):
        with np.load(data_root / 'images' / 'mnist' / f'{split}.npz') as full:
            np.savez(small / 'images' / 'mnist' / f'{split}.npz', images=full['images'][:size],
                     labels=full['labels'][:size])
    return {'graph': data_root, 'image': small}


@pytest.mark.parametrize('kind', ['node', pytest.param('graph', marks=pytest.mark.slow),
                                  pytest.param('image', marks=pytest.mark.slow)])  # long
def test_every_kind_round_trips_train_embed_plot_and_replay(kind, roots, tmp_path, capsys):
    run_dir = tmp_path / 'run'
    first = _json_line(_run_cli([*TRAIN_ARGV[kind](roots), '--seed', '1', '--quiet',
                                 '--json', '--out', run_dir], capsys))
    saved = json.loads((run_dir / 'config.json').read_text())
    assert (saved['kind'], saved['seeds']) == (kind, [1]) and 'torch' in saved['versions']
    assert json.loads((run_dir / 'results.json').read_text())['runs'] == first['runs']

    model, config = gd.load_model(run_dir)
    assert config == CONFIG_CLASS[kind].from_dict(first['config'])
    assert not model.training

    rows, width, what = EMBEDDED[kind]
    out = _run_cli(['embed', run_dir, '--out', tmp_path / 'emb'], capsys)
    assert f'embedded {rows} {what} -> {width}-d' in out
    embedded = torch.load(tmp_path / 'emb.pt', weights_only=True)['embeddings']
    trained = torch.load(run_dir / 'seed_1' / 'embeddings.pt', weights_only=True)
    assert embedded.shape == (rows, width)
    torch.testing.assert_close(embedded, trained, rtol=0, atol=1e-5)  # the saved model is it

    _run_cli(['plot', run_dir, '--max-points', '200'], capsys)
    for name in ('tsne_seed1.png', 'loss.png'):
        assert (run_dir / name).read_bytes()[:8] == PNG

    # train --config replays a run of any kind (an image run through graphdim image).
    again = _json_line(_run_cli(['train', '--config', run_dir / 'config.json', '--quiet',
                                 '--json', '--out', tmp_path / 'again'], capsys))
    assert again['config'] == first['config']
    assert again['test_acc_mean'] == first['test_acc_mean']
    assert again['runs'][0]['final_loss'] == first['runs'][0]['final_loss']
    assert torch.equal(torch.load(tmp_path / 'again' / 'seed_1' / 'embeddings.pt',
                                  weights_only=True), trained)
    assert RunFolder(tmp_path / 'again').read_config()['kind'] == kind


def test_the_layout_of_a_run_folder(tmp_path):
    folder = RunFolder(tmp_path)
    assert folder.config_path == tmp_path / 'config.json'
    assert folder.results_path == tmp_path / 'results.json'
    assert folder.labels_path == tmp_path / 'labels.pt'
    assert folder.model_path(3) == tmp_path / 'seed_3' / 'model.pt'
    assert folder.embeddings_path(3) == tmp_path / 'seed_3' / 'embeddings.pt'
    assert folder.log_path(3) == tmp_path / 'seed_3' / 'log.jsonl'
    assert folder.checkpoint_path(3) == tmp_path / 'seed_3' / 'checkpoint.pt'
    assert folder.tensorboard_dir(3) == tmp_path / 'tensorboard' / 'seed_3'
    with pytest.raises(ValueError, match="unknown run kind 'edge'"):
        folder.write_config('edge', {}, [0])
    with pytest.raises(FileNotFoundError, match='not a graphdim run directory'):
        folder.read_config()


@pytest.fixture
def node_run(tmp_path):
    """A short karate run written to ``tmp_path / 'run'``."""
    config = gd.NodeConfig(epochs=3, min_epochs=1, hidden_channels=8, seed=2)
    gd.run_node_experiment(config, progress=False, out_dir=str(tmp_path / 'run'))
    return tmp_path / 'run'


def test_a_config_json_without_kind_is_a_node_level_run(node_run):
    path = node_run / 'config.json'
    saved = json.loads(path.read_text())
    del saved['kind']  # as runs wrote it before kinds were recorded
    path.write_text(json.dumps(saved))
    model, config = gd.load_model(node_run)
    assert isinstance(config, gd.NodeConfig) and model.hidden_channels == 8
    # Read as the command line names options: a model's options flat beside the level's.
    flat = flat_options(saved['config'])
    assert 'model_options' in saved['config'] and 'model_options' not in flat
    assert read_config_source(path) == ('node', flat)
    assert read_config_source(node_run) == ('node', flat)  # the folder itself


def test_seeds_and_kinds_a_run_does_not_hold_are_clear_errors(node_run, tmp_path, capsys):
    with pytest.raises(ValueError, match=r'seed 5 is not in .*it holds seeds \[2\]'):
        gd.load_model(node_run, seed=5)
    assert cli.main(['image', '--config', str(node_run / 'config.json')]) == 2
    assert 'replay it with graphdim train --config' in capsys.readouterr().err
    path = node_run / 'config.json'
    path.write_text(json.dumps({**json.loads(path.read_text()), 'kind': 'edge'}))
    with pytest.raises(ValueError, match="unknown kind 'edge'"):
        gd.load_model(node_run)


def test_a_flat_config_object_has_no_kind(tmp_path):
    path = tmp_path / 'options.json'
    path.write_text(json.dumps({'dataset': 'karate', 'hidden_channels': 8}))
    assert read_config_source(path) == (None, {'dataset': 'karate', 'hidden_channels': 8})
