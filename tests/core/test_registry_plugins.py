"""Models from other packages (issue 34, item 2): a package that names its model under the
``graphdim.models`` entry point group adds ``--model NAME`` with its options, presets,
configs, ``embed``, ``plot`` and reloading, with no change to graphdim; a package that fails
to load is one warning naming it, never a crash."""
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphdim import cli, registry
from graphdim.experiments import NodeConfig
from graphdim.presets import preset_defaults

# A package of someone else's: a toy node-level model with one option of its own.
TOY_PLUGIN = '''
from dataclasses import dataclass

import torch

from graphdim.estimators import mi_loss
from graphdim.registry import ModelEntry, option


@dataclass
class ToyOptions:
    toy_width: int = option(4, 'width of the toy layer (default %(default)s)', minimum=1,
                            search={'low': 1, 'high': 64, 'log': True})


class ToyDIM(torch.nn.Module):
    """Nodes against row-shuffled nodes, scored against the sigmoid of their mean."""
    def __init__(self, in_channels, hidden_channels, toy_width):
        super().__init__()
        self.toy_width = toy_width
        self.first = torch.nn.Linear(in_channels, toy_width)
        self.second = torch.nn.Linear(toy_width, hidden_channels)

    def encode(self, x):
        return torch.tanh(self.second(torch.tanh(self.first(x))))

    def embed(self, data):
        return self.encode(data.x)

    def training_loss(self, data):
        positive = self.encode(data.x)
        negative = self.encode(data.x[torch.randperm(data.num_nodes)])
        summary = torch.sigmoid(positive.mean(0))
        return mi_loss(positive @ summary, negative @ summary, 'bce')


ENTRY = ModelEntry(
    'toy', 'node', 'a toy model of another package', options=ToyOptions,
    build=lambda options, in_channels, hidden_channels, **shared: ToyDIM(
        in_channels, hidden_channels, options.toy_width),
    recipe=lambda c: f"toy width {c['toy_width']}, {c['hidden_channels']} units",
    presets={'toy-karate': {'dataset': 'karate', 'toy_width': 5, 'epochs': 2}})
'''
# Packages that fail: a module that is not there, an option named like a shared one, a model
# name graphdim has already.
BROKEN = {
    'missing': ('no_such_plugin_module:ENTRY', None),
    'clash': ('clash_plugin:ENTRY', '''
from dataclasses import dataclass
from graphdim.registry import ModelEntry, option

@dataclass
class Options:
    hidden_channels: int = option(8)

ENTRY = ModelEntry('clash', 'node', 'declares a shared option', build=lambda *a, **k: None,
                   options=Options)
'''),
    'again': ('again_plugin:ENTRY', '''
from graphdim.registry import ModelEntry
ENTRY = ModelEntry('dgi', 'node', 'a second dgi', build=lambda *a, **k: None)
'''),
}


def _install(folder: Path, name: str, target: str, module: str = None) -> None:
    """A package as pip installs one: its module and a dist-info naming its entry point."""
    if module is not None:
        (folder / f"{target.split(':')[0]}.py").write_text(module)
    info = folder / f'{name}_plugin-0.1.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 0.1\n')
    (info / 'entry_points.txt').write_text(f'[{registry.PLUGIN_GROUP}]\n{name} = {target}\n')


def _entry_points(folder: Path):
    return [point for dist in importlib.metadata.distributions(path=[str(folder)])
            for point in dist.entry_points if point.group == registry.PLUGIN_GROUP]


