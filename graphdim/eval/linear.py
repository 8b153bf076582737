"""The one logistic-regression objective, fitted by full-batch L-BFGS in torch or by an
early-stopped Adam path (:class:`AdamSchedule`), the named C grids, and the linear probe on a
:class:`Split` that node and image levels share.

Every choice (the penalty ``C``, the row normalisation, Adam's epoch) is made on the
validation split; the test split is touched once, by the chosen probe.
"""
import math
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..progress import steps
from .result import ProbeResult
from .splits import Split, check_split

# The inverse L2 strengths (scikit-learn's C) each level's probes try, by level.
C_GRIDS = {
    'node': (0.01, 0.1, 1.0, 10.0, 100.0),  # also the image linear probe
    'graph': (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),  # InfoGraph's grid for the SVM
}


def check_c_grid(c_grid) -> Tuple[float, ...]:
    """``c_grid`` as a tuple of floats, or a ValueError naming it: a non-empty list of finite
    inverse penalties ``C > 0`` (C = 0 would be an infinite penalty)."""
    try:
        values = tuple(c_grid)
    except TypeError:
        raise ValueError(f"c_grid must be a list of numbers C > 0; got {c_grid!r}") from None
    if not values or not all(isinstance(c, (int, float)) and not isinstance(c, bool)
                             and math.isfinite(c) and c > 0 for c in values):
        raise ValueError(f"c_grid must be a non-empty list of finite numbers C > 0 (inverse "
                         f"L2 penalties, e.g. {C_GRIDS['node']}); got {c_grid!r}")
    return tuple(float(c) for c in values)


