"""Evaluation of frozen embeddings: linear probes and splits.

Every choice (the probe's L2 penalty) is made on the validation split; the test split is
touched once, by the chosen probe.
"""
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

# Inverse L2 strengths tried by the probe, as scikit-learn's C.
DEFAULT_C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)


@dataclass
class Split:
    """Boolean node masks and how they were made (``'public'`` or ``'random 10/10/80 ...'``)."""
    train: Tensor
    val: Tensor
    test: Tensor
    description: str


@dataclass
class ProbeResult:
    test_acc: float
    val_acc: float
    c: float
    normalization: str = 'none'
    test_pred: Optional[Tensor] = None  # the chosen probe's class per test node


def public_split(data) -> Split:
    """The dataset's own ``train_mask`` / ``val_mask`` / ``test_mask``."""
    return Split(data.train_mask, data.val_mask, data.test_mask, 'public')


def random_split(labels: Tensor, seed: int, train_fraction: float = 0.1,
                 val_fraction: float = 0.1) -> Split:
    """A seeded random train / val / test split (10% / 10% / 80% as in GRACE and BGRL).

    Stratified per class, with at least one training and one validation node per class so
    that tiny graphs (karate) stay usable.
    """
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    masks = [torch.zeros(labels.numel(), dtype=torch.bool) for _ in range(3)]
    for cls in labels.unique():
        nodes = (labels == cls).nonzero().view(-1)
        nodes = nodes[torch.randperm(nodes.numel(), generator=generator)]
        n_train = max(1, round(train_fraction * nodes.numel()))
        n_val = max(1, round(val_fraction * nodes.numel()))
        masks[0][nodes[:n_train]] = True
        masks[1][nodes[n_train:n_train + n_val]] = True
        masks[2][nodes[n_train + n_val:]] = True
    test_fraction = 1 - train_fraction - val_fraction
    return Split(*masks, f'random {train_fraction:.0%}/{val_fraction:.0%}/{test_fraction:.0%} '
                         f'train/val/test, stratified, seed {seed}')


def fit_logistic_regression(x: Tensor, y: Tensor, num_classes: int, c: float = 1.0,
                            max_iter: int = 200) -> torch.nn.Linear:
    r"""Multinomial logistic regression by full-batch L-BFGS, on ``x``'s device.

    Minimises scikit-learn's objective :math:`\frac{1}{2}\|W\|^2 + C\sum_i \mathrm{CE}_i`
    (no penalty on the bias), divided by :math:`C n` so its scale does not depend on ``n``.
    """
    linear = torch.nn.Linear(x.size(1), num_classes).to(x.device, x.dtype)
    torch.nn.init.zeros_(linear.weight)
    torch.nn.init.zeros_(linear.bias)
    optimizer = torch.optim.LBFGS(linear.parameters(), lr=1.0, max_iter=max_iter,
                                  history_size=20, tolerance_grad=1e-6,
                                  tolerance_change=1e-9, line_search_fn='strong_wolfe')
    penalty = 0.5 / (c * x.size(0))

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(linear(x), y) + penalty * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return linear.requires_grad_(False)


def _accuracy(linear: torch.nn.Linear, x: Tensor, y: Tensor) -> float:
    return float((linear(x).argmax(dim=1) == y).float().mean())


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
                 c_grid: Sequence[float] = DEFAULT_C_GRID,
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
    best = None
    for normalization in normalizations:
        x = normalize_embeddings(embeddings.detach().to(device, torch.float32), normalization)
        for c in sorted(c_grid):
            linear = fit_logistic_regression(x[train], y[train], num_classes, c)
            val_acc = _accuracy(linear, x[val], y[val])
            if best is None or val_acc > best[0]:
                best = (val_acc, c, normalization, linear, x)
    val_acc, c, normalization, linear, x = best
    return ProbeResult(test_acc=_accuracy(linear, x[test], y[test]), val_acc=val_acc, c=c,
                       normalization=normalization,
                       test_pred=linear(x[test]).argmax(dim=1).cpu())
