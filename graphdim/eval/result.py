"""The one result type of every probe: node, graph and image levels."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
from torch import Tensor


def _alias(field_name: str) -> property:
    """Another name for the field ``field_name``, read and written through."""
    return property(lambda self: getattr(self, field_name),
                    lambda self, value: setattr(self, field_name, value))


@dataclass
class ProbeResult:
    """The scores of the setting a probe chose without looking at the test data.

    ``test_score`` and ``val_score`` lie in [0, 1] and measure ``metric``: ``'accuracy'``, or
    ``'rocauc'`` for the OGB molecule probe. ``val_score`` is the figure the choice was made
    on: the validation split's, or for a cross-validation the mean inner-CV accuracy of the
    chosen ``C`` (training folds only).

    The chosen setting: ``classifier`` (``'logreg'``, ``'svm'`` or ``'mlp'``) with its ``c``
    (None for the MLP probe and for a cross-validation, whose folds each choose their own) and
    its ``epoch`` (the MLP probe's, and the Adam-fitted logistic regression's), and the
    feature ``normalization`` (``'none'``, ``'l2'``, or ``'standardize'``: zero mean and unit
    variance on the probe's training rows).

    ``val_scores`` maps every setting tried to its validation score (OGB probe); ``folds``
    holds one result per outer fold of a cross-validation, whose own scores are the means
    over its folds; ``test_pred`` is the chosen probe's class per test row (linear probe).
    """
    test_score: float
    val_score: float
    classifier: str = 'logreg'
    c: Optional[float] = None
    normalization: str = 'none'
    epoch: Optional[int] = None
    metric: str = 'accuracy'
    val_scores: Dict[str, float] = field(default_factory=dict)
    folds: List['ProbeResult'] = field(default_factory=list)
    test_pred: Optional[Tensor] = None
    chosen_candidate: Optional[str] = None  # nested CV: the embeddings this fold chose

    @property
    def setting(self) -> str:
        """The chosen setting in words, as the keys of ``val_scores``: ``'svm C=0.1'``."""
        if self.classifier == 'mlp':
            return f'mlp epoch {self.epoch}'
        epoch = f' epoch {self.epoch}' if self.epoch else ''  # the Adam-fitted probe's
        return f'{self.classifier} C={self.c:g}{epoch}'

    @property
    def std(self) -> float:
        """Standard deviation of the test scores over the folds (0 without folds)."""
        return float(np.std([fold.test_score for fold in self.folds])) if self.folds else 0.0

    # The names of the per-level result types this one replaced (ProbeResult, CVResult,
    # OGBProbeResult, MLPProbeResult), which callers use. Overwriting test_acc replaces the
    # test score (run_node_experiment does, with OGB's Evaluator figure).
    test_acc = mean = test_roc_auc = _alias('test_score')
    val_acc = valid_roc_auc = _alias('val_score')
    valid_scores = _alias('val_scores')

    @property
    def fold_accuracies(self) -> List[float]:
        return [fold.test_score for fold in self.folds]

    @property
    def inner_accuracies(self) -> List[float]:
        return [fold.val_score for fold in self.folds]

    @property
    def chosen(self):
        """Per fold the chosen ``C`` (cross-validation), otherwise the chosen setting."""
        return [fold.c for fold in self.folds] if self.folds else self.setting
