"""README.md's results tables are what benchmarks/render_readme.py renders from the JSON."""
from pathlib import Path

import pytest
from conftest import benchmark_module

REPO = Path(__file__).resolve().parents[2]
render_readme = benchmark_module('render_readme')
README = (REPO / 'README.md').read_text()


def test_every_readme_table_matches_benchmarks_results_json():
    assert render_readme.mismatches(README) == [], \
        'run python benchmarks/render_readme.py after changing benchmarks/results/*.json'


def test_a_changed_figure_is_caught_and_rendering_restores_it(tmp_path):
    # dgi-cora's 10-seed accuracy, as node_models.jsonl has it
    row = '| dgi-cora | 10 | 82.20 ± 0.54 |'
    assert row in README
    edited = README.replace(row, row.replace('82.20', '82.21'))
    assert render_readme.mismatches(edited) == ['node-presets']
    assert render_readme.render(edited) == README
    stale = tmp_path / 'README.md'
    stale.write_text(edited)
    assert render_readme.main(['--check', '--readme', str(stale)]) == 1
    assert render_readme.main(['--readme', str(stale)]) == 0  # renders in place
    assert render_readme.main(['--check', '--readme', str(stale)]) == 0
    assert stale.read_text() == README


def test_an_unknown_table_block_is_named():
    unknown = README.replace('<!-- table:node-presets -->', '<!-- table:no-such-table -->')
    with pytest.raises(ValueError, match=r"\['no-such-table'\]"):
        render_readme.render(unknown)


def test_the_readme_and_the_site_show_the_same_rendered_node_table():
    """One table for one figure: the README's summary is the results page's table."""
    node_page = (REPO / 'docs' / 'results' / 'node.md').read_text()
    assert '<!-- table:node-presets -->' in README
    assert '```{results-table} node-presets\n```' in node_page
    assert '<!-- table:node-models -->' not in README  # the detailed tables: on the site only


def test_the_readme_stays_short():
    assert len(README.splitlines()) < 150, 'keep the README a summary; details go to docs/'


def test_the_results_index_names_the_device_of_every_results_file():
    """Resolved, never the option ``auto``; the GPU by name."""
    rendered = render_readme.TABLES['provenance'].render()
    devices = [line.rstrip(' |').split(' | ')[-1] for line in rendered.splitlines()[2:]]
    assert devices and all(d == 'cpu' or d.startswith(('cpu: ', 'cuda: ')) for d in devices)
    assert '| `speed_cuda.json` |' in rendered and 'cuda: NVIDIA H100' in rendered