# Features whose largest magnitude lies outside [2**-16, 2**16] are fitted rescaled (below).
_SCALE_RANGE = (2.0 ** -16, 2.0 ** 16)
# Below this C n max|x|^2, the penalty holds the weights at ~C n |x| of zero, where a
# first-order solution is exact to float32 (L-BFGS, stepping by ~1 / (C n), overflows).
_FIRST_ORDER_BELOW = 2.0 ** -24


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
    gradient is written by hand (no autograd graph per evaluation). Features far from unit
    scale (~1e10, where float32 L-BFGS overflows) are fitted as the same problem on
    ``x / s`` with ``C s^2`` (``s`` a power of two, so exact), and the weights scaled back;
    where the penalty then dominates (features ~1e-10 and below), its first-order solution
    is taken (:func:`_dominant_penalty_solution`).
    """
    n, dim = x.shape
    largest = float(x.abs().max()) if x.numel() else 0.0
    if largest > 0 and not _SCALE_RANGE[0] <= largest <= _SCALE_RANGE[1]:
        scale = 2.0 ** math.floor(math.log2(largest))
        start = None if init is None else (init[0] * scale, init[1])
        weight, bias = fit_logistic_regression(x / scale, y, num_classes, c * scale ** 2,
                                               start, max_iter, tolerance)
        return weight / scale, bias
    if dim and c * n * largest ** 2 < _FIRST_ORDER_BELOW:
        return _dominant_penalty_solution(x, y, num_classes, c, max_iter, tolerance)
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


def _dominant_penalty_solution(x: Tensor, y: Tensor, num_classes: int, c: float,
                               max_iter: int, tolerance: float) -> Tuple[Tensor, Tensor]:
    r"""The optimum where the penalty dominates (:math:`C n \max|x|^2` tiny: embeddings
    around 1e-10 rescaled to unit size leave :math:`C s^2` that small): its first-order
    expansion about :math:`W = 0`, the bias-only fit :math:`b` and
    :math:`W = C (Y - \mathrm{softmax}(b))^\top X` (the zero of the gradient
    :math:`\frac{1}{n}(P - Y)^\top X + W / (C n)` with :math:`P` at :math:`W = 0`); its error
    is of order :math:`(C n \max|x|^2)^2`."""
    _, bias = fit_logistic_regression(x[:, :0], y, num_classes, 1.0, None, max_iter, tolerance)
    target = F.one_hot(y, num_classes).to(x.dtype)
    return c * (target - bias.softmax(dim=0)).t() @ x, bias


@dataclass(frozen=True)
class AdamSchedule:
    r"""The probe fitted by ``epochs`` full-batch Adam steps of rate ``lr`` from zero weights
    instead of L-BFGS to convergence, the step kept chosen on validation together with ``C``
    (``graphdim.eval.linear.adam_logistic_paths``): stopping early is a second regulariser,
    the one of the probes of GraphACL's, GGD's and CCA-SSG's papers (which fix weight decay
    and epochs per graph). The objective is the L-BFGS fit's
    (``graphdim.eval.fit_logistic_regression``). ``linear_probe(..., adam=AdamSchedule())``;
    ``graphdim train --probe-optimizer adam``."""
    lr: float = 0.01
    epochs: int = 1000

    def __post_init__(self):
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or \
                not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"the Adam probe's lr must be a finite number > 0 (e.g. 0.01); "
                             f"got {self.lr!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or \
                self.epochs < 1:
            raise ValueError(f"the Adam probe's epochs must be an integer >= 1 (e.g. 1000); "
                             f"got {self.epochs!r}")


def adam_logistic_paths(x: Tensor, y: Tensor, num_classes: int, cs: Sequence[float],
                        held_x: Tensor, held_y: Tensor, schedule: AdamSchedule
                        ) -> Tuple[Tensor, Tensor, Tensor]:
    """Adam's steps on :func:`fit_logistic_regression`'s objective (``x``, ``y``, penalty
    ``C``) from zero weights, for every ``C`` of ``cs`` at once: the number of ``held_x`` rows
    classified as ``held_y`` after each step (``[len(cs), schedule.epochs]``), and each
    ``C``'s ``weight [len(cs), K, D]`` and ``bias [len(cs), K]`` after its first step with the
    most. Adam acts entry by entry, so one optimizer over the stacked weights is one Adam per
    ``C`` (one product a step instead of one per ``C``); the gradient is written by hand, as
    in the L-BFGS closure."""
    n, dim = x.shape
    count = len(cs)
    weight = torch.zeros(count, num_classes, dim, device=x.device, dtype=x.dtype)
    bias = torch.zeros(count, num_classes, device=x.device, dtype=x.dtype)
    optimizer = torch.optim.Adam([weight, bias], lr=schedule.lr)
    penalty = 1.0 / (n * torch.tensor(cs, device=x.device, dtype=x.dtype).view(-1, 1, 1))
    target = F.one_hot(y, num_classes).to(x.dtype).unsqueeze(1)             # [n, 1, K]
    correct = torch.zeros(count, schedule.epochs, dtype=torch.long, device=x.device)
    best_weight, best_bias = weight.clone(), bias.clone()
    best_count = torch.full((count, ), -1, dtype=torch.long, device=x.device)
    for epoch in range(schedule.epochs):
        logits = (x @ weight.view(-1, dim).t()).view(n, count, num_classes) + bias
        residual = (logits.softmax(dim=2) - target) / n                      # [n, C, K]
        weight.grad = (residual.permute(1, 2, 0).reshape(-1, n) @ x).view_as(weight) \
            + penalty * weight
        bias.grad = residual.sum(dim=0)
        optimizer.step()
        held = (held_x @ weight.view(-1, dim).t()).view(-1, count, num_classes) + bias
        correct[:, epoch] = (held.argmax(dim=2) == held_y.unsqueeze(1)).sum(dim=0)
        improved = correct[:, epoch] > best_count
        best_count = torch.maximum(best_count, correct[:, epoch])
        best_weight[improved], best_bias[improved] = weight[improved], bias[improved]
    return correct.cpu(), best_weight, best_bias


NORMALIZATIONS = ('none', 'l2')


def normalize_embeddings(embeddings: Tensor, kind: str) -> Tensor:
    """``'none'`` or ``'l2'`` (each row scaled to unit length, so only directions count)."""
    if kind == 'l2':
        return F.normalize(embeddings, dim=1)
    if kind != 'none':
        raise ValueError(f"unknown normalization {kind!r}; choose one of "
                         f"{', '.join(NORMALIZATIONS)}")
    return embeddings


def probe_inputs(embeddings: Tensor, labels: Tensor,
                 split: Split) -> Tuple[Tensor, Tensor, Tuple[Tensor, ...]]:
    """Check a probe's inputs; return ``(class index of each row, the label of each class,
    (train, val, scored test) masks)``.

    Class ids need not be ``0..C-1`` (``{0, 10**9}`` are two classes, not 10**9); rows
    labelled below 0 (PyG's "unlabelled") are left out of training and scoring, with a
    warning. Fewer than two classes among the training rows is an error (a probe of one
    class scores 100% and says nothing).
    """
    if not isinstance(embeddings, Tensor) or not isinstance(labels, Tensor) or \
            embeddings.dim() != 2 or labels.dim() != 1 or \
            labels.numel() != embeddings.size(0):
        raise ValueError(f"embeddings must be [N, D] and labels [N]; got "
                         f"{_shape(embeddings)} and {_shape(labels)}")
    if embeddings.layout != torch.strided or labels.layout != torch.strided:
        raise ValueError(f"embeddings and labels must be dense tensors; got "
                         f"{embeddings.layout} and {labels.layout} ones (convert with "
                         f".to_dense())")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class ids; got {labels.dtype} (convert "
                         f"whole-number labels with labels.long())")
    if not embeddings.is_floating_point() or not bool(torch.isfinite(embeddings).all()):
        raise ValueError("embeddings must be finite floating-point numbers; they hold "
                         + (f"{embeddings.dtype}" if not embeddings.is_floating_point()
                            else "NaN or inf (check the training loss)"))
    check_split(split, labels.numel())
    labels = labels.cpu()
    labelled = labels >= 0
    masks = [m.cpu() for m in (split.train, split.val, split.test)]
    unlabelled = {name: int((m & ~labelled).sum()) for name, m in zip(('train', 'val', 'test'),
                                                                       masks)}
    if any(unlabelled.values()):
        counts = ', '.join(f"{n} {name}" for name, n in unlabelled.items() if n)
        warnings.warn(f"the probe leaves out rows labelled below 0 (unlabelled): {counts}",
                      UserWarning, stacklevel=3)
    masks = [m & labelled for m in masks]
    for name, mask in zip(('train', 'val', 'test'), masks):
        if int(mask.sum()) == 0:
            raise ValueError(f"the {name} split is empty" + (
                " once unlabelled rows (label < 0) are left out" if unlabelled[name] else ""))
    classes = labels[labelled].unique()
    index = torch.zeros_like(labels)
    index[labelled] = torch.searchsorted(classes, labels[labelled])
    train_classes = classes[index[masks[0]].unique()]
    if train_classes.numel() < 2:
        raise ValueError(f"the training rows hold one class only (label "
                         f"{int(train_classes[0])}); a probe needs at least two classes to "
                         f"say anything: check the labels and the split")
    return index, classes, tuple(masks)


def _shape(value) -> str:
    return str(list(value.shape)) if isinstance(value, Tensor) else f"a {type(value).__name__}"


def _fit_grid(xs: Sequence[Tensor], y: Tensor, train: Tensor, val: Tensor, num_classes: int,
              cs: Sequence[float], adam: Optional[AdamSchedule]) -> Tuple[dict, dict]:
    """Every (normalisation ``a``, penalty ``c``) probe on the training rows: ``(weight,
    bias)`` and, fitted by Adam, the step kept (its first best on the validation rows)."""
    probes, epochs = {}, {}
    fits = steps(None, 'probe: C x normalisation', total=len(xs) * len(cs), unit='fit')
    for a, x in enumerate(xs):
        x_train, previous = x[train], None
        if adam is not None:  # every C in one Adam path; its step chosen on validation
            paths, weights, biases = adam_logistic_paths(x_train, y[train], num_classes, cs,
                                                         x[val], y[val], adam)
            for c in range(len(cs)):
                probes[a, c] = weights[c], biases[c]
                epochs[a, c] = int(paths[c].argmax()) + 1  # the first of the best
            fits.update(len(cs))
            continue
        for c, value in enumerate(cs):
            # each C starts from the next smaller C's solution: far fewer steps at large C
            previous = probes[a, c] = fit_logistic_regression(x_train, y[train], num_classes,
                                                              value, init=previous)
            fits.update()
    fits.close()
    return probes, epochs


def linear_probe(embeddings: Tensor, labels: Tensor, split: Split,
                 c_grid: Sequence[float] = C_GRIDS['node'],
                 normalizations: Sequence[str] = NORMALIZATIONS,
                 device: Optional[torch.device] = None,
                 adam: Optional[AdamSchedule] = None) -> ProbeResult:
    """Logistic regression on frozen embeddings; ``C`` and the row normalisation (none or
    L2) chosen together by validation accuracy. With ``adam`` (an :class:`AdamSchedule`)
    each is fitted by Adam's early-stopped path instead of L-BFGS, and its step is chosen on
    validation with them (the result's ``epoch``).

    Ties go to the earlier normalisation, the stronger penalty (smaller ``C``), the earlier
    step. Only the chosen probe sees the test nodes. The inputs are checked first
    (``probe_inputs``): bool, disjoint masks; any integer class ids; rows labelled below 0
    are not scored.
    ``test_pred`` holds the predicted label of every row of ``split.test``.
    """
    cs = sorted(check_c_grid(c_grid))
    if isinstance(normalizations, str) or not normalizations or \
            any(kind not in NORMALIZATIONS for kind in normalizations):
        raise ValueError(f"normalizations must be a non-empty list of "
                         f"{', '.join(NORMALIZATIONS)}; got {normalizations!r}")
    index, classes, (train, val, scored) = probe_inputs(embeddings, labels, split)
    device = device or embeddings.device
    y = index.to(device)
    num_classes = classes.numel()
    train, val, scored, test = (m.to(device) for m in (train, val, scored, split.test))
    xs = [normalize_embeddings(embeddings.detach().to(device, torch.float32), kind)
          for kind in normalizations]
    probes, epochs = _fit_grid(xs, y, train, val, num_classes, cs, adam)

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
    right = (test_pred == y[test])[scored[test]]
    return ProbeResult(test_score=float(right.float().mean()),
                       val_score=val_acc, c=cs[c], normalization=normalizations[a],
                       epoch=epochs.get((a, c)), test_pred=classes[test_pred.cpu()])
