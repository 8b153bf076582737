"""The one logistic-regression fit (full-batch L-BFGS in torch), the named C grids, and the
linear probe on a :class:`Split` that node and image levels share.

Every choice (the penalty ``C``, the row normalisation) is made on the validation split; the
test split is touched once, by the chosen probe.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .result import ProbeResult
from .splits import Split

# The inverse L2 strengths (scikit-learn's C) each level's probes try, by level.
C_GRIDS = {
    'node': (0.01, 0.1, 1.0, 10.0, 100.0),  # also the image linear probe
    'graph': (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),  # InfoGraph's grid for the SVM
}


def fit_logistic_regression(x: Tensor, y: Tensor, num_classes: int, c: float = 1.0,
                            init: Optional[Tuple[Tensor, Tensor]] = None, max_iter: int = 1000,
                            tolerance: float = 1e-4) -> Tuple[Tensor, Tensor]:
    r"""Multinomial logistic regression by full-batch L-BFGS on ``x``'s device.

    Minimises scikit-learn's objective divided by :math:`C n`,
    :math:`\frac{1}{n}\sum_i \mathrm{CE}_i + \frac{1}{2Cn}\|W\|^2` (no penalty on the
    bias), and stops as scikit-learn's ``lbfgs`` does: every gradient entry below
    ``tolerance`` (its ``tol=1e-4``), or ``max_iter`` iterations. Returns ``(weight [K, D],
    bias [K])``; ``init`` warm-starts from another solution (e.g. the next smaller ``C``'s).

    A fit this small costs the optimizer's per-iteration overhead, not arithmetic, so the
    gradient is written by hand (no autograd graph per evaluation).
    """
    n, dim = x.shape
    weight = torch.zeros(num_classes, dim, device=x.device, dtype=x.dtype)
    bias = torch.zeros(num_classes, device=x.device, dtype=x.dtype)
    if init is not None:
        weight.copy_(init[0])
        bias.copy_(init[1])
    penalty = 0.5 / (c * n)
    target = F.one_hot(y, num_classes).to(x.dtype)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iter, history_size=20,
                                  tolerance_grad=tolerance, tolerance_change=1e-12,
                                  line_search_fn='strong_wolfe')

    def closure():
        log_p = torch.addmm(bias, x, weight.t()).log_softmax(dim=1)
        residual = (log_p.exp() - target) / n                   # d loss / d logits
        weight.grad = torch.addmm(weight, residual.t(), x, beta=2 * penalty)
        bias.grad = residual.sum(dim=0)
        return -(log_p * target).sum() / n + penalty * weight.pow(2).sum()

    optimizer.step(closure)
    return weight, bias


NORMALIZATIONS = ('none', 'l2')


def normalize_embeddings(embeddings: Tensor, kind: str) -> Tensor:
    """``'none'`` or ``'l2'`` (each row scaled to unit length, so only directions count)."""
    if kind == 'l2':
        return F.normalize(embeddings, dim=1)
    if kind != 'none':
        raise ValueError(f"unknown normalization {kind!r}; choose one of "
                         f"{', '.join(NORMALIZATIONS)}")
    return embeddings


def linear_probe(embeddings: Tensor, labels: Tensor, split: Split,
                 c_grid: Sequence[float] = C_GRIDS['node'],
                 normalizations: Sequence[str] = NORMALIZATIONS,
                 device: Optional[torch.device] = None) -> ProbeResult:
    """Logistic regression on frozen embeddings; ``C`` and the row normalisation (none or
    L2) chosen together by validation accuracy.

    Ties go to the earlier normalisation and the stronger penalty (smaller ``C``). Only the
    chosen probe sees the test nodes.
    """
    if embeddings.dim() != 2 or labels.dim() != 1 or labels.numel() != embeddings.size(0):
        raise ValueError(f"embeddings must be [N, D] and labels [N]; got "
                         f"{list(embeddings.shape)} and {list(labels.shape)}")
    for name, mask in (('train', split.train), ('val', split.val), ('test', split.test)):
        if int(mask.sum()) == 0:
            raise ValueError(f"the {name} split is empty")
    device = device or embeddings.device
    y = labels.to(device)
    num_classes = int(labels.max()) + 1
    train, val, test = (m.to(device) for m in (split.train, split.val, split.test))
    cs = sorted(c_grid)
    xs = [normalize_embeddings(embeddings.detach().to(device, torch.float32), kind)
          for kind in normalizations]
    probes = {}
    for a, x in enumerate(xs):
        x_train, previous = x[train], None
        for c, value in enumerate(cs):
            # each C starts from the next smaller C's solution: far fewer steps at large C
            previous = probes[a, c] = fit_logistic_regression(x_train, y[train], num_classes,
                                                              value, init=previous)

    def predict(a, c, nodes):
        weight, bias = probes[a, c]
        return torch.addmm(bias, xs[a][nodes], weight.t()).argmax(dim=1)

    # Ties go to the earlier normalisation, then the smaller C (strictly better replaces).
    best = None
    for a in range(len(normalizations)):
        for c in range(len(cs)):
            val_acc = float((predict(a, c, val) == y[val]).float().mean())
            if best is None or val_acc > best[0]:
                best = (val_acc, a, c)
    val_acc, a, c = best
    test_pred = predict(a, c, test)
    return ProbeResult(test_score=float((test_pred == y[test]).float().mean()),
                       val_score=val_acc, c=cs[c], normalization=normalizations[a],
                       test_pred=test_pred.cpu())
