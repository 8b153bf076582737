"""--choose-epoch validation (issue 35): the kept epoch chosen by the probe's validation
accuracy, every --validate-every epochs and at the last, without reading a test label."""
import pytest
import torch

import graphdim.cli as cli
import graphdim.experiments.node as node
from graphdim import NodeConfig, run_node_experiment
from graphdim.data import NodeDataset, load_node_dataset
from graphdim.eval import random_split
from graphdim.experiments.tune_space import idle_options, search_space

from helpers import karate_files

FAST = dict(dataset='karate', epochs=5, hidden_channels=8, min_epochs=1, patience=0,
            device='cpu', choose_epoch='validation', validate_every=2)


@pytest.fixture
def histories(monkeypatch):
    """The FitResult of every fit a run makes (the summary keeps the chosen epoch only)."""
    seen = []

    def recording_fit(*args, **kwargs):
        seen.append(fit(*args, **kwargs))
        return seen[-1]
    fit = node.fit
    monkeypatch.setattr(node, 'fit', recording_fit)
    return seen


def karate_with_fixed_split(test_labels=None) -> NodeDataset:
    """Karate with seed 0's split as its own masks (a random split is stratified on all the
    labels, so scrambling test labels would move it); ``test_labels`` replace the test rows'."""
    data = load_node_dataset('karate').data
    split = random_split(data.y, 0)
    data.train_mask, data.val_mask, data.test_mask = split.train, split.val, split.test
    if test_labels is not None:
        data.y = data.y.clone()
        data.y[split.test] = test_labels(data.y[split.test])
    return NodeDataset('karate', data, 2, public_split=True)


def test_the_kept_epoch_is_a_scored_one(histories):
    run = run_node_experiment(NodeConfig(**FAST), progress=False)['runs'][0]
    history, = histories
    assert set(history.selection_scores) == {2, 4, 5}  # every 2nd epoch and the last
    assert run['best_epoch'] == history.best_epoch and run['best_epoch'] in (2, 4, 5)
    best = max(history.selection_scores.values())
    assert history.best_epoch == min(e for e, s in history.selection_scores.items() if s == best)
    assert run['final_loss'] == history.losses[run['best_epoch'] - 1]


@pytest.mark.slow  # two karate runs, each probed at three epochs
def test_scrambled_test_labels_leave_the_choice_as_it_was(histories):
    plain = run_node_experiment(NodeConfig(**FAST), progress=False,
                                dataset=karate_with_fixed_split())
    flipped = run_node_experiment(NodeConfig(**FAST), progress=False,
                                  dataset=karate_with_fixed_split(lambda y: 1 - y))
    assert plain['test_acc_mean'] != flipped['test_acc_mean']  # the flip reached the test
    assert histories[0].selection_scores == histories[1].selection_scores
    assert plain['runs'][0]['best_epoch'] == flipped['runs'][0]['best_epoch']


def test_the_probe_that_chooses_sees_no_test_label(monkeypatch):
    dataset = karate_with_fixed_split()
    labels, data = dataset.data.y.clone(), dataset.data
    probed = []

    def recording_choose_hops(z, graph, split, *args):
        probed.append(graph.y.clone())
        return choose_hops(z, graph, split, *args)
    choose_hops = node.choose_hops
    monkeypatch.setattr(node, 'choose_hops', recording_choose_hops)
    run_node_experiment(NodeConfig(**dict(FAST, epochs=2)), progress=False, dataset=dataset)
    *choosing, final = probed
    assert len(choosing) == 1 and torch.equal(final, labels) and torch.equal(data.y, labels)
    seen = choosing[0]
    known = data.train_mask | data.val_mask
    assert torch.equal(seen[known], labels[known])
    assert seen[data.test_mask].unique().tolist() == [int(labels[data.train_mask][0])]


def test_a_graph_without_labels_cannot_choose_on_validation(tmp_path):
    karate_files(tmp_path, with_labels=False)
    config = NodeConfig(graph=str(tmp_path / 'edges.txt'), features=str(tmp_path / 'x.npy'),
                        epochs=2, hidden_channels=8, choose_epoch='validation')
    with pytest.raises(ValueError, match='--choose-epoch validation .* --labels FILE'):
        run_node_experiment(config, progress=False)


@pytest.mark.parametrize('argv, message', [
    (['--validate-every', '5'], '--validate-every acts with --choose-epoch validation only'),
    (['--probe-lr', '0.1'], "--probe-lr is the Adam probe's rate: add --probe-optimizer adam"),
    (['--probe-epochs', '9'], "--probe-epochs are the Adam probe's steps"),
    (['--probe-optimizer', 'adam', '--probe-epochs', '0'], 'must be >= 1'),
    (['--choose-epoch', 'validation', '--validate-every', '0'],
     'validate_every (--validate-every) must be >= 1; got 0'),
    (['--choose-epoch', 'validation', '--distributed', '--batch-size', '8'],
     '--choose-epoch validation probes the whole graph in one process'),
])
def test_impossible_choices_are_one_error_line(argv, message, capsys):
    assert cli.main(['train', '--quiet', '--epochs', '2', *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith('graphdim: error: ') and err.count('\n') == 1 and message in err, err


def test_tune_searches_the_rule_and_validate_every_only_with_validation():
    assert search_space('dgi')['choose_epoch'] == ['loss', 'validation']
    assert 'validate_every' in idle_options('dgi', {'choose_epoch': 'loss',
                                                   'validate_every': 10})
    assert 'validate_every' not in idle_options('dgi', {'choose_epoch': 'validation',
                                                       'validate_every': 10})
