"""Issue 24, run folders: --overwrite deletes only run files, only after begin() has checked
the folder and the run has checked its inputs (clear()); output location and deletion come
from the command line only; tampered or truncated run folders are one clear error."""
import json
import os

import pytest
import torch

from helpers import copy_run, one_error_line as _one_error_line, run_snapshot as _snapshot
from graphdim import cli
from graphdim.train import FitResult
from graphdim.cli.common import read_config_source
from graphdim.runs import RunFolder


def _fake_run(path, seeds=(0, )):
    """A finished run's files, as the experiments write them."""
    folder = RunFolder(path)
    folder.write_config('node', {'dataset': 'karate', 'lr': 0.001}, list(seeds),
                        in_channels=34)
    folder.write_labels(torch.zeros(34, dtype=torch.long))
    for seed in seeds:
        folder.write_seed(seed, torch.nn.Linear(2, 2), FitResult([1.0], [0.1]), 0.001,
                          torch.zeros(34, 4))
    folder.write_results({'test_acc_mean': 50.0})
    (folder.path / 'loss.png').write_bytes(b'png')
    (folder.path / 'embeddings_karate.npy').write_bytes(b'npy')
    (folder.path / 'tensorboard' / 'seed_0').mkdir(parents=True)
    (folder.path / 'tensorboard' / 'seed_0' / 'events.out.tfevents.1.host').write_bytes(b'')
    return folder


def test_overwrite_refuses_a_folder_with_foreign_files_and_deletes_nothing(tmp_path):
    folder = _fake_run(tmp_path / 'run')
    (folder.path / 'notes.txt').write_text('mine')
    with pytest.raises(ValueError, match=r'not graphdim run files \(e.g. notes.txt\)'):
        folder.begin('node', {}, overwrite=True)
    assert (folder.path / 'notes.txt').read_text() == 'mine'
    assert folder.results_path.is_file()


def test_overwrite_never_deletes_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / 'thesis.tex').write_text('years of work')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match='thesis.tex'):
        RunFolder('.').begin('node', {}, overwrite=True)
    assert (tmp_path / 'thesis.tex').is_file()


def test_a_folder_of_foreign_files_is_refused_even_without_overwrite(tmp_path):
    (tmp_path / 'data.csv').write_text('1,2')
    with pytest.raises(ValueError, match='data.csv'):
        RunFolder(tmp_path).begin('node', {})


def test_foreign_files_inside_seed_folders_are_named(tmp_path):
    folder = _fake_run(tmp_path / 'run')
    (folder.seed_dir(0) / 'mine.npy').write_bytes(b'x')
    with pytest.raises(ValueError, match=r'seed_0/mine.npy'):
        folder.begin('node', {}, overwrite=True)


def test_begin_deletes_nothing_and_clear_deletes_only_run_files(tmp_path):
    folder = _fake_run(tmp_path / 'run', seeds=(0, 1))
    folder.begin('node', {}, overwrite=True)
    assert folder.results_path.is_file() and folder.seed_dir(1).is_dir()  # still there
    folder.clear()
    assert list(folder.path.iterdir()) == []
    assert folder.path.is_dir()


def test_a_run_that_never_clears_is_cleared_by_its_first_write(tmp_path):
    folder = _fake_run(tmp_path / 'run', seeds=(0, 1))
    RunFolder(tmp_path / 'run').begin('node', {}, overwrite=True)
    RunFolder(tmp_path / 'run').write_config('node', {}, [5], in_channels=3)
    assert sorted(p.name for p in folder.path.iterdir()) == ['config.json']


def test_a_refused_begin_leaves_no_pending_clear(tmp_path):
    folder = _fake_run(tmp_path / 'run')
    folder.begin('node', {}, overwrite=True)
    with pytest.raises(ValueError, match='already holds a finished run'):
        folder.begin('node', {})  # a later run without --overwrite
    folder.write_results({'again': 1})
    assert folder.seed_dir(0).is_dir()


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match='give one of them'):
        RunFolder(tmp_path).begin('node', {}, resume=True, overwrite=True)


def test_overwrite_with_a_wrong_dataset_keeps_the_finished_run(tmp_path, capsys):
    out = tmp_path / 'run'
    _fake_run(out)
    before = sorted(p.relative_to(out) for p in out.rglob('*'))
    code = cli.main(['train', '--dataset', 'coraa', '--out', str(out), '--overwrite',
                     '--quiet'])
    assert code == 2 and 'unknown dataset' in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob('*')) == before


