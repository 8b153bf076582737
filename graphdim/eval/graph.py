"""Graph-level probes of frozen graph embeddings: cross-validated SVM / logistic regression,
OGB ROC-AUC.

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

Why scikit-learn here and not :func:`graphdim.eval.linear.fit_logistic_regression`:
InfoGraph's protocol is an RBF SVM, and the logistic regression beside it runs in the same
pipeline (scaler, folds, grid search) so that the two figures differ only in the classifier.
"""
import contextlib
import os
import signal
import threading
from typing import Dict, Iterator, Sequence

import numpy as np
from torch import Tensor

from ..progress import note, steps
from ..runtime import capped_jobs
from .linear import C_GRIDS, check_c_grid
from .result import ProbeResult

CLASSIFIERS = ('svm', 'logreg')


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


def cross_validate(embeddings: Tensor, labels: Tensor, classifier: str = 'svm',
                   folds: int = 10, inner_folds: int = 5,
                   c_grid: Sequence[float] = C_GRIDS['graph'], seed: int = 0,
                   jobs: int = 1, standardize: bool = True, label: str = '') -> ProbeResult:
    """Stratified ``folds``-fold CV accuracy; ``C`` chosen per fold by inner CV on its
    training part only (ties to the smaller ``C``). ``seed`` fixes both fold assignments;
    ``jobs`` runs that many inner fits in parallel (same result). The result's ``folds`` hold
    per outer fold its test accuracy, inner-CV accuracy and chosen ``C``. With ``label``,
    each fold's accuracy is printed as it ends (:mod:`graphdim.progress`)."""
    return nested_cross_validate({'embeddings': embeddings}, labels, classifier, folds,
                                 inner_folds, c_grid, seed, jobs, standardize, label)


def nested_cross_validate(candidates: Dict[str, Tensor], labels: Tensor,
                          classifier: str = 'svm', folds: int = 10, inner_folds: int = 5,
                          c_grid: Sequence[float] = C_GRIDS['graph'], seed: int = 0,
                          jobs: int = 1, standardize: bool = True,
                          label: str = '') -> ProbeResult:
    """:func:`cross_validate` that also chooses among ``candidates`` (name -> embeddings of
    the same graphs, e.g. one per encoder setting: learning rate, depth, epochs).

    In each outer fold the candidate and ``C`` with the best inner-CV accuracy on that
    fold's training part alone are refitted on it and score the held-out fold once (ties go
    to the earlier candidate and the smaller ``C``), so no outer test fold takes part in any
    choice. Each fold's result names its choice in ``val_scores`` (``{name: inner-CV
    accuracy}``) and in ``chosen_candidate``. With ``jobs`` above 1, the worker processes
    end with the search (``_workers_ended``)."""
    jobs = capped_jobs(jobs)
    with _workers_ended(jobs):
        return _nested_cross_validate(candidates, labels, classifier, folds, inner_folds,
                                      c_grid, seed, jobs, standardize, label)


def _nested_cross_validate(candidates, labels, classifier, folds, inner_folds, c_grid, seed,
                           jobs, standardize, label) -> ProbeResult:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    if not candidates:
        raise ValueError("candidates is empty: give at least one name -> embeddings")
    arrays = {name: _as_numpy(x, labels) for name, x in candidates.items()}
    y = next(iter(arrays.values()))[1]
    smallest_class = int(np.bincount(y).min()) if y.size else 0
    if folds < 2 or inner_folds < 2 or smallest_class < folds:
        raise ValueError(f"need folds, inner_folds >= 2 and every class at least `folds` "
                         f"graphs; got folds={folds}, inner_folds={inner_folds}, smallest "
                         f"class {smallest_class}")
    c_grid = check_c_grid(c_grid)
    make_classifier(classifier)  # rejects an unknown name before any fitting
    outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
    grid = {f'{_step(classifier)}__C': sorted(c_grid)}
    normalization = 'standardize' if standardize else 'none'
    per_fold = []
    shown = {'svm': 'SVM', 'logreg': 'logistic regression'}.get(classifier, classifier)
    for fold, (train, test) in enumerate(steps(outer.split(y, y), f"{label or 'CV'} {shown}",
                                               total=folds, unit='fold'), start=1):
        inner = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
        searches = {}
        for name, (x, _) in arrays.items():
            search = GridSearchCV(make_classifier(classifier, standardize=standardize), grid,
                                  cv=inner, scoring='accuracy', refit=False, n_jobs=jobs)
            searches[name] = search.fit(x[train], y[train])
        best = max(searches, key=lambda name: searches[name].best_score_)  # first on ties
        c = float(searches[best].best_params_[f'{_step(classifier)}__C'])
        x = arrays[best][0]
        model = make_classifier(classifier, c, standardize).fit(x[train], y[train])
        per_fold.append(ProbeResult(
            test_score=float(model.score(x[test], y[test])),
            val_score=float(searches[best].best_score_), classifier=classifier, c=c,
            normalization=normalization, chosen_candidate=best,
            val_scores={name: float(search.best_score_) for name, search in searches.items()}))
        if label:
            note(f"    {label} {shown} fold {fold}/{folds}: {100 * per_fold[-1].test_score:.2f} % "
                 f"(C={c:g}, inner CV {100 * per_fold[-1].val_score:.2f} %)")
    return ProbeResult(test_score=float(np.mean([fold.test_score for fold in per_fold])),
                       val_score=float(np.mean([fold.val_score for fold in per_fold])),
                       classifier=classifier, normalization=normalization, folds=per_fold)


