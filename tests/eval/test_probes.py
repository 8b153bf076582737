"""The probes of graphdim.eval: splits, the logistic-regression fit, the linear probe, the
graph-level and MLP probes, and the one result type they share."""
import numpy as np
import pytest
import torch

from graphdim.eval import (C_GRIDS, AdamSchedule, ProbeResult, Split, cross_validate,
                           fit_logistic_regression, linear_probe, mlp_probe, ogb_probe,
                           random_split)
from graphdim.eval.linear import adam_logistic_paths
from graphdim.eval.reinforced import cross_validated_accuracy


# --------------------------------------------------------------------------------- splits
def _labels(num_nodes=2708, num_classes=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_classes, (num_nodes,), generator=generator)


def test_random_split_sizes_disjoint_covering_and_stratified():
    labels = _labels()
    split = random_split(labels, seed=0)
    masks = torch.stack([split.train, split.val, split.test])
    assert bool((masks.sum(dim=0) == 1).all()), 'masks must be disjoint and cover every node'
    n = labels.numel()
    assert abs(int(split.train.sum()) / n - 0.1) < 0.01
    assert abs(int(split.val.sum()) / n - 0.1) < 0.01
    assert abs(int(split.test.sum()) / n - 0.8) < 0.01
    for cls in labels.unique():
        members = labels == cls
        count = int(members.sum())
        assert int((split.train & members).sum()) == max(1, round(0.1 * count))
        assert int((split.val & members).sum()) == max(1, round(0.1 * count))
    assert 'seed 0' in split.description


def test_random_split_keeps_every_class_on_tiny_graphs():
    labels = torch.tensor([0] * 30 + [1] * 4)
    split = random_split(labels, seed=0)
    for cls in (0, 1):
        assert bool((split.train & (labels == cls)).any())
        assert bool((split.val & (labels == cls)).any())


def test_random_split_is_seeded():
    labels = _labels()
    a, b, c = random_split(labels, 3), random_split(labels, 3), random_split(labels, 4)
    assert torch.equal(a.train, b.train) and torch.equal(a.val, b.val)
    assert not torch.equal(a.train, c.train)


# ---------------------------------------------------------------------------------- probe
def _mask(n, idx):
    mask = torch.zeros(n, dtype=torch.bool)
    mask[idx] = True
    return mask


def _separable(seed=0, n=600, d=5, classes=3):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes
    centers = torch.randn(classes, d, generator=generator) * 10
    x = centers[labels] + 0.1 * torch.randn(n, d, generator=generator)
    order = torch.randperm(n, generator=generator)
    split = Split(_mask(n, order[:200]), _mask(n, order[200:300]), _mask(n, order[300:]), 'test')
    return x, labels, split


def test_linear_probe_separable_problem_is_perfect():
    x, y, split = _separable()
    result = linear_probe(x, y, split)
    assert result.test_acc == 1.0 and result.val_acc == 1.0
    assert result.c in C_GRIDS['node']
    assert result.c == min(C_GRIDS['node'])  # ties go to the strongest penalty


def test_linear_probe_chooses_c_on_validation():
    # Train: class 0 at -1, class 1 (majority) at +1. A strong penalty predicts the majority
    # class everywhere; a weak one follows the feature.
    n_train = 100
    x_train = torch.cat([-torch.ones(30, 1), torch.ones(70, 1)])
    y_train = torch.cat([torch.zeros(30), torch.ones(70)]).long()
    # Validation agrees with the feature in one case and with the majority in the other.
    x_val = -torch.ones(20, 1)
    x_test = torch.cat([-torch.ones(10, 1), torch.ones(10, 1)])
    y_test = torch.cat([torch.zeros(10), torch.ones(10)]).long()
    x = torch.cat([x_train, x_val, x_test])
    idx = torch.arange(x.size(0))
    split = Split(idx < n_train, (idx >= n_train) & (idx < n_train + 20), idx >= n_train + 20,
                  'test')
    grid = (1e-4, 100.0)

    follows_feature = linear_probe(x, torch.cat([y_train, torch.zeros(20).long(), y_test]),
                                   split, c_grid=grid)
    assert follows_feature.c == 100.0 and follows_feature.val_acc == 1.0
    assert follows_feature.test_acc == 1.0

    majority = linear_probe(x, torch.cat([y_train, torch.ones(20).long(), y_test]), split,
                            c_grid=grid)
    assert majority.c == 1e-4 and majority.val_acc == 1.0
    assert majority.test_acc == 0.5  # the chosen (strong-penalty) probe is the one tested


