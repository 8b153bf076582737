"""graphdim.experiments.tune and tune_outputs: the search reads no test label, resumes a
study (a killed trial included) and refuses to resume another setup; its space and outputs."""
import json
import socket
import subprocess
import sys

import optuna
import pytest
import torch

from graphdim.data import NodeDataset, load_node_dataset
from graphdim.eval import random_split
from graphdim.experiments import NodeConfig
from graphdim.experiments.tune import (RETRY_ATTR, SETUP_ATTR, WORKER_ATTR, TuneResult, TuneSettings,
                                       finished_trials, import_optuna, split_graphs,
                                       study_storage, trial_config, tune)
from graphdim.experiments.tune_outputs import check_tune_folder, write_tune_outputs
from graphdim.experiments.tune_space import decoded, idle_options, search_space

BASE = NodeConfig(dataset='karate', epochs=2, hidden_channels=8, device='cpu')
# lr and weight decay only: each trial one seed of karate, well under a second
FAST = dict(trial_seeds=1, only=('lr', 'weight_decay'), final=False)


def _karate(flip_test: bool = False) -> NodeDataset:
    """Karate with a public split (that of seed 0), its test labels flipped if asked."""
    data = load_node_dataset('karate').data
    split = random_split(data.y, 0)
    data.train_mask, data.val_mask, data.test_mask = split.train, split.val, split.test
    if flip_test:
        data.y = data.y.clone()
        data.y[split.test] = 1 - data.y[split.test]
    return NodeDataset('karate', data, 2, public_split=True)


def _tune(path, trials, base=BASE, dataset=None, **settings):
    storage = study_storage(optuna, str(path))
    return tune(base, TuneSettings(trials=trials, **{**FAST, **settings}), storage,
                dataset=dataset if dataset is not None else _karate(), progress=False)


def _values(study):
    return [(t.state.name, t.value, t.params) for t in study.trials]


def test_the_search_trains_on_a_copy_without_test_labels():
    real_graph = _karate()
    hidden, real, _ = split_graphs(real_graph, 0)
    test = real.data.test_mask
    assert hidden.data.y[test].unique().numel() == 1  # one training label for all
    assert torch.equal(real.data.y, real_graph.data.y)  # the final run's labels are real
    assert not torch.equal(hidden.data.y[test], real.data.y[test])
    assert torch.equal(hidden.data.y[~test], real.data.y[~test])


def test_scrambled_test_labels_change_no_trial_and_no_choice(tmp_path):
    first = _tune(tmp_path / 'a.log', 2, dataset=_karate()).study
    flipped = _tune(tmp_path / 'b.log', 2, dataset=_karate(flip_test=True)).study
    assert _values(first) == _values(flipped)
    assert first.best_params == flipped.best_params and len(first.trials) == 2


def test_a_resumed_study_runs_only_the_missing_trials(tmp_path):
    path = tmp_path / 'study.log'
    _tune(path, 2)
    study = _tune(path, 3).study
    assert finished_trials(optuna, study) == 3 and len(study.trials) == 3
    assert len({t.params['lr'] for t in study.trials}) == 3  # not the first recipes again
    assert len(_tune(path, 3).study.trials) == 3  # complete: nothing more runs


def test_a_study_refuses_to_resume_with_another_base_config(tmp_path):
    path = tmp_path / 'study.log'
    _tune(path, 1)
    other = NodeConfig(dataset='karate', epochs=3, hidden_channels=8, device='cpu')
    with pytest.raises(ValueError, match=r"started with another setup \(epochs: 2 there, 3 "):
        _tune(path, 2, base=other)
    with pytest.raises(ValueError, match='started with another setup'):
        _tune(path, 2, only=('lr', ))  # another space
    assert len(_tune(path, 1).study.trials) == 1  # the same setup resumes
    searched = NodeConfig(dataset='karate', epochs=2, hidden_channels=8, device='cpu', lr=0.05)
    assert len(_tune(path, 1, base=searched).study.trials) == 1  # lr's base value: unused