@contextlib.contextmanager
def _workers_ended(jobs: int) -> Iterator[None]:
    """Around a parallel search: its worker processes end with this process.

    scikit-learn's ``n_jobs`` runs on joblib's reusable loky pool, whose workers (each with
    a copy of torch and the data, ~375 MiB) wait five minutes for more work before they
    end, and do not notice their parent's end: after a ``kill`` of the command they outlived
    it, holding its stdout and stderr open. So a search that fails or is interrupted ends
    the pool, and SIGTERM, where it has no handler, first ends the pool's workers
    (:func:`_sigterm_ending_workers`). A normal exit ends them too (loky's own ``atexit``);
    between searches the pool is kept, as starting workers costs seconds."""
    if jobs < 2:
        yield
        return
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        _SIGTERM_OWNER[0] = os.getpid()
        signal.signal(signal.SIGTERM, _sigterm_ending_workers)
    try:
        yield
    except BaseException:  # Ctrl-C, SIGTERM made an exception, a failed fit
        if _pool_workers():
            from joblib.externals.loky import get_reusable_executor
            get_reusable_executor(reuse=True).shutdown(wait=True, kill_workers=True)
        raise


# The process that installed _sigterm_ending_workers (a forked child inherits the handler).
_SIGTERM_OWNER = [0]


def _pool_workers():
    """The live worker processes of joblib's loky pool that this process started."""
    import multiprocessing
    return [child for child in multiprocessing.active_children()
            if type(child).__name__ == 'LokyProcess']


def _sigterm_ending_workers(signum, frame):
    """SIGTERM's default action, the end of the process, after killing the pool's workers
    (directly: a signal handler may not wait on the pool's locks)."""
    if os.getpid() == _SIGTERM_OWNER[0]:
        for worker in _pool_workers():
            worker.kill()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.raise_signal(signal.SIGTERM)


# Only tidying before the default action: graphdim.runtime.terminate_as_interrupt may replace
# it for a while (an --overwrite in the same process makes SIGTERM a KeyboardInterrupt).
_sigterm_ending_workers.default_action = True


def _step(classifier: str) -> str:
    return 'svc' if classifier == 'svm' else 'logisticregression'


def _positive_scores(model, x: np.ndarray) -> np.ndarray:
    return model.decision_function(x).reshape(-1, 1)


def ogb_probe(embeddings: Tensor, labels: Tensor, split: Dict[str, Tensor], dataset_name: str,
              classifiers: Sequence[str] = CLASSIFIERS,
              c_grid: Sequence[float] = C_GRIDS['graph'],
              standardize: bool = True) -> ProbeResult:
    """Fit on ``split['train']``, choose classifier and ``C`` by valid ROC-AUC, score test
    once with OGB's Evaluator (ties go to the earlier classifier and the smaller ``C``)."""
    c_grid = check_c_grid(c_grid)
    from ogb.graphproppred import Evaluator
    x, y = _as_numpy(embeddings, labels)
    evaluator = Evaluator(dataset_name)
    index = {k: split[k].cpu().numpy() for k in ('train', 'valid', 'test')}

    def roc_auc(model, part):
        return float(evaluator.eval({'y_true': y[index[part]].reshape(-1, 1),
                                     'y_pred': _positive_scores(model, x[index[part]])})['rocauc'])

    best, valid_scores = None, {}
    grid = steps([(kind, c) for kind in classifiers for c in sorted(c_grid)],
                 'probe: classifier x C', unit='fit')
    for kind, c in grid:
        model = make_classifier(kind, c, standardize).fit(x[index['train']],
                                                          y[index['train']])
        score = roc_auc(model, 'valid')
        valid_scores[f'{kind} C={c:g}'] = score
        if best is None or score > best[0]:
            best = (score, kind, c, model)
    score, kind, c, model = best
    return ProbeResult(test_score=roc_auc(model, 'test'), val_score=score, classifier=kind, c=c,
                       normalization='standardize' if standardize else 'none',
                       metric='rocauc', val_scores=valid_scores)

