"""graphdim tune on the command line: a small search end to end, its outputs replayed by
graphdim train --config, and bad input as one error line each."""
import json
import sys

import pytest

from graphdim import cli

# karate, lr and weight decay only, one seed per trial: a few seconds
SMALL = ['tune', '--dataset', 'karate', '--epochs', '2', '--hidden', '8', '--device', 'cpu',
         '--search', 'lr', 'weight_decay', '--trial-seeds', '1', '--quiet']


def _error(capsys, argv) -> str:
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('graphdim: error: '), lines
    return lines[0]


@pytest.mark.slow  # two trials, the plots and a training run: 6 to 10 s
def test_a_small_search_writes_a_config_graphdim_train_runs(tmp_path, capsys):
    study, out = tmp_path / 'study.log', tmp_path / 'study_tune'
    assert cli.main([*SMALL, '--trials', '2', '--no-final', '--study', str(study),
                     '--json']) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith('best trial #') and 'public' not in printed[0]
    assert f"rerun the best recipe: graphdim train --config {out / 'best_config.json'}" \
        in printed
    summary = json.loads(printed[-1])
    assert summary['final'] is None and set(summary['params']) == {'lr', 'weight_decay'}
    assert (out / 'trials.csv').is_file() and (out / 'history.png').is_file()
    assert cli.main(['train', '--config', str(out / 'best_config.json'), '--seeds', '1',
                     '--quiet']) == 0
    assert 'test accuracy' in capsys.readouterr().out
    # the same search again: the study is complete, and its outputs are not replaced
    line = _error(capsys, [*SMALL, '--trials', '2', '--no-final', '--study', str(study)])
    assert 'holds the outputs of a search' in line and '--overwrite' in line


def test_a_resumed_study_with_another_recipe_is_refused(tmp_path, capsys):
    study = str(tmp_path / 'study.log')
    assert cli.main([*SMALL, '--trials', '1', '--no-final', '--study', study]) == 0
    capsys.readouterr()
    line = _error(capsys, [*SMALL[:4], '3', *SMALL[5:], '--trials', '2', '--no-final',
                           '--study', study, '--out', str(tmp_path / 'other')])
    assert 'started with another setup (epochs: 2 there, 3 now)' in line


@pytest.mark.parametrize('argv, message', [
    (['--trials', '0'], '--trials must be an integer from 1'),
    (['--final-seeds', '0'], '--final-seeds must be an integer from 1'),
    (['--search', 'patience'], '--search patience: not searched'),
    (['--search', 'hidden'], 'given a value on the command line too'),
    (['--storage', 'sqlite:///x.db'], '--storage URL needs --out DIR'),
    (['--preset', 'mvgrl-mutag'], 'is a graph-level one'),
    (['--distributed'], 'unrecognized arguments'),
])
def test_bad_input_is_one_line(tmp_path, capsys, argv, message):
    where = [] if '--storage' in argv else ['--study', str(tmp_path / 's.log')]
    if '--distributed' in argv:  # not an option of tune: argparse's usage and error
        with pytest.raises(SystemExit):
            cli.main([*SMALL, *where, *argv])
        assert message in capsys.readouterr().err
        return
    assert message in _error(capsys, [*SMALL, *where, *argv])
    assert not (tmp_path / 's.log').exists()  # refused before the study is made


def test_without_optuna_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'optuna', None)  # `import optuna` fails
    line = _error(capsys, [*SMALL, '--study', str(tmp_path / 's.log')])
    assert line == "graphdim: error: graphdim tune needs Optuna: pip install 'graphdim[tune]'"


def test_ctrl_c_says_the_study_resumes(tmp_path, capsys, monkeypatch):
    from graphdim.cli import tune

    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(tune, 'run', interrupted)
    assert cli.main([*SMALL, '--study', str(tmp_path / 's.log')]) == 130
    (line, ) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith('graphdim: interrupted') and 'run the same command again' in line
    assert '--resume' not in line  # a run folder's fix, not a study's
