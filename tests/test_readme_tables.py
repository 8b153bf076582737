"""README.md's results tables are what benchmarks/render_readme.py renders from the JSON."""
from pathlib import Path

import pytest
from conftest import benchmark_module

REPO = Path(__file__).resolve().parent.parent
render_readme = benchmark_module('render_readme')
README = (REPO / 'README.md').read_text()


def test_every_readme_table_matches_benchmarks_results_json():
    assert render_readme.mismatches(README) == [], \
        'run python benchmarks/render_readme.py after changing benchmarks/results/*.json'


def test_a_changed_figure_is_caught_and_rendering_restores_it(tmp_path):
    # DGI's 10-seed accuracy on Cora, as node_models.jsonl has it
    assert '| Cora | 82.20 ± 0.54 (10) |' in README
    edited = README.replace('| Cora | 82.20 ± 0.54 (10) |', '| Cora | 82.21 ± 0.54 (10) |')
    assert render_readme.mismatches(edited) == ['summary']
    assert render_readme.render(edited) == README
    stale = tmp_path / 'README.md'
    stale.write_text(edited)
    assert render_readme.main(['--check', '--readme', str(stale)]) == 1
    assert render_readme.main(['--readme', str(stale)]) == 0  # renders in place
    assert render_readme.main(['--check', '--readme', str(stale)]) == 0
    assert stale.read_text() == README


def test_an_unknown_table_block_is_named():
    unknown = README.replace('<!-- table:summary -->', '<!-- table:no-such-table -->')
    with pytest.raises(ValueError, match=r"\['no-such-table'\]"):
        render_readme.render(unknown)
