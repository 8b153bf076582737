"""Issue 37, causes 8-12: every option bounded by what the computation takes, every value of
a --config file checked as data (typed, bounded, shown cut to one line), every check that can
run before the run folder is touched run before it, nothing silently ignored, and no output
path that is a device or other special file. Issue 27, cause 5: an option that acts only with
another is refused without it, and accepted with it."""
import json
import os

import numpy as np
import pytest

from graphdim import cli

FAST = ['--epochs', '2', '--hidden', '8', '--quiet']
TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']


def _one_error_line(capsys, *words) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('graphdim: error:'), err
    assert all(word in err[0] for word in words), err[0]
    return err[0]


def _untouched(folder) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize('argv', [
    ['train', '--lr', '1e38'],
    ['train', '--weight-decay', '1e38'],
    ['train', '--level', 'graph', '--lr', '1e38'],
    ['image', '--lr', '1e38'],
])
def test_learning_rates_are_bounded_by_what_adam_takes(capsys, argv):
    # 1e38 passed the float32 check, then Adam's first step (10 x lr) overflowed float32.
    assert cli.main([*argv, '--quiet']) == 2
    _one_error_line(capsys, 'must be <= 1e+06', '1e+38')


@pytest.mark.parametrize('values, words', [
    ({'model': {}}, ('model must be a string', '{}')),
    ({'epochs': [2]}, ('epochs must be an integer', '[2]')),
    ({'level': 'nodes'}, ('level must be one of node, graph', "'nodes'")),
    ({'plot': 'yes'}, ('plot must be true or false', "'yes'")),
    ({'dataset': 'x' * 10 ** 5}, ('dataset must be at most 4096 characters', '...')),
    ({'preset': 'dgi-cora'}, ('sets preset', 'command line')),
    ({'help': True}, ('sets help', 'command line')),
])
def test_config_values_are_checked_as_data_before_anything_runs(tmp_path, capsys,
                                                                       values, words):
    config, out = tmp_path / 'config.json', tmp_path / 'run'
    config.write_text(json.dumps(values))
    assert cli.main(['train', '--config', str(config), *FAST, '--out', str(out)]) == 2
    line = _one_error_line(capsys, str(config), *words)
    assert len(line) < 400  # the value is shown cut, never whole
    assert _untouched(out)


def _labels(tmp_path, labels):
    edges, label_file = tmp_path / 'ring.txt', tmp_path / 'labels.txt'
    edges.write_text(''.join(f'{i} {(i + 1) % len(labels)}\n' for i in range(len(labels))))
    label_file.write_text(''.join(f'{y}\n' for y in labels))
    return ['--graph', str(edges), '--labels', str(label_file), '--missing-features', 'ones']


@pytest.mark.parametrize('case, named', [
    (lambda tmp: ['--level', 'graph', '--weight-decay', '-1'], '--weight-decay'),
    (lambda tmp: ['--level', 'graph', '--folds', '1000'], '--folds 1000'),
    (lambda tmp: ['--level', 'graph', '--inner-folds', '1000'], '--inner-folds 1000'),
    (lambda tmp: ['--hops', '1', '2', '--hops-cv', '1000'], '--hops-cv 1000'),
    # enough rows, but stratified folds need a class with a row in each (3 rows per class)
    (lambda tmp: [*_labels(tmp, [0, 1] * 15), '--hops', '1', '2', '--hops-cv', '5'],
     '--hops-cv 5'),
    (lambda tmp: _labels(tmp, [0] * 30), 'one class'),  # a probe of one class
    (lambda tmp: _labels(tmp, list(range(30))), 'split is empty'),  # one node per class
    (lambda tmp: ['image', '--val-size', '0'], 'val_size'),
    (lambda tmp: ['image', '--probe-train-size', '0'], 'probe_train_size'),
    (lambda tmp: ['image', '--val-size', '100000'], 'val_size'),
])
def test_refused_before_the_run_folder_is_touched(tmp_path, capsys, case, named):
    argv = case(tmp_path)
    command = ['image'] if argv[0] == 'image' else ['train']
    argv = argv[1:] if argv[0] == 'image' else argv
    out = tmp_path / 'run'
    assert cli.main([*command, *argv, '--epochs', '1', '--quiet', '--out', str(out)]) == 2
    _one_error_line(capsys, named)
    assert _untouched(out)  # no config.json, no labels.pt: nothing to --overwrite