def test_linear_probe_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    generator = torch.Generator().manual_seed(0)
    n, d, classes = 2708, 64, 7
    weights = torch.randn(d, classes, generator=generator)
    x = torch.randn(n, d, generator=generator)
    y = (x @ weights + 4.0 * torch.randn(n, classes, generator=generator)).argmax(dim=1)
    order = torch.randperm(n, generator=generator)
    split = Split(_mask(n, order[:140]), _mask(n, order[140:640]), _mask(n, order[1708:]),
                  'public-like')
    result = linear_probe(x, y, split)
    assert result.c in C_GRIDS['node']
    xn, yn = x.numpy().astype(np.float64), y.numpy()
    train, test = split.train.numpy(), split.test.numpy()
    reference = LogisticRegression(C=result.c, max_iter=1000).fit(xn[train], yn[train])
    sk_acc = reference.score(xn[test], yn[test])
    assert 0.3 < sk_acc < 0.95  # a non-trivial problem
    assert abs(100 * result.test_acc - 100 * sk_acc) <= 0.5


@pytest.mark.parametrize('c', [0.01, 1.0, 100.0])
def test_logistic_regression_reaches_scikit_learns_objective(c):
    """Same objective as LogisticRegression(lbfgs): the solution is as good (warm-started
    from another C's solution too), and predictions agree."""
    from sklearn.linear_model import LogisticRegression
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(150, 40, generator=generator)
    y = (x[:, :4] + 0.8 * torch.randn(150, 4, generator=generator)).argmax(dim=1)

    def objective(weight, bias):  # scikit-learn's, divided by C n
        logits = x.double() @ weight.double().t() + bias.double()
        return float(torch.nn.functional.cross_entropy(logits, y)
                     + weight.double().pow(2).sum() / (2 * c * len(y)))
    reference = LogisticRegression(C=c, max_iter=5000, tol=1e-8).fit(x.numpy(), y.numpy())
    best = objective(torch.from_numpy(reference.coef_), torch.from_numpy(reference.intercept_))
    cold = fit_logistic_regression(x, y, 4, c)
    warm = fit_logistic_regression(x, y, 4, c, init=fit_logistic_regression(x, y, 4, c / 10))
    for weight, bias in (cold, warm):
        assert objective(weight, bias) <= best + 1e-4 * max(1.0, abs(best))
        agree = (torch.addmm(bias, x, weight.t()).argmax(1).numpy() == reference.predict(x.numpy()))
        assert agree.mean() >= 0.97


# ------------------------------------------------------------------ the Adam-fitted probe
def test_adams_first_step_from_zero_is_minus_lr_times_the_gradients_sign():
    """By hand: at zero weights the logits are 0, so the gradient is
    (softmax(0) - onehot)^T x / n (the penalty's is 0 there), and Adam's first
    bias-corrected step is lr * g / (|g| + eps): -lr * sign(g) wherever g is not tiny."""
    generator = torch.Generator().manual_seed(3)
    x, y = torch.randn(40, 6, generator=generator), torch.arange(40) % 3
    gradient = (torch.full((40, 3), 1 / 3) - torch.nn.functional.one_hot(y, 3)).t() @ x / 40
    paths, weights, biases = adam_logistic_paths(x, y, 3, [1.0, 10.0], x, y,
                                                 AdamSchedule(0.05, 1))
    assert paths.shape == (2, 1) and torch.equal(weights[0], weights[1])  # C acts from step 2
    path, weight, bias = paths[0], weights[0], biases[0]
    assert int(path[0]) == int(
        ((torch.addmm(bias, x, weight.t())).argmax(1) == y).sum())
    assert torch.allclose(weight, -0.05 * gradient.sign(), atol=1e-5)
    bias_gradient = 1 / 3 - torch.bincount(y) / 40  # 14, 13, 13 rows: none zero
    assert torch.allclose(bias, -0.05 * bias_gradient.sign(), atol=1e-5)


