"""The probes live here: frozen embeddings -> probe -> one :class:`ProbeResult`.

- ``linear.py``: the one logistic-regression fit (torch L-BFGS), the named C grids
  (``C_GRIDS``) and the validation-chosen linear probe of node and image levels.
- ``mlp.py``: DIM's MLP probe (image level).
- ``reinforced.py``: the linear probe on GGD's reinforced embeddings, the depth chosen on
  validation (:func:`choose_hops`).
- ``graph.py``: graph level, InfoGraph's protocol: cross-validated SVM / logistic
  regression on TU datasets (``nested_cross_validate`` also chooses the encoder setting
  inside each outer fold), the OGB ROC-AUC probe (scikit-learn).
- ``image.py``: image level: encoder features, the raw-pixel baseline, every probe on every
  feature set.
- ``splits.py``: train / validation / test masks (public, random, image holdout).
- ``result.py``: :class:`ProbeResult`, what every probe returns.

``DeepGraphInfomax.test`` is not one of them: it is PyG's method, kept for drop-in use.
"""
from .graph import CLASSIFIERS, cross_validate, make_classifier, nested_cross_validate, ogb_probe
from .image import FEATURES, image_features, probe_features, raw_pixels
from .linear import C_GRIDS, NORMALIZATIONS, AdamSchedule, fit_logistic_regression, \
    linear_probe, normalize_embeddings
from .mlp import mlp_probe
from .reinforced import HOPS_GRID, ReinforcedProbe, choose_hops
from .result import ProbeResult
from .splits import Split, holdout_split, public_split, random_split

__all__ = ['AdamSchedule', 'C_GRIDS', 'CLASSIFIERS', 'FEATURES', 'NORMALIZATIONS', 'ProbeResult',
           'Split', 'cross_validate', 'fit_logistic_regression', 'holdout_split', 'image_features',
           'linear_probe', 'make_classifier', 'mlp_probe', 'nested_cross_validate',
           'normalize_embeddings', 'ogb_probe', 'probe_features', 'public_split', 'random_split',
           'raw_pixels', 'HOPS_GRID', 'ReinforcedProbe', 'choose_hops']