@pytest.mark.parametrize('key', ['out', 'overwrite', 'resume'])
def test_a_config_file_may_not_choose_the_output_or_delete(tmp_path, key, capsys):
    victim = tmp_path / 'victim'
    victim.mkdir()
    (victim / 'precious.txt').write_text('keep')
    recipe = tmp_path / 'recipe.json'
    recipe.write_text(json.dumps({'epochs': 1, 'hidden_channels': 4,
                                  key: str(victim) if key == 'out' else True}))
    code = cli.main(['train', '--config', str(recipe), '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and f'{key}' in err and 'command line' in err, err
    assert (victim / 'precious.txt').read_text() == 'keep'


def test_a_run_config_json_that_recorded_resume_replays_as_a_new_run(tmp_path):
    folder = RunFolder(tmp_path / 'run')
    folder.write_config('node', {'dataset': 'karate', 'resume': True}, [0], in_channels=34)
    from graphdim.cli import build_parser
    from graphdim.cli.common import apply_config_defaults
    argv = ['train', '--config', str(folder.path)]
    parser = build_parser(argv)
    args = apply_config_defaults(parser, parser.parse_args(argv), argv)
    assert not getattr(args, 'resume', False)
    assert read_config_source(folder.path)[1]['resume'] is True  # the record is kept


def test_relative_graph_paths_are_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'g.txt').write_text('0 1\n')
    folder = RunFolder(tmp_path / 'run')
    folder.write_config('node', {'graph': 'g.txt', 'labels': 'club', 'root': None}, [0],
                        in_channels=2)
    config = folder.read_config()['config']
    assert config['graph'] == str(tmp_path / 'g.txt')
    assert config['labels'] == 'club' and config['root'] is None  # not files: as given


def test_resume_compares_relative_and_absolute_paths_alike(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'g.txt').write_text('0 1\n')
    folder = RunFolder(tmp_path / 'run')
    folder.write_config('node', {'graph': 'g.txt'}, [0], in_channels=2)
    with pytest.warns(UserWarning, match='holds no checkpoint'):
        folder.begin('node', {'graph': 'g.txt'}, resume=True)


@pytest.mark.parametrize('content, problem', [
    ('[1, 2]', 'must hold a JSON object'),
    ('{"kind": "node", "config": null, "seeds": [0]}', "'config' must be an object"),
    ('{"kind": "node", "config": {}, "seeds": []}', "'seeds' must be a non-empty list"),
    ('{"kind": "node", "config": {}, "seeds": ["a"]}', "'seeds' must be a non-empty list"),
    ('{"kind": "node", "config": {}, "seeds": [0], "in_channels": -3}', "'in_channels'"),
    ('{"kind": "no', 'is not valid JSON'),
])
def test_a_tampered_config_json_is_one_error_naming_it(tmp_path, content, problem):
    folder = RunFolder(tmp_path)
    folder.config_path.write_text(content)
    with pytest.raises(ValueError, match=problem) as error:
        folder.read_config()
    assert 'config.json' in str(error.value)


def test_a_truncated_model_pt_is_one_error_naming_it(tmp_path):
    folder = _fake_run(tmp_path / 'run')
    data = folder.model_path(0).read_bytes()
    folder.model_path(0).write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r'model.pt is not a readable model state file'):
        folder.read_model_state(0)


def test_a_model_pt_of_another_shape_is_one_error_naming_it(tmp_path):
    folder = _fake_run(tmp_path / 'run')
    with pytest.raises(ValueError, match=r'model.pt does not fit the model'):
        folder.load_model_state(torch.nn.Linear(3, 2), 0)
    torch.save([1, 2], folder.model_path(0))
    with pytest.raises(ValueError, match='does not hold a model state'):
        folder.read_model_state(0)


