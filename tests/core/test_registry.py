"""The model registry: a model defined only here runs through the whole CLI, every registered
model makes the same round trip, and every option of `graphdim train` is honoured or refused
at both levels."""
import json
from dataclasses import dataclass

import pytest
import torch

import graphdim as gd
from graphdim import cli
from graphdim.cli.train import OtherLevelOption
from graphdim.cli.train_graph import graph_config_from_args
from graphdim.experiments import GraphConfig, NodeConfig
from graphdim.cli.options import config_from_args
from graphdim.registry import (ModelEntry, model_names, model_option_fields, option,
                               register_model, unregister_model)


class ToyNodeDIM(torch.nn.Module):
    """A tiny node DIM: tanh of a linear map, nodes against shuffled nodes, scored by their
    dot product with the sigmoid of the mean (DGI without a graph)."""
    def __init__(self, in_channels: int, hidden_channels: int, drop: float):
        super().__init__()
        self.lin, self.drop = torch.nn.Linear(in_channels, hidden_channels), drop

    def embed(self, data):
        return torch.tanh(self.lin(data.x))

    def training_loss(self, data):
        h = self.embed(data)
        negative = torch.tanh(self.lin(data.x[torch.randperm(data.num_nodes)]))
        summary = torch.sigmoid(h.mean(0))
        return gd.mi_loss(h @ summary, negative @ summary, 'bce')


class ToyGraphDIM(torch.nn.Module):
    """A tiny graph DIM: nodes of each graph against sums of a batch's graphs (InfoGraph's
    objective without message passing)."""
    def __init__(self, in_channels: int, hidden_channels: int):
        super().__init__()
        self.lin = torch.nn.Linear(in_channels, hidden_channels)

    def _local_global(self, batch):
        local = torch.tanh(self.lin(batch.x))
        return local, torch.zeros(batch.num_graphs, local.size(1)).index_add_(
            0, batch.batch, local)

    def embed(self, batch):
        return self._local_global(batch)[1]

    def training_loss(self, batch):
        local, global_ = self._local_global(batch)
        return gd.local_global_loss(local, global_, gd.batch_pos_mask(batch.batch), 'jsd')


@dataclass
class ToyOptions:
    corruption_p: float = option(0.2, 'the toy reads it too', minimum=0)  # as DGI declares it


TOY_NODE = ModelEntry('toy', 'node', 'a toy model of the tests', options=ToyOptions,
                      build=lambda options, n, hidden_channels, **shared: ToyNodeDIM(
                          n, hidden_channels, options.corruption_p),
                      recipe=lambda c: f"linear {c['hidden_channels']}")
TOY_GRAPH = ModelEntry('toygraph', 'graph', 'a toy graph model of the tests',
                       build=lambda options, n, hidden_channels, **shared: ToyGraphDIM(
                           n, hidden_channels))


@pytest.fixture
def toy_models():
    for entry in (TOY_NODE, TOY_GRAPH):
        register_model(entry)
    yield
    for entry in (TOY_NODE, TOY_GRAPH):
        unregister_model(entry.level, entry.name)


NODE_RUN = ['--dataset', 'karate', '--epochs', '3', '--min-epochs', '1', '--hidden', '8',
            '--quiet']
GRAPH_RUN = ['--level', 'graph', '--dataset', 'MUTAG', '--epochs', '1', '--hidden', '8',
             '--layers', '2', '--folds', '2', '--inner-folds', '2', '--quiet']


def _round_trip(tmp_path, model: str, run, capsys) -> dict:
    """train -> embed -> plot -> train --config; returns the replayed run's config."""
    first, second = tmp_path / 'first', tmp_path / 'second'
    assert cli.main(['train', '--model', model, *run, '--out', str(first)]) == 0
    printed = capsys.readouterr().out
    assert f"graphdim: {gd.registry.model_entry(run_level(run), model).printed_name} on" \
        in printed
    assert cli.main(['embed', str(first), '--out', str(tmp_path / 'z')]) == 0
    rows = torch.load(tmp_path / 'z.pt', weights_only=True)['embeddings'].size(0)
    assert rows == (34 if run is NODE_RUN else 188)
    assert cli.main(['plot', str(first)]) == 0
    assert (first / 'loss.png').is_file() and (first / 'tsne_seed0.png').is_file()
    assert cli.main(['train', '--config', str(first), '--out', str(second), '--quiet']) == 0
    model_back, config = gd.load_model(second)
    assert config.model == model and not model_back.training
    return json.loads((second / 'config.json').read_text())['config']


def run_level(run) -> str:
    return 'graph' if run is GRAPH_RUN else 'node'


def test_a_model_defined_in_a_test_runs_through_the_cli(tmp_path, toy_models, capsys,
                                                        data_root):
    config = _round_trip(tmp_path / 'node', 'toy', NODE_RUN, capsys)
    assert config['hidden_channels'] == 8
    graph_config = _round_trip(tmp_path / 'graph', 'toygraph', GRAPH_RUN, capsys)
    assert graph_config['model'] == 'toygraph'
    # --model's choices and help come from the registry
    help_text = ' '.join(cli.build_parser().command_parsers['train'].format_help().split())
    assert 'a toy model of the tests' in help_text and 'toygraph' in help_text


