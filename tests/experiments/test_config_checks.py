"""Configs are typed: the command line, --config files, presets and Python go through the same
types, choices and bounds; every expected CLI error is one line and exit code 2."""
import json

import pytest

from graphdim import GraphConfig, ImageConfig, NodeConfig, cli


@pytest.mark.parametrize('values, message', [
    ({'normalize_features': 'false'}, "normalize_features must be true or false; got 'false'"),
    ({'epochs': 2.5}, 'epochs must be an integer; got 2.5'),
    ({'lr': 0}, 'lr must be > 0; got 0'),
    ({'patience': -1}, 'patience must be >= 0; got -1'),
    ({'encoder': 'transformer'}, "encoder must be one of gcn, sage, gin, gat"),
    ({'hidden_channels': True}, 'hidden_channels \\(--hidden\\) must be an integer'),
])
def test_node_config_checks_types_and_bounds(values, message):
    with pytest.raises(ValueError, match=message):
        NodeConfig.from_dict(values)  # the model's options flat beside the level's


def test_numbers_are_taken_where_they_fit():
    assert NodeConfig(lr=1).lr == 1.0 and isinstance(NodeConfig(lr=1).lr, float)
    assert GraphConfig(folds=3).folds == 3
    assert ImageConfig(probes=['linear', 'mlp']).probes == ('linear', 'mlp')
    with pytest.raises(ValueError, match='folds must be >= 2'):
        GraphConfig(folds=1)


@pytest.mark.parametrize('values, message', [
    ({'normalize_features': 'false'}, 'normalize_features must be true or false'),
    ({'epochs': 2.5}, 'epochs must be an integer'),
])
def test_config_files_are_checked_like_the_command_line(tmp_path, capsys, values, message):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(values))
    assert cli.main(['train', '--config', str(path), '--quiet']) == 2
    err = capsys.readouterr().err
    assert message in err and 'Traceback' not in err


@pytest.mark.parametrize('argv, message', [
    (['train', '--lr', '0'], 'lr must be > 0'),
    (['train', '--hidden', '0'], 'hidden_channels (--hidden) must be >= 1'),
    (['train', '--patience', '-1'], 'patience must be >= 0'),
    (['train', '--device', 'tpu'], "unknown device 'tpu'"),
    (['image', '--epochs', '0'], 'epochs must be >= 1'),
])
def test_bad_options_are_one_line_and_exit_2(capsys, argv, message):
    assert cli.main([*argv, '--quiet']) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith('graphdim: error:')


def test_debug_shows_the_traceback():
    with pytest.raises(ValueError, match='lr must be > 0'):
        cli.main(['train', '--lr', '0', '--quiet', '--debug'])


def test_a_one_node_graph_is_refused(tmp_path, capsys):
    (tmp_path / 'edges.txt').write_text('0 0\n')
    assert cli.main(['train', '--graph', str(tmp_path / 'edges.txt'), '--missing-features',
                     'ones', '--quiet']) == 2
    assert 'at least 2 nodes' in capsys.readouterr().err


@pytest.mark.parametrize('values, message', [
    ({'lr': float('nan')}, 'lr must be a finite number'),
    ({'model': 'mvgrl', 'alpha': float('nan')}, 'alpha must be a finite number'),
    ({'model': 'mvgrl', 'diffusion_time': float('inf')}, 'must be a finite number'),
    ({'corruption_p': float('nan')}, r'corruption_p \(--corruption-p\) must be a finite'),
    ({'hops': (0, -1)}, 'hops must be >= 0'),
    ({'hops': ()}, 'hops must be a non-empty list'),
])
def test_nan_infinity_and_bad_list_elements_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        NodeConfig.from_dict(values)  # the model's options flat beside the level's
