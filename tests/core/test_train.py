"""Training: a real DGI run on Cora, and the training loop's rules on deterministic models."""
import copy
import math

import pytest
import torch

from graphdim import NodeConfig, fit, run_node_experiment


@pytest.mark.slow  # an accuracy run: DGI's full recipe on Cora
def test_dgi_on_cora_reaches_paper_level_accuracy(data_root):
    # DGI's recipe (1-layer GCN 512, PReLU, bce, lr 1e-3, patience 20) on the public split;
    # the paper reports 82.3 +- 0.6.
    result = run_node_experiment(NodeConfig(dataset='Cora', root=str(data_root), seeds=1),
                                 progress=False)
    assert result['dataset'] == 'Cora' and result['split'] == 'public'
    assert result['num_nodes'] == 2708
    run = result['runs'][0]
    assert run['epochs'] >= 50 and run['best_epoch'] <= run['epochs']
    assert result['test_acc_mean'] >= 78.0, result['runs']


# ----------------------------------------------------------------- deterministic models
class Quadratic(torch.nn.Module):
    """Loss (w - 1)^2 + (v + 2)^2: deterministic, and Adam with a large step overshoots."""
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([4.0]))
        self.v = torch.nn.Parameter(torch.tensor([1.0]))

    def training_loss(self, batch):
        return ((self.w - 1) ** 2 + (self.v + 2) ** 2).sum()


class Scripted(torch.nn.Module):
    """Returns a scripted sequence of losses, one per call (plus a zero-gradient term)."""
    def __init__(self, losses):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.losses = list(losses)
        self.calls = 0

    def training_loss(self, batch):
        value = self.losses[min(self.calls, len(self.losses) - 1)]
        self.calls += 1
        return (self.w * 0).sum() + value


BATCH = torch.zeros(1)


def test_fit_restores_the_parameters_that_gave_the_best_loss():
    torch.manual_seed(0)
    model = Quadratic()
    result = fit(model, BATCH, epochs=40, lr=0.8, patience=0, progress=False)
    losses = result.losses
    assert len(losses) == 40
    assert result.best_loss == min(losses) and losses[result.best_epoch - 1] == result.best_loss
    assert result.best_epoch < 40, 'Adam should overshoot so the best epoch is not the last'
    with torch.no_grad():
        restored_loss = float(model.training_loss(BATCH))
    assert restored_loss == pytest.approx(result.best_loss, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize('patience, min_epochs', [(5, 1), (5, 20), (30, 10), (1, 1)])
def test_early_stopping_on_a_loss_that_never_improves(patience, min_epochs):
    model = Scripted([1.0])
    result = fit(model, BATCH, epochs=200, patience=patience, min_epochs=min_epochs,
                 progress=False)
    assert result.epochs == max(min_epochs, patience + 1)
    assert result.stopped_early
    assert result.best_epoch == 1 and result.best_loss == 1.0


def test_early_stopping_counts_from_the_last_improvement():
    losses = [5.0, 4.0, 3.0, 2.0, 2.5, 1.0] + [1.5] * 100  # best at epoch 6
    result = fit(Scripted(losses), BATCH, epochs=100, patience=4, min_epochs=1, progress=False)
    assert result.best_epoch == 6 and result.best_loss == 1.0
    assert result.epochs == 10 and result.stopped_early


def test_patience_zero_disables_early_stopping():
    result = fit(Scripted([1.0]), BATCH, epochs=15, patience=0, min_epochs=1, progress=False)
    assert result.epochs == 15 and not result.stopped_early


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_loss_raises_floating_point_error(bad):
    with pytest.raises(FloatingPointError, match='epoch 3'):
        fit(Scripted([1.0, 0.5, bad]), BATCH, epochs=10, patience=0, progress=False)


def test_epochs_must_be_positive():
    with pytest.raises(ValueError, match='epochs'):
        fit(Scripted([1.0]), BATCH, epochs=0, progress=False)


def test_fit_averages_the_loss_over_batches():
    model = Scripted([1.0, 3.0, 2.0, 2.0])
    result = fit(model, [BATCH, BATCH], epochs=2, patience=0, progress=False)
    assert result.losses == [2.0, 2.0] and model.calls == 4


# -------------------------------------------------------------------------- repeatability
def test_same_seed_gives_identical_embeddings_on_karate(tmp_path):
    config = dict(dataset='karate', epochs=15, min_epochs=1, hidden_channels=32)
    saved = {}
    for name, seed in (('a', 0), ('b', 0), ('c', 1)):
        out = tmp_path / name
        run_node_experiment(NodeConfig(seed=seed, **config), progress=False, out_dir=str(out))
        saved[name] = torch.load(out / f'seed_{seed}' / 'embeddings.pt', weights_only=True)
    assert torch.equal(saved['a'], saved['b'])
    assert not torch.allclose(saved['a'], saved['c'])


def test_on_epoch_sees_every_epoch_with_the_model_as_it_stands():
    model, seen = Quadratic(), []
    fit(model, BATCH, epochs=4, lr=0.5, patience=0, progress=False,
        on_epoch=lambda epoch, m: seen.append((epoch, float(m.w))))
    assert [epoch for epoch, _ in seen] == [1, 2, 3, 4]
    assert len({w for _, w in seen}) == 4  # a step between every two calls


@pytest.mark.parametrize('option, value', [
    ('patience', -1), ('min_epochs', -5), ('epochs', 0), ('lr', math.nan), ('lr', 0.0),
    ('lr', math.inf), ('weight_decay', math.nan), ('weight_decay', -1.0), ('patience', 2.5),
])
def test_fit_refuses_impossible_settings(option, value):
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=option):
        fit(model, torch.zeros(1), **{option: value}, progress=False)