def test_options_that_would_be_ignored_are_refused(tmp_path, capsys):
    features = tmp_path / 'features.npy'
    np.save(features, np.eye(30, dtype=np.float32))
    graph = _labels(tmp_path, [0, 1] * 15)
    out = tmp_path / 'run'
    assert cli.main(['train', *graph, '--features', str(features), *FAST,
                     '--out', str(out)]) == 2
    _one_error_line(capsys, '--missing-features', '--features')
    # MUTAG has node features: --max-degree (for featureless graphs) would do nothing.
    assert cli.main(['train', '--level', 'graph', '--max-degree', '5', *FAST,
                     '--out', str(out)]) == 2
    _one_error_line(capsys, '--max-degree', 'MUTAG')
    assert _untouched(out)


def test_integers_are_bounded_and_embed_writes_only_plain_files(tmp_path, capsys):
    for option, name in (('--batch-size', 'batch_size'), ('--epochs', 'epochs'),
                         ('--hidden', 'hidden_channels'), ('--inner-folds', 'inner_folds')):
        level = ['--level', 'graph'] if option == '--inner-folds' else []
        assert cli.main(['train', *level, option, str(2 ** 63), '--quiet']) == 2
        _one_error_line(capsys, name, 'must be <= 2147483647')  # not "unpacking long long"
    run = tmp_path / 'run'
    assert cli.main(['train', *FAST, '--out', str(run)]) == 0
    capsys.readouterr()
    pipe, folder, plain = tmp_path / 'pipe', tmp_path / 'folder', tmp_path / 'plain'
    os.mkfifo(pipe)
    folder.mkdir()
    plain.write_text('a file\n')
    (tmp_path / 'busy.pt').mkdir()  # a file embed writes is a folder
    for out, words in ((pipe, ('named pipe', 'OUT.pt')), (folder, ('is a folder', )),
                       (plain / 'z', ('Not a directory', )),
                       (tmp_path / 'busy', ('busy.pt is a folder', ))):
        assert cli.main(['embed', str(run), '--out', str(out), '--quiet']) == 2
        _one_error_line(capsys, f'--out {out}', *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'busy.pt', 'folder', 'pipe', 'plain', 'run']  # nothing written beside them
    assert cli.main(['embed', str(run), '--out', str(tmp_path / 'new' / 'z'), '--quiet']) == 0


# --- issue 27, cause 5: options that act only with another are refused, not ignored ---------
@pytest.mark.parametrize('options, flag', [
    (['--features', 'x.npy'], '--features'),
    (['--labels', 'y.txt'], '--labels'),
    (['--missing-features', 'degree'], '--missing-features'),
    (['--dataset', 'Cora', '--graph', 'g.txt'], '--dataset'),
    (['--corruption-p', '0.3'], '--corruption-p'),
    (['--model', 'mvgrl', '--diffusion-time', '3'], '--diffusion-time'),
    (['--model', 'mvgrl', '--diffusion', 'heat', '--alpha', '0.3'], '--alpha'),
    (['--model', 'mvgrl', '--subgraphs', '8'], '--subgraphs'),
    (['--reinforcement', 'replace'], '--reinforcement'),
])
def test_options_without_the_option_they_act_with_are_refused(tmp_path, capsys,
                                                                      options, flag):
    argv = [a for a in TRAIN if a not in ('--dataset', 'karate')] \
        if '--dataset' in options else TRAIN
    assert cli.main([*argv, *options, '--out', str(tmp_path / 'new')]) == 2
    line = _one_error_line(capsys, flag)
    assert 'drop' in line or 'give one' in line
    assert not (tmp_path / 'new').exists()


def test_what_acts_is_still_accepted():
    from graphdim.experiments import GraphConfig, ImageConfig, NodeConfig
    # (from_dict: the model's options flat beside the level's, as the command line gives them)
    NodeConfig.from_dict(dict(corruption='edge_drop', corruption_p=0.3))
    NodeConfig.from_dict(dict(model='ggd', corruption_p=0.3))  # GGD's older name: drop_feature_p
    NodeConfig.from_dict(dict(model='mvgrl', diffusion='heat', diffusion_time=3.0))
    NodeConfig.from_dict(dict(model='mvgrl', sample_size=20, subgraphs=8))
    NodeConfig(hops=(0, 2), reinforcement=('add', 'replace'))
    GraphConfig.from_dict(dict(model='mvgrl', diffusion='heat', diffusion_time=3.0))
    ImageConfig(probes=('linear', 'mlp'), mlp_epochs=5)
    with pytest.raises(ValueError, match='--mlp-epochs'):
        ImageConfig(mlp_epochs=5)
    with pytest.raises(ValueError, match='--diffusion-time'):
        GraphConfig.from_dict(dict(model='mvgrl', diffusion_time=3.0))


def test_embed_features_without_graph_is_refused(finished_run, capsys, tmp_path):
    assert cli.main(['embed', str(finished_run), '--features', 'x.npy',
                     '--out', str(tmp_path / 'z')]) == 2
    _one_error_line(capsys, '--features', '--graph')
