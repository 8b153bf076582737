"""A model owns its options (issue 34, item 1): each model's options are declared in its file,
the level's config holds none of them, the command line has one group per model, config.json
keeps them under the model, and runs written before (flat keys) still load."""
import json
import typing
from dataclasses import dataclass, fields

import pytest
import torch

import graphdim as gd
from graphdim import cli
from graphdim.cli.options import model_group_title, readers_note
from graphdim.experiments import GraphConfig, NodeConfig
from graphdim.experiments.config import checked_value, option_flag
from graphdim.registry import (LEVELS, ModelEntry, model_entries, model_option_fields, option,
                               register_model, unregister_model)

CONFIGS = {'node': NodeConfig, 'graph': GraphConfig}
# A second value of each setting every model of a level reads.
OTHER_VALUE = {'hidden_channels': 9, 'num_layers': 3, 'activation': 'relu', 'estimator': 'dv'}


def _fingerprint(model: torch.nn.Module) -> tuple:
    """What a setting can change in a built model: its parameters' shapes, its plain values."""
    shapes = sorted((name, tuple(value.shape)) for name, value in model.state_dict().items())
    plain = sorted((f'{path}.{name}', value) for path, module in model.named_modules()
                   for name, value in vars(module).items()
                   if isinstance(value, (str, int, float, bool)) and not name.startswith('_'))
    return shapes, plain


@pytest.mark.parametrize('level', LEVELS)
def test_the_level_config_holds_no_option_that_only_some_models_read(level):
    """A model is built from its own options and the level's settings every model reads
    (MODEL_ARGUMENTS): no level field is a model's option, and each of those settings changes
    every registered model that is built with it."""
    config_class = CONFIGS[level]
    for entry in model_entries(level):
        assert not {f.name for f in fields(entry.options)} & set(config_class.field_names()), \
            entry.name
    assert set(config_class.MODEL_ARGUMENTS) <= set(config_class.field_names())
    for entry in model_entries(level):
        base = config_class(model=entry.name, hidden_channels=8, num_layers=2)
        for name in config_class.MODEL_ARGUMENTS:
            changed = config_class(**{**vars(base), name: OTHER_VALUE[name]})
            assert _fingerprint(base.build_model(5)) != _fingerprint(changed.build_model(5)), \
                (entry.name, name)  # a setting one model ignores belongs to the models


def test_each_model_is_a_group_of_the_command_line():
    for level in LEVELS:  # one parser per level
        train = cli.build_parser(['train', '--level', level]).command_parsers['train']
        text = ' '.join(train.format_help().split())
        actions = {action.dest: action for action in train._actions}
        for name, field in model_option_fields(level).items():
            assert option_flag(field) in actions[name].option_strings
            assert actions[name].help.endswith(readers_note(level, name)), name
        for entry in model_entries(level):
            assert ' '.join(model_group_title(level, entry).split()) in text