def test_adam_probe_keeps_the_first_step_of_the_best_validation_accuracy():
    x, y, split = _separable(d=8)
    x = x + 6 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))  # overlap
    schedule = AdamSchedule(lr=0.05, epochs=60)
    result = linear_probe(x, y, split, c_grid=(1.0, ), normalizations=('none', ),
                          adam=schedule)
    paths, weights, biases = adam_logistic_paths(x[split.train], y[split.train], 3, [0.1, 1.0],
                                                 x[split.val], y[split.val], schedule)
    path, weight, bias = paths[1], weights[1], biases[1]
    # one stacked path per C is the path of that C alone (Adam acts entry by entry)
    alone = adam_logistic_paths(x[split.train], y[split.train], 3, [1.0], x[split.val],
                                y[split.val], schedule)
    assert torch.equal(alone[0][0], path) and torch.allclose(alone[1][0], weight, atol=1e-5)
    assert result.epoch == int(path.argmax()) + 1 and result.setting.endswith(
        f'epoch {result.epoch}')
    assert result.val_acc == pytest.approx(float(path.max()) / int(split.val.sum()))
    # the kept weights are those of that step: they score the validation rows as recorded
    right = (torch.addmm(bias, x[split.val], weight.t()).argmax(1) == y[split.val]).sum()
    assert int(right) == int(path.max())
    # a long path at a mild penalty ends where L-BFGS does (same objective)
    long = linear_probe(x, y, split, c_grid=(1.0, ), normalizations=('none', ),
                        adam=AdamSchedule(lr=0.05, epochs=2000))
    lbfgs = linear_probe(x, y, split, c_grid=(1.0, ), normalizations=('none', ))
    assert abs(long.val_acc - lbfgs.val_acc) <= 0.03


def test_adam_probe_never_reads_the_test_labels():
    x, y, split = _separable(d=8)
    x = x + 6 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    scrambled = y.clone()
    scrambled[split.test] = scrambled[split.test][torch.randperm(int(split.test.sum()))]
    schedule = AdamSchedule(lr=0.05, epochs=40)
    a, b = (linear_probe(x, labels, split, adam=schedule) for labels in (y, scrambled))
    assert (a.c, a.normalization, a.epoch, a.val_acc) == (b.c, b.normalization, b.epoch,
                                                          b.val_acc)
    assert torch.equal(a.test_pred, b.test_pred)
    folded = [cross_validated_accuracy(x, labels, split, 3, adam=schedule)
              for labels in (y, scrambled)]
    assert folded[0] == folded[1] and 0.3 < folded[0] <= 1.0


@pytest.mark.parametrize('lr, epochs, message', [(0, 10, 'lr must be'),
                                                 (float('nan'), 10, 'lr must be'),
                                                 (0.01, 0, 'epochs must be'),
                                                 (0.01, 2.5, 'epochs must be')])
def test_adam_schedule_refuses_bad_values(lr, epochs, message):
    with pytest.raises(ValueError, match=message):
        AdamSchedule(lr, epochs)


def test_linear_probe_rejects_bad_inputs():
    x, y, split = _separable()
    with pytest.raises(ValueError):
        linear_probe(x, y[:-1], split)
    empty = Split(split.train, torch.zeros_like(split.val), split.test, 'no val')
    with pytest.raises(ValueError, match='val'):
        linear_probe(x, y, empty)