# ------------------------------------------------- choosing the kept epoch with select
class Noisy(torch.nn.Module):
    """Loss (w - noise)^2 with fresh torch noise each epoch: training follows the RNG."""
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([2.0]))

    def training_loss(self, batch):
        return ((self.w - torch.randn(1)) ** 2).sum()


def scripted_scores(scores, seen=None):
    """A select returning ``scores`` in order, recording the mode it was called in."""
    left = list(scores)

    def select(model):
        if seen is not None:
            seen.append((model.training, torch.is_grad_enabled()))
        return left.pop(0)
    return select


def test_select_keeps_the_best_scored_epochs_parameters_the_earlier_of_ties():
    model, after_epoch, seen = Quadratic(), {}, []
    result = fit(model, BATCH, epochs=9, lr=0.5, patience=0, progress=False,
                 select=scripted_scores([0.1, 0.5, 0.3, 0.5, 0.2], seen), select_every=2,
                 on_epoch=lambda epoch, m: after_epoch.setdefault(epoch, copy.deepcopy(
                     m.state_dict())))
    assert result.selection_scores == {2: 0.1, 4: 0.5, 6: 0.3, 8: 0.5, 9: 0.2}  # 9: the last
    assert result.best_epoch == 4 and result.best_loss == result.losses[3]
    for name, value in model.state_dict().items():
        assert torch.equal(value, after_epoch[4][name]), name
    assert not torch.equal(after_epoch[4]['w'], after_epoch[8]['w'])  # the tie mattered
    assert seen == [(False, False)] * 5 and model.training  # eval, no grad; train again


def test_select_scores_the_epoch_early_stopping_ends_on():
    result = fit(Scripted([1.0]), BATCH, epochs=100, patience=3, min_epochs=1,
                 progress=False, select=scripted_scores([0.7]), select_every=50)
    assert result.stopped_early and result.epochs == 4  # early stopping stays on the loss
    assert result.selection_scores == {4: 0.7} and result.best_epoch == 4


def test_scoring_leaves_the_training_run_as_it_was():
    def train(select=None, every=0):
        torch.manual_seed(0)
        return fit(Noisy(), BATCH, epochs=6, lr=0.1, patience=0, progress=False,
                   select=select, select_every=every).losses

    def draws(model):  # a probe that draws random numbers, as a probe's init may
        return float(torch.rand(1))
    assert train(draws, 1) == train()


def test_a_resumed_run_keeps_the_score_it_had_chosen_by(tmp_path):
    scores = [0.3, 0.9, 0.5, 0.7]  # epochs 2, 4, 6, 8: epoch 4 wins
    options = dict(epochs=8, lr=0.5, patience=0, progress=False, select_every=2)
    reference_model = Quadratic()
    reference = fit(reference_model, BATCH, select=scripted_scores(scores), **options)
    assert reference.best_epoch == 4

    def crash_after_5(epoch, model):
        if epoch == 5:
            raise KeyboardInterrupt
    path = tmp_path / 'checkpoint.pt'
    with pytest.raises(KeyboardInterrupt):
        fit(Quadratic(), BATCH, select=scripted_scores(scores[:2]), checkpoint=path,
            checkpoint_every=1, on_epoch=crash_after_5, **options)
    resumed_model = Quadratic()  # scored 0.5 and 0.7 after the restart: below 0.9
    resumed = fit(resumed_model, BATCH, select=scripted_scores(scores[2:]), checkpoint=path,
                  checkpoint_every=1, resume=True, **options)
    assert resumed.best_epoch == 4 and resumed.selection_scores == reference.selection_scores
    assert torch.equal(resumed_model.w, reference_model.w)


def test_a_checkpoint_written_before_selection_scores_resumes(tmp_path):
    path = tmp_path / 'checkpoint.pt'
    options = dict(epochs=6, lr=0.5, patience=0, progress=False, checkpoint=path,
                   checkpoint_every=3)
    fit(Quadratic(), BATCH, **dict(options, epochs=3))
    saved = torch.load(path, weights_only=True)
    del saved['result']['selection_scores']
    saved['config']['epochs'], saved['done'] = 6, False  # as if stopped at epoch 3 of 6
    del saved['config']['select_every']
    torch.save(saved, path)
    result = fit(Quadratic(), BATCH, resume=True, **options)
    assert result.epochs == 6 and result.selection_scores == {}


def test_a_checkpoint_with_foreign_selection_scores_is_refused(tmp_path):
    path = tmp_path / 'checkpoint.pt'
    options = dict(epochs=4, lr=0.5, patience=0, progress=False, checkpoint=path,
                   checkpoint_every=2, select_every=2)
    fit(Quadratic(), BATCH, select=scripted_scores([0.5, 0.6]), **options)
    saved = torch.load(path, weights_only=True)
    saved['result']['selection_scores'] = {'2': 'high'}
    saved['done'] = False
    torch.save(saved, path)
    with pytest.raises(ValueError, match='selection scores'):
        fit(Quadratic(), BATCH, select=scripted_scores([0.5]), resume=True, **options)


@pytest.mark.parametrize('select, every, message', [
    (None, 5, 'select_every must be an integer >= 1 with select .* 0 without it'),
    (lambda model: 0.5, 0, 'select_every must be an integer >= 1'),
    (lambda model: 0.5, True, 'select_every must be an integer'),
    ('accuracy', 1, 'select must be a function'),
    (lambda model: float('nan'), 1, r'select\(model\) must return a finite number.*epoch 1'),
    (lambda model: 'high', 1, r'select\(model\) must return a finite number'),
])
def test_fit_refuses_a_select_that_cannot_choose(select, every, message):
    with pytest.raises(ValueError, match=message):
        fit(Quadratic(), BATCH, epochs=2, progress=False, select=select, select_every=every)
