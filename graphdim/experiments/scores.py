"""The scores of one probe of one set of embeddings, one type per level: :class:`NodeScores`
(the linear probe, the reinforcement it chose, the plain embeddings' probe beside it),
:class:`GraphScores` (the nested cross-validations of an SVM and a logistic regression, or the
OGB probe) and :class:`ImageScores` (every probe on every feature set). Each is the trained
encoder's scores or a baseline's (:class:`~graphdim.experiments.results.SeedResult`); its
``to_json(name)`` and ``from_json(record, name)`` are the only code that spells a seed's JSON
keys (a baseline's carry its name first: ``random_init_test_acc``). Reading is lenient: a value
of the wrong type (a file changed by hand) reads as None, and its reader decides.
"""
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from ..eval.result import ProbeResult


def json_number(value) -> Optional[float]:
    """``value`` where it is a number (JSON's int or float), else None (so ``json_int`` and
    ``json_text``: values read from a file that may have been changed by hand)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def json_int(value) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def json_text(value) -> Optional[str]:
    return value if isinstance(value, str) else None


def _named(record: Dict[str, Any], name: str) -> Dict[str, Any]:
    """A baseline's keys carry its name first (``random_init_test_acc``)."""
    return {f'{name}_{key}': value for key, value in record.items()} if name else record


def _percent(result: Optional[ProbeResult], score: str = 'test_score') -> Optional[float]:
    return None if result is None else 100 * getattr(result, score)


def _probe(test: Optional[float], val: Optional[float], scale: float = 100.0,
           **setting) -> Optional[ProbeResult]:
    """The probe result a figure (and its validation figure) read back stand for."""
    if test is None:
        return None
    return ProbeResult(test_score=test / scale,
                       val_score=float('nan') if val is None else val / scale, **setting)


@dataclass
class NodeScores:
    """A node-level probe of one set of embeddings: ``probe``, the linear probe of the chosen
    embeddings (None where the graph has no labels), the reinforcement chosen (``hops`` 0:
    the embeddings as they are; ``reinforcement``, ``'add'`` or ``'replace'``, or the
    training-free baseline's ``'multiscale'`` with its ``alpha``) and ``plain``, the probe of
    the embeddings as they are where several ``K`` were tried. The trained encoder's scores
    also name the ``split`` and the ``propagation`` used. ``alpha`` is written only where it
    was chosen (a multi-scale form), so the other records keep their keys."""
    probe: Optional[ProbeResult] = None
    hops: Optional[int] = 0
    reinforcement: Optional[str] = 'add'
    plain: Optional[ProbeResult] = None
    split: Optional[str] = None
    propagation: Optional[Dict[str, Any]] = None
    alpha: Optional[float] = None

    BASELINES = ('random_init', 'training_free')

    @property
    def test_acc(self) -> Optional[float]:
        """Test accuracy in percent (None: not probed)."""
        return _percent(self.probe)

    @property
    def val_acc(self) -> Optional[float]:
        return _percent(self.probe, 'val_score')

    @property
    def plain_test_acc(self) -> Optional[float]:
        return _percent(self.plain)

    def to_json(self, name: str = '') -> Dict[str, Any]:
        """The JSON figures: the trained encoder's (``name`` ''), or a baseline's (its name
        first, without the probe's setting, split and propagation)."""
        record: Dict[str, Any] = {'test_acc': self.test_acc, 'val_acc': self.val_acc}
        if self.probe is not None:
            if not name:
                record.update(probe_c=self.probe.c, probe_normalization=self.probe.normalization)
                if self.probe.epoch is not None:  # the Adam-fitted probe's chosen step
                    record['probe_epoch'] = self.probe.epoch
            record.update(hops=self.hops, reinforcement=self.reinforcement)
            if self.alpha is not None:
                record['alpha'] = self.alpha
        if not name:
            record['split'] = self.split
            if self.probe is not None:
                record['propagation'] = self.propagation
        if self.plain is not None:
            record.update(plain_test_acc=self.plain_test_acc,
                          plain_val_acc=_percent(self.plain, 'val_score'))
        return _named(record, name)

    @classmethod
    def from_json(cls, record: Dict[str, Any], name: str = '') -> Optional['NodeScores']:
        key = (lambda k: f'{name}_{k}') if name else (lambda k: k)
        if name and key('test_acc') not in record:
            return None
        get = lambda k: record.get(key(k))  # noqa: E731
        probe = _probe(json_number(get('test_acc')), json_number(get('val_acc')),
                       c=json_number(get('probe_c')),
                       normalization=json_text(get('probe_normalization')) or 'none',
                       epoch=json_int(get('probe_epoch')))
        plain = _probe(json_number(get('plain_test_acc')), json_number(get('plain_val_acc')))
        propagation = get('propagation')
        return cls(probe, json_int(get('hops')), json_text(get('reinforcement')), plain,
                   json_text(get('split')), propagation if isinstance(propagation, dict) else None,
                   json_number(get('alpha')))


