"""Evaluation of frozen graph embeddings: cross-validated SVM / logistic regression, OGB ROC-AUC.

TU datasets (InfoGraph's protocol, without its test-fold leaks): stratified 10-fold
cross-validation; in each outer fold the classifier's ``C`` is chosen by an inner stratified
cross-validation on the nine training folds only, refitted on them, and scored once on the
held-out fold. OGB datasets: the probe is fitted on the official train split, the classifier
and ``C`` are chosen by ROC-AUC on the valid split, and the test split is scored once with
``ogb.graphproppred.Evaluator``.

Features are standardised inside each fit by default (the scaler is part of the pipeline, so
it too is fitted on training folds only). Sum-pooled embeddings reach large values; unscaled,
an RBF SVM at large ``C`` can take long per fit and logistic regression converges slowly.
``standardize=False`` fits the raw embeddings, as InfoGraph's own evaluation does.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import numpy as np
from torch import Tensor

CLASSIFIERS = ('svm', 'logreg')
# InfoGraph's grid for the SVM's C.
DEFAULT_C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def make_classifier(kind: str, c: float = 1.0, standardize: bool = True):
    """A scikit-learn pipeline: standardisation (optional), then an RBF SVM or logistic
    regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    if kind == 'svm':
        model = SVC(C=c, kernel='rbf', gamma='scale')
    elif kind == 'logreg':
        # A capped L-BFGS: at large C near-separable folds otherwise iterate for long
        # without changing the predictions.
        model = LogisticRegression(C=c, max_iter=300, tol=1e-3)
    else:
        raise ValueError(f"unknown classifier {kind!r}; choose one of {', '.join(CLASSIFIERS)}")
    return make_pipeline(StandardScaler(), model) if standardize else make_pipeline(model)


def _as_numpy(embeddings: Tensor, labels: Tensor):
    if embeddings.dim() != 2 or labels.dim() != 1 or labels.numel() != embeddings.size(0):
        raise ValueError(f"embeddings must be [N, D] and labels [N]; got "
                         f"{list(embeddings.shape)} and {list(labels.shape)}")
    x = embeddings.detach().cpu().double().numpy()
    if not np.isfinite(x).all():
        raise ValueError("the embeddings contain NaN or infinite values")
    return x, labels.detach().cpu().numpy()


@dataclass
class CVResult:
    """Per-fold test accuracies (in [0, 1]), the inner-CV accuracy of the chosen ``C``
    (training folds only: the number to tune a recipe on) and the ``C`` chosen per fold."""
    classifier: str
    fold_accuracies: List[float]
    inner_accuracies: List[float]
    chosen: List[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_accuracies))


def cross_validate(embeddings: Tensor, labels: Tensor, classifier: str = 'svm',
                   folds: int = 10, inner_folds: int = 5,
                   c_grid: Sequence[float] = DEFAULT_C_GRID, seed: int = 0,
                   jobs: int = 1, standardize: bool = True) -> CVResult:
    """Stratified ``folds``-fold CV accuracy; ``C`` chosen per fold by inner CV on its
    training part only (ties to the smaller ``C``). ``seed`` fixes both fold assignments;
    ``jobs`` runs that many inner fits in parallel (same result)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    x, y = _as_numpy(embeddings, labels)
    smallest_class = int(np.bincount(y).min()) if y.size else 0
    if folds < 2 or inner_folds < 2 or smallest_class < folds:
        raise ValueError(f"need folds, inner_folds >= 2 and every class at least `folds` "
                         f"graphs; got folds={folds}, inner_folds={inner_folds}, smallest "
                         f"class {smallest_class}")
    if not c_grid:
        raise ValueError("c_grid is empty")
    make_classifier(classifier)  # rejects an unknown name before any fitting
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    grid = {f'{_step(classifier)}__C': sorted(c_grid)}
    accuracies, inner_accuracies, chosen = [], [], []
    for train, test in outer.split(x, y):
        inner = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
        search = GridSearchCV(make_classifier(classifier, standardize=standardize), grid, cv=inner,
                              scoring='accuracy', refit=True, n_jobs=jobs)
        search.fit(x[train], y[train])
        accuracies.append(float(search.score(x[test], y[test])))
        inner_accuracies.append(float(search.best_score_))
        chosen.append(float(search.best_params_[f'{_step(classifier)}__C']))
    return CVResult(classifier, accuracies, inner_accuracies, chosen)


def _step(classifier: str) -> str:
    return 'svc' if classifier == 'svm' else 'logisticregression'


@dataclass
class OGBProbeResult:
    """ROC-AUC on the official split; the classifier and ``C`` chosen on valid."""
    test_roc_auc: float
    valid_roc_auc: float
    chosen: str
    valid_scores: Dict[str, float] = field(default_factory=dict)


def _positive_scores(model, x: np.ndarray) -> np.ndarray:
    return model.decision_function(x).reshape(-1, 1)


def ogb_probe(embeddings: Tensor, labels: Tensor, split: Dict[str, Tensor], dataset_name: str,
              classifiers: Sequence[str] = CLASSIFIERS,
              c_grid: Sequence[float] = DEFAULT_C_GRID,
              standardize: bool = True) -> OGBProbeResult:
    """Fit on ``split['train']``, choose classifier and ``C`` by valid ROC-AUC, score test
    once with OGB's Evaluator (ties go to the earlier classifier and the smaller ``C``)."""
    from ogb.graphproppred import Evaluator
    x, y = _as_numpy(embeddings, labels)
    evaluator = Evaluator(dataset_name)
    index = {k: split[k].cpu().numpy() for k in ('train', 'valid', 'test')}

    def roc_auc(model, part):
        return float(evaluator.eval({'y_true': y[index[part]].reshape(-1, 1),
                                     'y_pred': _positive_scores(model, x[index[part]])})['rocauc'])

    best, valid_scores = None, {}
    for kind in classifiers:
        for c in sorted(c_grid):
            model = make_classifier(kind, c, standardize).fit(x[index['train']],
                                                              y[index['train']])
            score = roc_auc(model, 'valid')
            setting = f'{kind} C={c:g}'
            valid_scores[setting] = score
            if best is None or score > best[0]:
                best = (score, setting, model)
    score, setting, model = best
    return OGBProbeResult(roc_auc(model, 'test'), score, setting, valid_scores)