def test_a_study_resumes_after_graphdim_added_options(tmp_path):
    """A study begun before an option existed, or was searchable, resumes with its own space
    while the new options stay at their defaults (or where its trials had them)."""
    path = tmp_path / 'study.log'
    study = _tune(path, 1, only=('lr', )).study
    setup = study.user_attrs[SETUP_ATTR]
    setup['base'].pop('patience')  # as if graphdim had no --patience when it began
    study.set_user_attr(SETUP_ATTR, setup)
    resumed = _tune(path, 2, only=('lr', 'weight_decay')).study  # weight decay: searchable since
    assert finished_trials(optuna, resumed) == 2
    assert all(set(t.params) == {'lr'} for t in resumed.trials)  # the study's own space
    for changed in (dict(patience=5), dict(weight_decay=1e-3)):  # not where the trials had them
        other = NodeConfig(**{**dict(dataset='karate', epochs=2, hidden_channels=8,
                                     device='cpu'), **changed})
        with pytest.raises(ValueError, match='started with another setup'):
            _tune(path, 3, base=other, only=('lr', 'weight_decay'))


def _dead_process() -> dict:
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()  # ended and reaped: its pid names no process
    return {'host': socket.gethostname(), 'pid': process.pid, 'started': 0.0}


def test_a_trial_killed_mid_run_neither_blocks_nor_counts(tmp_path):
    path = tmp_path / 'study.log'
    study = _tune(path, 1).study
    killed = study.ask()  # a trial whose process died (kill -9) before telling its end
    killed.suggest_float('lr', 1e-4, 1e-2, log=True)
    killed.set_user_attr(WORKER_ATTR, _dead_process())
    live = study.ask()  # just started by another process: left alone
    study = _tune(path, 3).study
    states = {t.number: t.state.name for t in study.trials}
    assert states[killed.number] == 'FAIL' and states[live.number] == 'RUNNING'
    retried = [t for t in study.trials if t.user_attrs.get(RETRY_ATTR) == killed.number]
    assert len(retried) == 1 and retried[0].params['lr'] == killed.params['lr']
    assert finished_trials(optuna, study) == 3


def test_the_space_merges_the_shared_options_and_the_models():
    space = search_space('dgi')
    assert {'lr', 'hidden_channels', 'hops', 'corruption', 'corruption_p'} <= set(space)
    assert set(search_space('dgi', only=['lr', 'hidden'])) == {'lr', 'hidden_channels'}
    assert 'hidden_channels' not in search_space('dgi', fixed=['hidden_channels'])
    with pytest.raises(ValueError, match='--search patience: not searched'):
        search_space('dgi', only=['patience'])
    with pytest.raises(ValueError, match='given a value on the command line'):
        search_space('dgi', only=['lr'], fixed=['lr'])
    assert decoded(space, {'hops': '0 1 2 3 5 10', 'lr': 0.01}) == {
        'hops': (0, 1, 2, 3, 5, 10), 'lr': 0.01}


def test_an_option_the_sampled_values_turn_off_goes_back_to_its_default():
    values = {'corruption': 'row_shuffle', 'corruption_p': 0.3}
    assert idle_options('dgi', values) == ['corruption_p']
    base = NodeConfig(dataset='karate', hops=(0, 1), reinforcement=('add', 'replace'))
    config = trial_config(base, {'hops': (0, )})
    assert config.hops == (0, ) and config.reinforcement == ('add', )


def test_bad_settings_are_one_line_each():
    with pytest.raises(ValueError, match='--trials must be an integer from 1'):
        TuneSettings(trials=0)
    with pytest.raises(ValueError, match='--trial-seeds must be an integer from 1 to 100'):
        TuneSettings(trial_seeds=101)  # the final run's seeds start at 100


def test_missing_optuna_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'optuna', None)
    with pytest.raises(ValueError, match=r"pip install 'graphdim\[tune\]'"):
        import_optuna()


def _finished_study(values):
    """A study of trials told their values (no training): what the outputs are made of."""
    study = optuna.create_study(direction='maximize')
    space = search_space('dgi', only=['lr', 'hops'])
    for number, value in enumerate(values):
        study.add_trial(optuna.trial.create_trial(
            params={'lr': 10 ** -(2 + number % 3), 'hops': '0 1 2 3 5 10' if number else '0'},
            distributions={'lr': optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
                           'hops': optuna.distributions.CategoricalDistribution(
                               ['0', '0 1 2 3 5 10'])},
            value=value, user_attrs={'val_acc_per_seed': [value]}))
    best = trial_config(BASE, decoded(space, study.best_params), seed=100, seeds=10,
                        random_baseline=True)
    return TuneResult(study, space, best, None, 'public split')