# ------------------------------------------------------------------- one result, named grids
def test_each_level_keeps_its_own_grid():
    # the values the published figures were measured with (README, benchmarks/results)
    assert C_GRIDS['node'] == (0.01, 0.1, 1.0, 10.0, 100.0)
    assert C_GRIDS['graph'] == (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def test_cross_validation_folds_match_scikit_learns_own_cross_validation():
    """With one C the inner search has nothing to choose, so each outer fold's accuracy is
    scikit-learn's cross_val_score on the same folds; the result's scores are their means."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(90) % 3
    x = torch.randn(90, 4, generator=generator) + 1.5 * labels[:, None].float()
    result = cross_validate(x, labels, 'svm', folds=5, inner_folds=3, c_grid=(1.0, ), seed=2)
    reference = cross_val_score(make_pipeline(StandardScaler(), SVC(C=1.0)), x.double().numpy(),
                                labels.numpy(), cv=StratifiedKFold(5, shuffle=True, random_state=2))
    assert isinstance(result, ProbeResult) and len(result.folds) == 5
    assert np.allclose(result.fold_accuracies, reference)
    assert 0.5 < result.test_score < 1.0  # a non-trivial problem
    assert result.test_score == pytest.approx(reference.mean())
    assert result.std == pytest.approx(reference.std())
    assert result.val_score == pytest.approx(np.mean(result.inner_accuracies))
    assert result.chosen == [1.0] * 5 and result.c is None
    assert result.classifier == 'svm' and result.normalization == 'standardize'


def test_ogb_probe_reports_roc_auc_and_every_setting_it_tried():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(120) % 2
    x = torch.randn(120, 3, generator=generator) + labels[:, None].float()
    index = torch.arange(120)
    split = {'train': index[:80], 'valid': index[80:100], 'test': index[100:]}
    result = ogb_probe(x, labels, split, 'ogbg-molbace', c_grid=(0.1, 1.0))
    assert isinstance(result, ProbeResult) and result.metric == 'rocauc'
    assert set(result.val_scores) == {'svm C=0.1', 'svm C=1', 'logreg C=0.1', 'logreg C=1'}
    assert result.val_score == max(result.val_scores.values())
    assert result.val_scores[result.setting] == result.val_score
    assert result.chosen == result.setting and 0.5 < result.test_roc_auc <= 1.0


def test_mlp_probe_returns_the_shared_result_with_its_chosen_epoch():
    x, y, split = _separable()
    result = mlp_probe(x, y, split, hidden=16, epochs=5, lr=0.05)
    assert isinstance(result, ProbeResult) and result.classifier == 'mlp'
    assert 1 <= result.epoch <= 5 and result.setting == f'mlp epoch {result.epoch}'
    assert result.test_acc > 0.95 and result.c is None


def test_overriding_test_acc_replaces_the_test_score():
    # run_node_experiment replaces it by OGB's Evaluator figure on ogbn-* datasets
    x, y, split = _separable()
    result = linear_probe(x, y, split)
    result.test_acc = 0.25
    assert result.test_score == 0.25 and result.mean == 0.25


def test_nested_cross_validation_chooses_inside_each_outer_fold_only():
    from sklearn.model_selection import StratifiedKFold
    from graphdim.eval import nested_cross_validate
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(60) % 2
    informative = labels[:, None].float() + 0.3 * torch.randn(60, 3, generator=generator)
    noise = torch.randn(60, 3, generator=generator)
    result = nested_cross_validate({'noise': noise, 'informative': informative}, labels,
                                   folds=5, inner_folds=3, c_grid=(1.0, ), seed=1)
    assert [fold.chosen_candidate for fold in result.folds] == ['informative'] * 5
    assert result.test_score > 0.9
    # Rewrite the rows of outer fold 0's test part in the noise candidate so that it would
    # be perfect there: fold 0's inner scores and choice must not move (they never see them).
    _, test = next(StratifiedKFold(5, shuffle=True, random_state=1).split(labels, labels))
    leaked = noise.clone()
    leaked[test] = labels[test, None].float() * 10
    again = nested_cross_validate({'noise': leaked, 'informative': informative}, labels,
                                  folds=5, inner_folds=3, c_grid=(1.0, ), seed=1)
    assert again.folds[0].val_scores == result.folds[0].val_scores
    assert again.folds[0].chosen_candidate == 'informative'
    # One candidate is plain cross-validation.
    single = cross_validate(informative, labels, folds=5, inner_folds=3, c_grid=(1.0, ), seed=1)
    alone = nested_cross_validate({'x': informative}, labels, folds=5, inner_folds=3,
                                  c_grid=(1.0, ), seed=1)
    assert single.fold_accuracies == alone.fold_accuracies
    with pytest.raises(ValueError, match='candidates is empty'):
        nested_cross_validate({}, labels)
    with pytest.raises(ValueError, match=r'embeddings must be \[N, D\] and labels \[N\]'):
        nested_cross_validate({'a': informative, 'b': noise[:50]}, labels, folds=5)
