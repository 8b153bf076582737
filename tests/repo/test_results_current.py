"""Every preset figure of the README and the site is what the preset gives today.

A node preset's row is rendered from the results file that ran it
(``benchmarks/preset_results.py``'s ``PRESET_RESULTS``); that file records the run's config,
and it must be the preset's config now: graphdim's defaults with the preset's values, key by
key. Changing a preset (or a default it relies on) without rerunning its benchmark fails
here, naming the setting and the command that reruns it.
"""
import pytest
from conftest import benchmark_module

from graphdim.presets import PRESETS

preset_results = benchmark_module('preset_results')
render_readme = benchmark_module('render_readme')

RERUN = {'node_models.jsonl': 'python benchmarks/node_models.py',
         'mvgrl_node.json': 'python benchmarks/mvgrl_node.py',
         'reinforcement_choice.jsonl': 'python benchmarks/reinforcement_choice.py --preset'}


def test_every_node_preset_has_its_results_file_named():
    """A new node preset is rendered too: name its results file, or None until it runs."""
    assert set(preset_results.node_presets()) == set(preset_results.PRESET_RESULTS)


@pytest.mark.parametrize('name', [name for name, source in
                                  preset_results.PRESET_RESULTS.items() if source])
def test_each_rendered_preset_ran_with_the_settings_it_has_now(name):
    found = preset_results.preset_run(name)
    assert found.run is not None, (
        f"{name} differs from the run {found.source} recorded: {'; '.join(found.differences)}; "
        f"rerun it ({RERUN.get(found.source, 'the graphdim tune command of its preset')}), "
        f"then python benchmarks/render_readme.py; or set "
        f"PRESET_RESULTS[{name!r}] = None")
    assert len(found.run.seeds) == PRESETS[name][1]['seeds']


@pytest.mark.parametrize('name', [name for name, source in
                                  preset_results.PRESET_RESULTS.items() if not source])
def test_a_preset_without_a_results_file_has_no_run_of_it_anywhere(name):
    """Once a benchmark has run it as it is, PRESET_RESULTS should name that file."""
    for source in preset_results.READERS:
        assert preset_results.preset_run(name, source).run is None, \
            f"{source} holds a run of {name} as it is now: name it in PRESET_RESULTS"


def test_a_changed_preset_is_caught_and_its_cells_read_a_dash(monkeypatch):
    figure = preset_results.preset_run('ggd-cora').figure('test_acc')  # as it is now
    assert figure in render_readme.TABLES['node-presets'].render()
    values = dict(PRESETS['ggd-cora'][1], lr=0.002)
    monkeypatch.setitem(PRESETS, 'ggd-cora', ('train', values))
    found = preset_results.preset_run('ggd-cora')
    assert found.run is None
    assert found.differences == ['lr: preset 0.002, recorded 0.001']
    row = next(line for line in render_readme.TABLES['node-presets'].render().splitlines()
               if line.startswith('| ggd-cora |'))
    assert row.startswith('| ggd-cora | - | - | - |') and figure not in row
    assert 'ggd-cora' in render_readme.TABLES['node-presets'].render().splitlines()[-1]


def test_a_default_the_preset_relies_on_is_compared_too():
    """A default the preset relies on is part of its recipe: DGI's presets set no lr."""
    recorded = preset_results.preset_run('dgi-cora').run.config
    grid = preset_results.benchmark_additions('dgi-cora')  # node_models.py's, allowed
    assert preset_results.differences('dgi-cora', recorded, grid) == []
    assert preset_results.differences('dgi-cora', dict(recorded, lr=0.01), grid) == \
        ['lr: preset 0.001, recorded 0.01']


def test_a_benchmark_may_add_only_what_leaves_the_figure_as_it_is():
    """A hops grid leaves a preset without reinforcement its K = 0 figure; GGD's preset
    reinforces (z + Â^5 z), so a grid changes its figure."""
    grid = {'hops': [0, 1, 2, 3, 5, 10], 'reinforcement': ['add', 'replace'],
            'random_baseline': True}
    dgi = dict(preset_results.preset_config('dgi-cora'), **grid)
    ggd = dict(preset_results.preset_config('ggd-cora'), **grid)
    assert preset_results.differences('dgi-cora', dgi,
                                      preset_results.benchmark_additions('dgi-cora')) == []
    assert [d.split(':')[0] for d in preset_results.differences(
        'ggd-cora', ggd, preset_results.benchmark_additions('ggd-cora'))] == \
        ['hops', 'reinforcement']
    # a grid's figure for a preset without reinforcement: its K = 0 probe
    assert preset_results.shown_key('test_acc', preset_results.preset_config('dgi-cora'),
                                    dgi) == 'plain_test_acc'


def test_a_recipe_older_than_the_preset_is_not_shown():
    """node_models.jsonl's GGD rows predate the authors' recipe (500 epochs, no early
    stopping, both views masked): they are neither GGD's figure nor in its tables."""
    found = preset_results.preset_run('ggd-cora', 'node_models.jsonl')
    assert found.run is None
    assert {d.split(':')[0] for d in found.differences} >= {'epochs', 'patience', 'mask_clean'}
    for name in ('node-presets', 'node-models'):
        rendered = render_readme.TABLES[name].render()
        # the old GGD figures (GraphACL's CiteSeer mean is 72.21 too: match mean and std)
        assert '81.58 ± 0.45' not in rendered and '72.21 ± 0.68' not in rendered, name