def test_the_outputs_and_a_folder_that_holds_them(tmp_path):
    result = _finished_study([50.0, 75.0, 62.5])
    written, notes = write_tune_outputs(str(tmp_path), result)
    assert [path.name for path in written] == ['best_config.json', 'trials.csv',
                                               'summary.json', 'history.png',
                                               'importances.png'] and notes == []
    best = json.loads((tmp_path / 'best_config.json').read_text())
    assert best['hops'] == [0, 1, 2, 3, 5, 10] and best['lr'] == 0.001
    assert best['seeds'] == 10 and best['seed'] == 100 and 'resume' not in best
    assert NodeConfig.from_dict(best) == trial_config(BASE, {'lr': 0.001, 'hops': (
        0, 1, 2, 3, 5, 10)}, seed=100, seeds=10, random_baseline=True)
    rows = (tmp_path / 'trials.csv').read_text().splitlines()
    assert rows[0] == 'number,state,val_acc,seconds,val_acc_per_seed,lr,hops'
    assert rows[2] == '1,COMPLETE,75.0,,75.00,0.001,0 1 2 3 5 10' and len(rows) == 4
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert summary['best_trial'] == 1 and summary['final'] is None
    with pytest.raises(ValueError, match='holds the outputs of a search'):
        check_tune_folder(str(tmp_path))  # before a search
    with pytest.raises(ValueError, match='holds the outputs of a search'):
        write_tune_outputs(str(tmp_path), result)  # and after it: another may have written
    assert len(write_tune_outputs(str(tmp_path), result, overwrite=True)[0]) == 5


def test_importances_need_two_completed_trials(tmp_path):
    written, notes = write_tune_outputs(str(tmp_path), _finished_study([50.0]))
    assert 'importances.png' not in {path.name for path in written}
    assert notes == ['importances.png not drawn: it needs 2 completed trials; the study has 1']


@pytest.mark.slow  # the training-free baseline's grid: 5 to 10 s on a 2-core CPU
def test_the_final_run_retrains_the_best_recipe_with_its_baselines(tmp_path):
    result = _tune(tmp_path / 'study.log', 2, final=True, final_seeds=2)
    assert result.final.seeds == [100, 101] and result.best_config.random_baseline
    assert result.final.figure('test_acc', 'training_free') is not None
    assert result.final.figure('test_acc', 'random_init') is not None
    assert result.best_config.lr == result.study.best_params['lr']


def test_a_new_study_tries_the_recipe_it_searches_around_first(tmp_path):
    base = NodeConfig(dataset='karate', epochs=2, hidden_channels=8, device='cpu', lr=0.003,
                      weight_decay=1e-4)
    study = _tune(tmp_path / 'study.log', 2, base=base).study
    assert study.trials[0].params == {'lr': 0.003, 'weight_decay': 1e-4}
    assert study.trials[1].params != study.trials[0].params
    # a value the space does not hold (lr above its range) is left to the sampler
    outside = NodeConfig(dataset='karate', epochs=2, hidden_channels=8, device='cpu', lr=0.5)
    first = _tune(tmp_path / 'outside.log', 1, base=outside).study.trials[0].params
    assert first['weight_decay'] == 0.0 and first['lr'] != 0.5


def test_the_first_trial_holds_listed_choices_by_their_label():
    from graphdim.experiments.tune_space import base_params
    space = search_space('ggd')
    flat = {'hops': [0], 'hidden_channels': 1536, 'epochs': 300, 'mask_clean': True,
            'drop_feature_p': 0.2}
    params = base_params('ggd', space, flat)
    assert params['hops'] == '0' and params['hidden_channels'] == 1536
    assert params['mask_clean'] is True and params['drop_feature_p'] == 0.2
    assert 'epochs' not in params  # 300 is not one of the listed choices
