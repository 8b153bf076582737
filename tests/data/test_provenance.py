"""What a run was made from (graphdim.data.provenance): a run records the size and SHA-256 of
its input files, and ``graphdim embed`` and ``graphdim plot`` read only those files again: a
config naming another file, a config without the record, or an input file changed since the run
is one error line naming the file, without reading or echoing the file it names."""
import json

import numpy as np
import pytest

from helpers import copy_changing_config as _copy, train_graph_run
from graphdim import cli


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture(scope='module')
def graph_run(tmp_path_factory):
    """A finished run on an edge list and a feature file of its own."""
    return train_graph_run(tmp_path_factory.mktemp('graph_run'))


def test_a_run_records_its_input_files_and_embeds_them(graph_run, tmp_path, capsys):
    run, edges, features = graph_run
    record = json.loads((run / 'config.json').read_text())['inputs']
    assert set(record) == {'graph', 'features'}
    assert record['features']['size'] == features.stat().st_size
    assert len(record['graph']['sha256']) == 64
    assert cli.main(['embed', str(_copy(run, tmp_path)), '--quiet']) == 0


@pytest.mark.parametrize('key', ['graph', 'features'])
def test_a_config_naming_another_file_is_refused_without_reading_it(graph_run, tmp_path,
                                                                     capsys, key):
    secret = tmp_path / 'secret.txt'
    secret.write_text('0 1 the-secret-line\n')
    copy = _copy(graph_run[0], tmp_path, lambda saved: saved['config'].update({key: str(secret)}))
    assert cli.main(['embed', str(copy), '--quiet']) == 2
    line = _one_error_line(capsys)
    assert f'the {key} file' in line and 'secret.txt' in line and 'not the one this run was ' \
        'made from' in line and 'the-secret-line' not in line


def test_a_config_without_a_record_of_its_files_is_refused(graph_run, tmp_path, capsys):
    copy = _copy(graph_run[0], tmp_path, lambda saved: saved.pop('inputs'))
    assert cli.main(['embed', str(copy), '--quiet']) == 2
    assert 'holds no record of the file the run was made from' in _one_error_line(capsys)


def test_a_changed_input_file_is_refused_and_its_original_accepted(graph_run, tmp_path,
                                                                   capsys):
    run, _, features = graph_run
    original = features.read_bytes()
    try:
        np.save(features, np.ones((12, 4), dtype=np.float32))  # same size, other content
        assert cli.main(['embed', str(_copy(run, tmp_path)), '--quiet']) == 2
        assert "x.npy' is not the one this run was made from" in _one_error_line(capsys)
    finally:
        features.write_bytes(original)
    assert cli.main(['embed', str(run), '--quiet', '--out', str(tmp_path / 'e')]) == 0


def test_plot_checks_the_record_before_reinforcing(graph_run, tmp_path, capsys):
    def reinforced_on_passwd(saved):
        saved['config']['graph'] = '/etc/passwd'
    copy = _copy(graph_run[0], tmp_path, reinforced_on_passwd)
    results = json.loads((copy / 'results.json').read_text())
    results['runs'][0].update(hops=2, reinforcement='add')
    (copy / 'results.json').write_text(json.dumps(results))
    assert cli.main(['plot', str(copy), '--quiet']) == 2
    line = _one_error_line(capsys)
    assert "the graph file '/etc/passwd'" in line and 'root:' not in line