def test_model_help_shows_the_models_options_only(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(['train', '--model', 'ggd', '--help'])
    shown = capsys.readouterr().out
    shown = shown[shown.index('options:'):]  # the groups (the usage line names every flag)
    assert done.value.code == 0
    assert all(flag in shown for flag in ('--encoder', '--drop-feature-p', '--mask-clean'))
    assert not any(flag in shown for flag in ('--readout', '--top-k', '--prior-weight'))
    with pytest.raises(SystemExit):
        cli.main(['train', '--level', 'graph', '--model', 'mvgrl', '--help'])
    shown = capsys.readouterr().out
    shown = shown[shown.index('options:'):]
    assert '--level graph --model mvgrl:' in shown and '--diffusion-time' in shown
    assert '--mask-clean' not in shown and '--top-k' not in shown


def test_search_ranges_are_values_the_option_takes():
    declared = 0
    for level in LEVELS:
        for entry in model_entries(level):
            hints = typing.get_type_hints(entry.options)
            for f in fields(entry.options):
                search = f.metadata.get('search')
                values = search if isinstance(search, list) else \
                    [] if search is None else [search['low'], search['high']]
                declared += search is not None
                for value in values:
                    checked_value(f.name, value, hints[f.name], f.metadata)
    assert declared >= 10


@dataclass
class _Declared:
    readout: str = option('sigmoid_mean', choices=gd.graph.readouts.READOUTS)  # as DGI's


def _entry(options, name='toyopts'):
    return ModelEntry(name, 'node', 'a test model', build=lambda *a, **k: None, options=options)


def test_who_reads_an_option_is_generated_from_the_registry():
    register_model(_entry(_Declared))
    try:
        with pytest.raises(ValueError, match='--readout applies to --model dgi, toyopts only, '
                                             'not mvgrl'):
            NodeConfig.from_dict({'model': 'mvgrl', 'readout': 'mean'})
        assert NodeConfig.from_dict({'model': 'toyopts', 'readout': 'mean'}).model_options == \
            _Declared('mean')
    finally:
        unregister_model('node', 'toyopts')


@pytest.mark.parametrize('declaration, words', [
    ("encoder: str = option('gat')", "'encoder' is declared otherwise by --model dgi"),
    ('hidden_channels: int = option(8)', 'named like an option every model shares'),
    ('out: str = option("x")', 'named like an option every model shares'),
    ("width: int = option(4, minimum=1, search={'low': 0, 'high': 8})", 'search must be'),
    ("width: int = option(4, search=['wide'], choices=(4, 8))", 'search must be'),
    ("width: float = option(1.0, search={'low': 0.0, 'high': 1.0, 'log': True})",
     'search must be'),
])
def test_a_declaration_the_registry_cannot_take_is_refused(declaration, words):
    namespace = {'option': option, 'dataclass': dataclass}
    exec(f"@dataclass\nclass Options:\n    {declaration}\n", namespace)
    with pytest.raises(ValueError, match=words):
        register_model(_entry(namespace['Options']))
    assert 'toyopts' not in gd.registry.model_names('node')


def _flat_like_older_graphdim(run) -> dict:
    """The run's config.json rewritten as graphdim wrote it before models owned their
    options: every node model's options flat beside the level's, GGD's column fraction as
    corruption_p."""
    path = run / 'config.json'
    saved = json.loads(path.read_text())
    own = saved['config'].pop('model_options')
    saved['config'].update({
        'encoder': own['encoder'], 'readout': 'sigmoid_mean', 'corruption': 'row_shuffle',
        'corruption_p': own['drop_feature_p'], 'mask_clean': own['mask_clean'],
        'diffusion': 'ppr', 'alpha': 0.2, 'diffusion_time': 5.0, 'top_k': 128,
        'sample_size': 0, 'subgraphs': 4})
    path.write_text(json.dumps(saved))
    return saved['config']


FAST = ['--dataset', 'karate', '--epochs', '2', '--min-epochs', '1', '--hidden', '8', '--quiet']


def test_config_json_keeps_the_models_options_under_the_model(tmp_path):
    run = tmp_path / 'run'
    assert cli.main(['train', '--model', 'ggd', '--drop-feature-p', '0.3', '--mask-clean',
                     *FAST, '--out', str(run)]) == 0
    saved = json.loads((run / 'config.json').read_text())['config']
    assert (saved['model'], saved['model_options']) == (
        'ggd', {'encoder': 'gcn', 'drop_feature_p': 0.3, 'mask_clean': True})
    assert not {'readout', 'top_k', 'corruption_p', 'drop_feature_p'} & set(saved)
    results = json.loads((run / 'results.json').read_text())['config']
    assert results['model_options'] == saved['model_options']


def test_a_run_of_older_graphdim_with_flat_keys_still_loads(tmp_path, capsys):
    run, again = tmp_path / 'old', tmp_path / 'again'
    assert cli.main(['train', '--model', 'ggd', '--drop-feature-p', '0.3', '--mask-clean',
                     *FAST, '--out', str(run)]) == 0
    _flat_like_older_graphdim(run)
    model, config = gd.load_model(run)
    assert config.model_options == gd.graph.models.ggd.GGDOptions('gcn', 0.3, True)
    assert model.mask_clean and model.feature_mask.p == 0.3
    assert cli.main(['embed', str(run), '--out', str(tmp_path / 'z'), '--quiet']) == 0
    assert cli.main(['plot', str(run), '--quiet']) == 0
    assert cli.main(['train', '--config', str(run / 'config.json'), '--out', str(again),
                     '--quiet']) == 0
    assert json.loads((again / 'config.json').read_text())['config']['model_options'] == \
        {'encoder': 'gcn', 'drop_feature_p': 0.3, 'mask_clean': True}
    (run / 'results.json').unlink()  # an unfinished run of older graphdim: --resume reads it
    capsys.readouterr()
    assert cli.main(['train', '--config', str(run), '--out', str(run), '--resume',
                     '--quiet']) == 0
    assert 'settings differ' not in capsys.readouterr().err


def test_an_older_name_beside_its_new_one_is_refused(tmp_path, capsys):
    config = tmp_path / 'config.json'
    config.write_text(json.dumps({'model': 'ggd', 'corruption_p': 0.3, 'drop_feature_p': 0.4}))
    assert cli.main(['train', '--config', str(config), *FAST]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and 'corruption_p is the older name of --model ggd' in error[0]


def test_a_config_file_may_name_the_models_options_under_model_options(tmp_path):
    """A recipe file written like a run's config (the model's options nested) or flat."""
    from graphdim.cli.common import apply_config_defaults
    from graphdim.cli.options import config_from_args
    parser = cli.build_parser()
    for values in ({'model': 'ggd', 'model_options': {'mask_clean': True}},
                   {'model': 'ggd', 'mask_clean': True}):
        path = tmp_path / 'recipe.json'
        path.write_text(json.dumps(values))
        argv = ['train', '--config', str(path)]
        args = apply_config_defaults(parser, parser.parse_args(argv), argv)
        assert config_from_args(NodeConfig, args).model_options.mask_clean is True


def test_a_model_names_its_own_objective_and_a_given_estimator_still_wins(tmp_path):
    """``--estimator`` left unset is the model's objective (GraphACL's InfoNCE, a plugin's
    ``SHARED_DEFAULTS``), else the level's ``bce``; a value given anywhere is kept, and the
    resolved value is what config.json records."""
    assert NodeConfig(model='graphacl').estimator == 'infonce'
    assert NodeConfig(model='dgi').estimator == 'bce'
    assert NodeConfig(model='graphacl', estimator='bce').estimator == 'bce'
    assert NodeConfig.from_dict({'model': 'graphacl', 'estimator': 'jsd'}).estimator == 'jsd'

    @dataclass
    class OwnObjective:
        SHARED_DEFAULTS: typing.ClassVar[dict] = {'estimator': 'nwj'}
    entry = ModelEntry('own-objective', 'node', 'a test model', lambda *a, **k: None,
                       options=OwnObjective)
    register_model(entry)
    try:
        assert NodeConfig(model='own-objective').estimator == 'nwj'
    finally:
        unregister_model('node', 'own-objective')
    out = tmp_path / 'run'
    assert cli.main(['train', '--model', 'graphacl', '--dataset', 'karate', '--epochs', '1',
                     '--quiet', '--out', str(out)]) in (0, None)
    assert json.loads((out / 'config.json').read_text())['config']['estimator'] == 'infonce'