@pytest.fixture
def toy_plugin(tmp_path, monkeypatch):
    """The toy package on the path, loaded as graphdim loads every plugin."""
    _install(tmp_path, 'toy', 'toy_plugin:ENTRY', TOY_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.load_plugin_models(_entry_points(tmp_path))
    yield tmp_path
    registry.unregister_model('node', 'toy')
    sys.modules.pop('toy_plugin', None)


def test_a_plugins_model_brings_its_options_presets_and_refusals(toy_plugin, capsys):
    assert registry.model_names('node')[-1] == 'toy'  # after graphdim's own: never a default
    assert registry.search_space('node', 'toy') == {
        'toy_width': {'low': 1, 'high': 64, 'log': True}}
    config = NodeConfig.from_dict({'model': 'toy', 'toy_width': 3})
    assert config.model_options.toy_width == 3
    assert preset_defaults('train', 'toy-karate')['model'] == 'toy'
    help_text = cli.build_parser().command_parsers['train'].format_help()
    assert '--model toy: a toy model of another package' in help_text
    assert '--toy-width TOY_WIDTH' in help_text and '--preset' in help_text
    assert cli.main(['train', '--dataset', 'karate', '--model', 'dgi', '--toy-width', '3']) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == ['graphdim: error: --toy-width applies to --model toy only, not dgi: drop '
                     'it or choose --model toy']


def test_a_broken_plugin_is_one_warning_naming_it(tmp_path, monkeypatch):
    for name, (target, module) in BROKEN.items():
        _install(tmp_path, name, target, module)
    monkeypatch.syspath_prepend(str(tmp_path))
    builtins = registry.model_names('node')
    try:
        with pytest.warns(registry.PluginWarning) as warned:
            registry.load_plugin_models(_entry_points(tmp_path))
    finally:
        registry.unregister_model('node', 'clash')
        for module in ('clash_plugin', 'again_plugin'):
            sys.modules.pop(module, None)
    messages = sorted(str(w.message) for w in warned)
    assert len(messages) == 3 and registry.model_names('node') == builtins
    for message, (name, words) in zip(messages, sorted({
            'again': 'registered already', 'clash': 'hidden_channels',
            'missing': 'no_such_plugin_module'}.items())):
        assert f"the model plugin {name!r}" in message and words in message, message
    assert registry.model_entry('node', 'dgi').description.startswith('Deep Graph Infomax')


def _graphdim(folder: Path, *argv: str) -> subprocess.CompletedProcess:
    """``graphdim ARGV`` in a new process with the packages of ``folder`` installed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, (str(folder), os.environ.get('PYTHONPATH')))))
    return subprocess.run([sys.executable, '-m', 'graphdim', *argv], capture_output=True,
                          text=True, env=env, cwd=folder, timeout=300)


@pytest.mark.slow  # five processes, each importing torch and PyG (about 40 s on 2 busy cores)
def test_a_plugin_installed_beside_graphdim_runs_through_every_command(tmp_path):
    _install(tmp_path, 'toy', 'toy_plugin:ENTRY', TOY_PLUGIN)
    _install(tmp_path, 'missing', *BROKEN['missing'])  # warned about, and nothing else
    run, again = tmp_path / 'R', tmp_path / 'R2'
    trained = _graphdim(tmp_path, 'train', '--dataset', 'karate', '--model', 'toy',
                        '--toy-width', '3', '--epochs', '2', '--hidden', '8', '--quiet',
                        '--out', str(run))
    assert trained.returncode == 0, trained.stderr
    warned = [line for line in trained.stderr.splitlines() if 'plugin' in line]
    assert warned == [f"graphdim: warning: the model plugin 'missing' (no_such_plugin_module:"
                      f"ENTRY) could not be loaded, so its models are not available: No "
                      f"module named 'no_such_plugin_module'"]
    assert 'graphdim: TOY on karate' in trained.stdout and 'toy width 3' in trained.stdout
    saved = json.loads((run / 'config.json').read_text())['config']
    assert (saved['model'], saved['model_options']) == ('toy', {'toy_width': 3})
    for argv in (('embed', str(run), '--out', str(tmp_path / 'z')), ('plot', str(run)),
                 ('train', '--config', str(run / 'config.json'), '--out', str(again),
                  '--quiet')):
        done = _graphdim(tmp_path, *argv)
        assert done.returncode == 0, (argv, done.stderr)
    assert (tmp_path / 'z.pt').is_file() and (run / 'tsne_seed0.png').is_file()
    assert json.loads((again / 'config.json').read_text())['config']['model_options'] == \
        {'toy_width': 3}
    refused = _graphdim(tmp_path, 'train', '--dataset', 'karate', '--model', 'dgi',
                        '--toy-width', '3')
    errors = [line for line in refused.stderr.splitlines() if 'plugin' not in line]
    assert refused.returncode == 2 and errors == [
        'graphdim: error: --toy-width applies to --model toy only, not dgi: drop it or '
        'choose --model toy']
