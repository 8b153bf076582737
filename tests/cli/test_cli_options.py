"""Command-line options generated from the config dataclasses (graphdim.cli.options)."""
import argparse
import json
from dataclasses import fields

import pytest

from graphdim.registry import models_help

from graphdim import cli
from graphdim.cli.common import apply_config_defaults
from graphdim.cli.options import config_from_args, option_flag, option_help
from graphdim.cli.train_graph import graph_config_from_args, graph_level_fields
from graphdim.experiments import GraphConfig, ImageConfig, NodeConfig

# Each command with the config classes its options come from (train: one parser per level).
COMMAND_CONFIGS = [('train', NodeConfig), ('train', GraphConfig), ('image', ImageConfig)]


def _parse(argv):
    parser = cli.build_parser(argv)
    return apply_config_defaults(parser, parser.parse_args(argv), argv)


def _actions(command, config_class=None):
    argv = [command, '--level', 'graph'] if config_class is GraphConfig else [command]
    return {action.dest: action
            for action in cli.build_parser(argv).command_parsers[command]._actions}


def _field(config_class, name):
    return next(f for f in fields(config_class) if f.name == name)


def _declaring_field(config_class, name):
    """The field an option is generated from: at graph level, GraphConfig's merged with
    NodeConfig's where both levels have the field (its flag and choices)."""
    if config_class is GraphConfig:
        return graph_level_fields()[name]
    return _field(config_class, name)


@pytest.mark.parametrize('command, config_class', COMMAND_CONFIGS)
def test_every_config_field_is_an_option_with_its_flag_help_and_default(command, config_class):
    actions = _actions(command, config_class)
    nothing_given = _parse([command] + (['--level', 'graph'] if config_class is GraphConfig
                                        else []))
    for field in fields(config_class):
        if field.name == 'model_options':  # its own: tests/experiments/test_model_options.py
            continue
        action = actions[field.name]  # every field is an option of its command
        declared = _declaring_field(config_class, field.name)
        assert option_flag(declared) in action.option_strings
        assert action.default is argparse.SUPPRESS, field.name
        help = None if action.help is None else action.help % {}  # argparse's own formatting
        expected = option_help(declared)
        if command == 'train' and field.name == 'model':  # the registry's models
            expected = models_help(config_class.LEVEL) + (
                ' (graph-level models: --level graph --help)' if config_class is NodeConfig
                else '')
        assert help == expected, field.name
        assert field.name not in vars(nothing_given)
    assert config_from_args(config_class, nothing_given) == config_class()


def test_help_texts_and_shown_defaults_stay_as_they_were():
    train = cli.build_parser().command_parsers['train']
    helps = {action.dest: action.help for action in train._actions}
    assert helps['hidden_channels'] == 'embedding size (default 512)'
    assert helps['dataset'].startswith('karate (built in, default), Cora, CiteSeer')
    assert helps['batch_size'] == 'seed nodes per mini-batch (per process), 0 (default): full-batch'
    text = train.format_help()
    for flag in ('--hidden HIDDEN_CHANNELS', '--layers NUM_LAYERS', '--no-normalize-features',
                 '--num-neighbors F1,F2', '--checkpoint-every K', '--graph FILE',
                 '--random-baseline', '--level {node,graph}'):
        assert flag in text
    for graph_only in ('--no-projection-heads', '--no-standardize', '--folds'):  # not shown
        assert graph_only not in text
    # the graph level's parser: its own defaults and helps, NodeConfig's flags
    graph = cli.build_parser(['train', '--level', 'graph']).command_parsers['train']
    helps = {action.dest: action.help for action in graph._actions}
    assert helps['hidden_channels'] == 'embedding size (default 32)'
    assert helps['dataset'].startswith('a TU dataset (MUTAG, PTC_MR')
    assert helps['prior_weight'] == ('weight of adversarial prior matching (default 0: off; '
                                     'the DIM papers use 0.1) (--model infograph)')
    assert helps['batch_size'] == 'graphs per batch, the others in the batch being the ' \
                                  'negatives (default 128)'
    assert helps['max_degree'].endswith('(default 64)') and helps['folds'].endswith(
        'default 10)')
    text = graph.format_help()
    for flag in ('--hidden HIDDEN_CHANNELS', '--no-projection-heads', '--no-standardize'):
        assert flag in text
    for node_only in ('--encoder', '--tensorboard', '--hops', '--graph FILE'):
        assert node_only not in text
    image = {a.dest: a for a in cli.build_parser().command_parsers['image']._actions}
    assert image['mi_units'].help == "width of the critic heads (default 256; DIM's code: 2048)"
    assert image['probes'].nargs == '+' and list(image['probes'].choices) == ['linear', 'mlp']
    assert list(image['mode'].choices) == ['global', 'local', 'local+global']


def test_a_value_equal_to_the_default_is_still_given():
    args = _parse(['train', '--lr', '0.001', '--hidden', '512'])
    assert vars(args)['lr'] == 0.001 and 'lr' not in vars(_parse(['train']))
    # --hidden 512 and --epochs 1000 are DGI's defaults, given here: the graph level takes them
    given = graph_config_from_args(_parse(['train', '--level', 'graph', '--hidden', '512',
                                           '--epochs', '1000', '--estimator', 'bce']))
    assert (given.hidden_channels, given.epochs, given.estimator) == (512, 1000, 'bce')
    default = graph_config_from_args(_parse(['train', '--level', 'graph']))
    assert (default.hidden_channels, default.epochs, default.estimator) == (32, 20, 'jsd')
    assert (default.dataset, default.min_epochs, default.batch_size) == ('MUTAG', 0, 128)