@dataclass
class GraphScores:
    """A graph-level probe of one set of embeddings: on a TU dataset the nested
    cross-validations of an SVM (``svm``, the headline) and of a logistic regression
    (``logreg``), each outer fold choosing its ``C``; on an OGB dataset ``ogb``, the probe
    chosen on the valid ROC-AUC."""
    svm: Optional[ProbeResult] = None
    logreg: Optional[ProbeResult] = None
    ogb: Optional[ProbeResult] = None

    BASELINES = ('random_init', )

    @property
    def test_acc(self) -> Optional[float]:
        """The SVM's test accuracy in percent, the mean of its folds'."""
        return _percent(self.svm)

    @property
    def logreg_acc(self) -> Optional[float]:
        return _percent(self.logreg)

    @property
    def val_acc(self) -> Optional[float]:
        """The SVM's inner cross-validation accuracy (training folds only), in percent."""
        return _inner_percent(self.svm)

    @property
    def test_acc_folds(self) -> List[float]:
        return [100 * a for a in self.svm.fold_accuracies] if self.svm is not None else []

    @property
    def test_roc_auc(self) -> Optional[float]:
        return None if self.ogb is None else self.ogb.test_roc_auc

    @property
    def valid_roc_auc(self) -> Optional[float]:
        return None if self.ogb is None else self.ogb.valid_roc_auc

    def to_json(self, name: str = '') -> Dict[str, Any]:
        if self.ogb is not None:
            record = {'test_roc_auc': self.test_roc_auc, 'valid_roc_auc': self.valid_roc_auc}
            if not name:
                record['probe'] = self.ogb.chosen if self.ogb.c is not None else None
        elif name:
            record = {'test_acc': self.test_acc, 'logreg_acc': self.logreg_acc}
        else:
            record = {'test_acc': self.test_acc, 'test_acc_folds': self.test_acc_folds,
                      'test_acc_chosen': _chosen(self.svm), 'logreg_acc': self.logreg_acc,
                      'logreg_acc_folds': [100 * a for a in self.logreg.fold_accuracies]
                      if self.logreg is not None else [],
                      'logreg_acc_inner': _inner_percent(self.logreg),
                      'logreg_acc_chosen': _chosen(self.logreg), 'val_acc': self.val_acc}
        return _named(record, name)

    @classmethod
    def from_json(cls, record: Dict[str, Any], name: str = '') -> Optional['GraphScores']:
        get = lambda k: record.get(f'{name}_{k}' if name else k)  # noqa: E731
        roc = json_number(get('test_roc_auc'))
        if roc is not None:
            classifier, _, c = (json_text(get('probe')) or '').partition(' C=')
            return cls(ogb=_probe(roc, json_number(get('valid_roc_auc')), 1.0, metric='rocauc',
                                  classifier=classifier, c=json_number(_float(c))))
        if name and json_number(get('test_acc')) is None:
            return None
        return cls(svm=_cross_validation(get('test_acc'), get('test_acc_folds'),
                                         get('test_acc_chosen'), get('val_acc'), 'svm'),
                   logreg=_cross_validation(get('logreg_acc'), get('logreg_acc_folds'),
                                            get('logreg_acc_chosen'), get('logreg_acc_inner'),
                                            'logreg'))


def _inner_percent(cv: Optional[ProbeResult]) -> Optional[float]:
    """The mean inner-CV accuracy of a cross-validation's folds, in percent."""
    if cv is None:
        return None
    return 100 * statistics.fmean(cv.inner_accuracies) if cv.folds else 100 * cv.val_score


def _chosen(cv: Optional[ProbeResult]) -> Optional[list]:
    """The ``C`` each outer fold of a cross-validation chose."""
    return None if cv is None else [fold.c for fold in cv.folds]


def _float(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def _cross_validation(test, folds, chosen, inner, classifier: str) -> Optional[ProbeResult]:
    """A cross-validation read back: its mean, and its folds where the JSON lists them."""
    test, inner = json_number(test), json_number(inner)
    result = _probe(test, inner, classifier=classifier)
    if result is not None and isinstance(folds, list) and isinstance(chosen, list):
        result.folds = [_probe(json_number(a), inner, classifier=classifier, c=json_number(c))
                        for a, c in zip(folds, chosen) if json_number(a) is not None]
    return result


@dataclass
class ImageScores:
    """The image probes of one set of features (an encoder's, or the raw pixels):
    ``probes['<probe>/<feature>']`` holds each probe's ``test_acc`` and ``val_acc`` (percent)
    and its chosen setting. The trained encoder's scores also name the ``split`` and the
    number of images DIM trained on (``train_images``)."""
    probes: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    split: Optional[str] = None
    train_images: Optional[int] = None

    BASELINES = ('raw_pixels', 'random_encoder')

    @property
    def headline(self) -> Optional[str]:
        """The probe the headline figure is: the linear probe on ``y`` (on the pixels for
        the raw-pixel baseline)."""
        return next((k for k in ('linear/y', 'linear/pixels') if k in self.probes), None)

    def figure(self, probe: Optional[str], key: str = 'test_acc') -> Optional[float]:
        scores = self.probes.get(probe) if probe else None
        return json_number(scores.get(key)) if isinstance(scores, dict) else None

    @property
    def test_acc(self) -> Optional[float]:
        return self.figure(self.headline)

    @property
    def val_acc(self) -> Optional[float]:
        return self.figure(self.headline, 'val_acc')

    def to_json(self, name: str = '') -> Dict[str, Any]:
        if name:
            return {name: self.probes}
        return {'train_images': self.train_images, 'split': self.split, 'dim': self.probes,
                'test_acc': self.test_acc, 'val_acc': self.val_acc}

    @classmethod
    def from_json(cls, record: Dict[str, Any], name: str = '') -> Optional['ImageScores']:
        probes = record.get(name or 'dim')
        if name and not isinstance(probes, dict):
            return None
        probes = {k: v for k, v in probes.items() if isinstance(v, dict)} \
            if isinstance(probes, dict) else {}
        if name:
            return cls(probes)
        return cls(probes, json_text(record.get('split')), json_int(record.get('train_images')))


Scores = Union[NodeScores, GraphScores, ImageScores]
SCORES = {'node': NodeScores, 'graph': GraphScores, 'image': ImageScores}  # by level