def test_shared_options_belong_to_every_model_that_reads_them(toy_models):
    toy = NodeConfig.from_dict({'model': 'toy', 'corruption_p': 0.3})  # toy reads it too
    assert toy.model_options.corruption_p == 0.3
    assert NodeConfig.from_dict({'model': 'dgi', 'corruption': 'feature_mask',
                                 'corruption_p': 0.3}).model_options.corruption_p == 0.3
    with pytest.raises(ValueError, match='--corruption-p applies to --model dgi, toy only, '
                                         'not mvgrl'):
        NodeConfig.from_dict({'model': 'mvgrl', 'corruption_p': 0.3})
    with pytest.raises(ValueError, match='--readout applies to --model dgi only, not toy'):
        NodeConfig(model='toy', model_options={'readout': 'mean'})
    with pytest.raises(ValueError, match='--batch-size / --distributed'):
        gd.run_node_experiment(NodeConfig(model='toy', batch_size=8), progress=False)


@pytest.mark.parametrize('model', model_names('node'))
def test_every_node_model_makes_the_round_trip(model, tmp_path, capsys):
    assert _round_trip(tmp_path, model, NODE_RUN, capsys)['model'] == model


@pytest.mark.parametrize('model', model_names('graph'))
def test_every_graph_model_makes_the_round_trip(model, tmp_path, capsys, data_root):
    assert _round_trip(tmp_path, model, GRAPH_RUN, capsys)['model'] == model


def test_unknown_and_other_level_models_name_the_choices(capsys):
    assert cli.main(['train', '--model', 'infograph', '--dataset', 'karate']) == 2
    assert 'infograph is a graph-level model: add --level graph' in capsys.readouterr().err
    assert cli.main(['train', '--level', 'graph', '--model', 'dgi']) == 2
    assert 'unknown graph-level model' in capsys.readouterr().err
    with pytest.raises(ValueError, match='registered already'):
        register_model(gd.registry.model_entry('node', 'dgi'))


# --- every option of `graphdim train --help`, at both levels --------------------------------

def _train_actions(level: str):
    """The ``train`` parser's options at ``level`` (the other level's: refusals, hidden)."""
    train = cli.build_parser(['train', '--level', level]).command_parsers['train']
    return [a for a in train._actions if a.dest not in ('help', )]


def _non_default_argv(action) -> list:
    """The option given with a value other than its default."""
    flag = action.option_strings[0]
    if action.nargs == 0:
        return [flag]
    if action.choices is not None:
        return [flag, list(action.choices)[-1]]
    examples = {'num_neighbors': '5', 'dataset': 'CiteSeer', 'graph': 'edges.txt',
                'features': 'x.npy', 'labels': 'y.txt', 'root': '/nowhere', 'device': 'cpu',
                'out': 'run', 'config': 'c.json', 'preset': 'dgi-cora'}
    if action.dest in examples:
        return [flag, examples[action.dest]]
    return [flag, '3' if action.type is int else '0.3']


# Options of the command itself (not config fields), and how each level treats them.
COMMAND_OPTIONS = {'out', 'overwrite', 'json', 'quiet', 'plot', 'tensorboard', 'config',
                   'preset', 'level'}


@pytest.mark.parametrize('level', ['node', 'graph'])
def test_every_train_option_is_honoured_or_refused(level):
    """Every option of either level's parser, given at ``level``: it reaches the run's config,
    or it is refused in one error naming it (the other level's options among them)."""
    parser = cli.build_parser(['train', '--level', level])
    for action in _train_actions('node') + _train_actions('graph'):
        if action.dest in COMMAND_OPTIONS or action.dest == 'model' or \
                isinstance(action, OtherLevelOption):  # the other parser holds the option
            continue
        argv = ['train', '--level', level, *_non_default_argv(action)]
        try:
            args = parser.parse_args(argv)  # the other level's option: refused here
            given = getattr(args, action.dest)
            config = graph_config_from_args(args) if level == 'graph' else \
                config_from_args(NodeConfig, args)
        except ValueError as error:  # refused, naming the option
            assert action.option_strings[0] in str(error), (level, action.dest, error)
            continue
        # honoured: it reached the run's config (the model's options, or the level's)
        holder = config if action.dest in type(config).field_names() else config.model_options
        value = getattr(holder, action.dest)
        assert value == (tuple(given) if isinstance(value, tuple) else given), \
            (level, action.dest)
    model_options = set(model_option_fields('node')) | set(model_option_fields('graph'))
    assert COMMAND_OPTIONS | {'model', 'help'} | model_options >= {
        a.dest for a in _train_actions(level)
        if a.dest not in NodeConfig.field_names() + GraphConfig.field_names()}


@pytest.mark.parametrize('argv', [['--resume'], ['--checkpoint-every', '1'],
                                  ['--no-normalize-features'], ['--graph', 'no-such-file.txt'],
                                  ['--num-neighbors', '5'], ['--tensorboard']])
def test_graph_level_refuses_node_only_options_in_one_line(argv, capsys, tmp_path):
    code = cli.main(['train', '--level', 'graph', '--dataset', 'MUTAG', *argv,
                     '--out', str(tmp_path / 'run')])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith('graphdim: error: ') and err.count('\n') == 1
    assert argv[0] in err and not (tmp_path / 'run').exists()


@pytest.mark.slow  # a graph-level run drawn with t-SNE (the round trips plot too)
def test_graph_level_plot_draws_the_run(tmp_path, capsys, data_root):
    out = tmp_path / 'run'
    assert cli.main(['train', *GRAPH_RUN, '--out', str(out), '--plot']) == 0
    assert (out / 'loss.png').is_file() and (out / 'tsne_seed0.png').is_file()
    assert cli.main(['train', *GRAPH_RUN, '--plot']) == 2
    assert '--plot draws into the run directory' in capsys.readouterr().err