def test_tampered_files_under_plot_and_embed_are_one_cli_line(tmp_path, capsys):
    folder = _fake_run(tmp_path / 'run')
    folder.config_path.write_text('{"kind": "node", "config": {}, "seeds": []}')
    for argv in (['plot', str(folder.path)], ['embed', str(folder.path)]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith('graphdim: error:') and err.count('\n') == 1, err


def test_a_truncated_embeddings_file_under_plot_is_one_cli_line(tmp_path, capsys):
    folder = _fake_run(tmp_path / 'run')
    folder.embeddings_path(0).write_bytes(b'PK\x03\x04 truncated')
    assert cli.main(['plot', str(folder.path)]) == 2
    assert 'embeddings.pt is not a readable embeddings file' in capsys.readouterr().err


def test_no_file_is_left_outside_the_run_folder(tmp_path):
    before = set(os.listdir(tmp_path))
    _fake_run(tmp_path / 'run')
    assert set(os.listdir(tmp_path)) - before == {'run'}


def test_a_run_shaped_config_file_under_another_name_is_read_as_it_is(tmp_path):
    # Found by tests/experiments/test_config_fuzz.py: it was looked up as config.json beside it.
    path = tmp_path / 'recipe.json'
    path.write_text(json.dumps({'kind': 'graph', 'config': {'epochs': 2}}))
    assert read_config_source(path) == ('graph', {'epochs': 2})
    path.write_text(json.dumps({'kind': 'nope', 'config': {}}))
    with pytest.raises(ValueError, match="unknown kind 'nope'"):
        read_config_source(path)
    path.write_bytes(b'\xff\xfe')
    with pytest.raises(ValueError, match='is not valid JSON'):
        read_config_source(path)


def test_resume_compares_tuples_as_config_json_holds_them(tmp_path):
    folder = RunFolder(tmp_path / 'run')
    folder.write_config('node', {'hops': (0, 2)}, [0], in_channels=2)
    with pytest.warns(UserWarning, match='holds no checkpoint'):
        folder.begin('node', {'hops': (0, 2)}, resume=True)


# A finished karate run overwritten, or its files tampered with: 2 epochs, in process.
TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']


@pytest.mark.parametrize('options, needle', [
    (['--seed', '-1'], '--seed'),
    (['--seed', str(2 ** 32 - 1), '--seeds', '2'], '--seed'),
    (['--lr', '1e300'], 'lr'),
    (['--weight-decay', '1e300'], 'weight_decay'),
    (['--level', 'graph', '--dataset', 'MUTAG', '--lr', '1e300'], 'lr'),
    (['--level', 'graph', '--dataset', 'MUTAG', '--seed', '-1'], '--seed'),
])
def test_overwrite_checks_the_whole_config_before_clearing(finished_run, tmp_path, capsys, options,
                                                           needle):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    args = [a for a in TRAIN if a not in ('--dataset', 'karate')] if '--level' in options \
        else TRAIN
    assert cli.main([*args, *options, '--out', str(run), '--overwrite']) == 2
    _one_error_line(capsys, needle)
    assert _snapshot(run) == before  # results.json and seed_0/ are still there


def test_image_level_float32_overflow_is_refused_before_clearing(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    assert cli.main(['image', '--epochs', '1', '--lr', '1e300', '--out', str(run),
                     '--overwrite', '--quiet']) == 2
    _one_error_line(capsys, 'lr', 'float32')
    assert _snapshot(run) == before


@pytest.mark.parametrize('failure', [FloatingPointError('the training loss became nan'),
                                     KeyboardInterrupt()])
def test_a_run_that_fails_after_the_checks_puts_the_old_run_back(finished_run, tmp_path, capsys,
                                                                 monkeypatch, failure):
    """A value no check can foresee (--lr 1e30 turns the loss NaN), or Ctrl-C: the old run
    was set aside, not deleted, and comes back."""
    import graphdim.experiments.node as node
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)

    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr(node, 'fit', fails)
    code = cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite'])
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 2)
    assert _snapshot(run) == before
    assert sorted(p.name for p in run.iterdir()) == ['.graphdim.lock', 'config.json',
                                                     'labels.pt', 'results.json', 'seed_0']
    monkeypatch.undo()
    assert cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite']) == 0
    assert not (run / '.previous').exists()  # the old run is gone once the new one finished
    assert json.loads((run / 'config.json').read_text())['config']['hidden_channels'] == 16


def test_labels_shorter_than_the_embeddings(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    torch.save(torch.load(run / 'labels.pt')[:10], run / 'labels.pt')
    assert cli.main(['plot', str(run)]) == 2
    _one_error_line(capsys, 'labels.pt', '10 labels for 34')


@pytest.mark.parametrize('content', ['[]', '{"runs": 3}', '{"runs": [1]}', '{not json'])
def test_a_tampered_results_json_names_the_file(finished_run, tmp_path, capsys, content):
    run = copy_run(finished_run, tmp_path)
    saved = json.loads((run / 'config.json').read_text())
    saved['config'].update(hops=[0, 1], reinforcement=['add'])  # embed reads results.json
    (run / 'config.json').write_text(json.dumps(saved))
    (run / 'results.json').write_text(content)
    assert cli.main(['embed', str(run), '--out', str(tmp_path / 'z')]) == 2
    _one_error_line(capsys, str(run / 'results.json'))
    with pytest.raises(ValueError, match='results.json'):
        RunFolder(run).read_results()