@pytest.mark.parametrize('argv, message', [
    (['--level', 'graph', '--encoder', 'gcn'], '--encoder applies to node-level DIM only'),
    (['--level', 'graph', '--corruption-p', '0.2'], '--corruption-p applies to node-level'),
    (['--folds', '10'], '--folds applies to graph-level DIM only'),
    (['--no-projection-heads'], '--no-projection-heads applies to graph-level DIM only'),
    (['--no-standardize'], '--no-standardize applies to graph-level DIM only'),
])
def test_an_option_of_the_other_level_is_rejected_even_at_its_default(argv, message, capsys):
    assert cli.main(['train', *argv]) == 2
    assert message in capsys.readouterr().err


def test_command_line_beats_preset_and_config_which_beat_the_dataclass(tmp_path):
    preset = graph_config_from_args(_parse(['train', '--preset', 'infograph-mutag']))
    assert (preset.lr, preset.seeds, preset.folds) == (0.01, 5, 10)  # preset, preset, default
    typed = graph_config_from_args(_parse(['train', '--preset', 'infograph-mutag', '--lr',
                                           '0.001']))
    assert (typed.lr, typed.seeds) == (0.001, 5)
    path = tmp_path / 'config.json'
    path.write_text(json.dumps({'config': {'hidden_channels': 512, 'lr': 0.01}}))
    # a config file's value counts as given: 512 at graph level, not InfoGraph's 32
    from_file = graph_config_from_args(_parse(['train', '--level', 'graph', '--config',
                                               str(path), '--lr', '0.1']))
    assert (from_file.hidden_channels, from_file.lr, from_file.num_layers) == (512, 0.1, 5)


def test_switches_flip_the_dataclass_default():
    node = config_from_args(NodeConfig, _parse(['train', '--no-normalize-features',
                                                '--no-download', '--distributed', '--resume']))
    assert (node.normalize_features, node.download, node.distributed, node.resume) == \
        (False, False, True, True)
    graph = graph_config_from_args(_parse(['train', '--level', 'graph', '--no-projection-heads',
                                           '--random-baseline', '--no-standardize']))
    assert (graph.model_options.projection_heads, graph.random_baseline, graph.standardize) == \
        (False, True, False)
    image = config_from_args(ImageConfig, _parse(['image', '--no-baselines']))
    assert image.baselines is False and image.download is True


def test_parsed_values_have_their_plain_types(tmp_path):
    """What reaches a config (and so a saved config or checkpoint) is plain int / float / str."""
    node = config_from_args(NodeConfig, _parse(['train', '--hidden', '16', '--lr', '1e-2',
                                                '--dataset', 'Cora']))
    assert (type(node.hidden_channels), type(node.lr), type(node.dataset)) == (int, float, str)
    graph = graph_config_from_args(_parse(['train', '--level', 'graph']))
    values = {**vars(graph), **vars(graph.model_options)}  # the level's and the model's
    assert all(type(value) in (int, float, str, bool, type(None))
               for name, value in values.items() if name != 'model_options')
    image = config_from_args(ImageConfig, _parse(['image', '--probes', 'linear', 'mlp']))
    assert image.probes == ('linear', 'mlp') and image.features == ('y', )
    path = tmp_path / 'image.json'
    path.write_text(json.dumps({'features': ['y', 'fc']}))  # JSON has lists, configs tuples
    assert config_from_args(ImageConfig, _parse(['image', '--config', str(path)])).features == \
        ('y', 'fc')


def test_the_train_parser_is_the_level_the_command_line_trains(tmp_path):
    """One parser per level: --level, else the preset's or the config's level, chooses it."""
    from graphdim.cli.train import train_level
    assert train_level([]) == 'node' and train_level(['--level', 'graph']) == 'graph'
    assert train_level(['--preset', 'infograph-mutag']) == 'graph'
    assert train_level(['--preset', 'infograph-mutag', '--level', 'node']) == 'node'
    assert train_level(['--preset', 'no-such-preset']) == 'node'  # the run says what is wrong
    graph_run = tmp_path / 'config.json'
    graph_run.write_text(json.dumps({'kind': 'graph', 'config': {'model': 'infograph'},
                                     'seeds': [0]}))
    assert train_level(['--config', str(graph_run)]) == 'graph'
    assert train_level(['--config', str(tmp_path / 'missing.json')]) == 'node'
    # a graph-level option after a graph-level preset or config is the graph level's own
    for argv in (['train', '--preset', 'infograph-mutag', '--folds', '3'],
                 ['train', '--config', str(graph_run), '--folds', '3']):
        assert graph_config_from_args(_parse(argv)).folds == 3


def test_a_config_file_setting_the_other_levels_option_is_refused_in_one_line(tmp_path, capsys):
    recipe = tmp_path / 'recipe.json'
    recipe.write_text(json.dumps({'dataset': 'karate', 'folds': 3}))
    assert cli.main(['train', '--config', str(recipe)]) == 2
    error = capsys.readouterr().err
    assert error.count('\n') == 1 and f'the config file {recipe}: --folds applies to ' \
        'graph-level DIM only; add --level graph' in error
