"""The probes at their limits (issue 27, causes 10 and 14): --jobs capped at the usable CPUs, and
large finite features that do not overflow the logistic regression."""
import pytest
import torch

import graphdim as gd


def test_jobs_are_capped_at_the_usable_cpus(monkeypatch):
    import sklearn.model_selection
    import graphdim.runtime
    asked = []
    real = sklearn.model_selection.GridSearchCV

    def grid_search(*args, **kwargs):
        asked.append(kwargs.get('n_jobs'))
        return real(*args, **kwargs)
    monkeypatch.setattr(sklearn.model_selection, 'GridSearchCV', grid_search)
    monkeypatch.setattr(graphdim.runtime, 'usable_cpus', lambda: 1)
    monkeypatch.setattr(graphdim.runtime, '_CAPPED_JOBS', set())  # warned once per process
    labels = torch.arange(16) % 2
    embeddings = torch.randn(16, 3) + 3 * labels[:, None]
    with pytest.warns(UserWarning, match='--jobs 100000 is more than the 1 CPU'):
        gd.cross_validate(embeddings, labels, 'logreg', folds=2, inner_folds=2,
                          c_grid=(1.0, ), jobs=100000)
    assert asked and set(asked) == {1}


def test_large_finite_features_do_not_overflow_the_probe():
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(40) % 2
    embeddings = torch.randn(40, 4, generator=generator) + 2 * labels[:, None]
    split = gd.random_split(labels, 0, 0.5, 0.2)
    for scale in (1e10, 1e30):
        result = gd.linear_probe(embeddings * scale, labels, split, c_grid=(1.0, ),
                                 normalizations=('none', ))
        assert result.test_score > 0.7
    # The fit is the same problem rescaled: weights for x * 2**40 at C are those for x at
    # C * 2**80, scaled back.
    from graphdim.eval.linear import fit_logistic_regression
    x = embeddings * 2.0 ** 40
    weight, bias = fit_logistic_regression(x, labels, 2, c=1.0)
    assert torch.isfinite(weight).all() and torch.isfinite(bias).all()
    accuracy = float(((x @ weight.t() + bias).argmax(1) == labels).float().mean())
    assert accuracy > 0.7
