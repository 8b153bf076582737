"""Probes of frozen image features: the linear probe and DIM's 200-unit MLP probe.

Features come from an encoder's ``conv`` (last convolution, flattened), ``fc`` (hidden fully
connected layer) and ``y`` (the representation) outputs; the baselines are the same probes on
raw pixels and on the same encoder at random initialisation. Every choice (the linear probe's
penalty and normalisation, the MLP probe's epoch) is made on a validation split taken from the
training images; the test images are touched once, by the chosen probe.
"""
import copy
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.images import to_float
from ..evaluate import Split, linear_probe

FEATURES = ('conv', 'fc', 'y')


@torch.no_grad()
def image_features(encoder: nn.Module, images: Tensor, kinds: Sequence[str] = FEATURES,
                   batch_size: int = 500, device=None) -> Dict[str, Tensor]:
    """Frozen features of ``uint8`` images, in eval mode, on the CPU.

    Uses ``encoder.features(x)`` (a dict with ``conv`` / ``fc`` / ``y``) where it exists;
    for any other encoder ``(local_map, y) = encoder(x)`` gives ``local`` (flattened) and
    ``y``.
    """
    device = device or next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    chunks = {kind: [] for kind in kinds}
    for start in range(0, images.size(0), batch_size):
        x = to_float(images[start:start + batch_size]).to(device)
        if hasattr(encoder, 'features'):
            out = encoder.features(x)
        else:
            local_map, y = encoder(x)
            out = {'local': local_map, 'y': y}
        missing = [kind for kind in kinds if kind not in out]
        if missing:
            raise ValueError(f"the encoder gives no {', '.join(missing)} features; it gives "
                             f"{', '.join(out)}")
        for kind in kinds:
            chunks[kind].append(out[kind].flatten(1).float().cpu())
    encoder.train(was_training)
    return {kind: torch.cat(parts) for kind, parts in chunks.items()}


def raw_pixels(images: Tensor) -> Tensor:
    """Flattened pixels in ``[-1, 1]``: the raw-pixel baseline's features."""
    return to_float(images).flatten(1)


def holdout_split(num_train: int, num_test: int, val_size: int, seed: int,
                  probe_train_size: Optional[int] = None) -> Split:
    """Masks over the training images followed by the test images: a seeded validation set
    of ``val_size`` training images, a probe training set (the other training images, or a
    seeded subset of ``probe_train_size`` of them) and every test image."""
    if not 0 < val_size < num_train:
        raise ValueError(f"val_size must be between 1 and the {num_train - 1} training images "
                         f"that leave one for training; got {val_size}")
    order = torch.randperm(num_train, generator=torch.Generator().manual_seed(seed))
    rest = order[val_size:]
    if probe_train_size is not None:
        if probe_train_size < 1:
            raise ValueError(f"probe_train_size must be >= 1; got {probe_train_size}")
        rest = rest[:probe_train_size]
    masks = [torch.zeros(num_train + num_test, dtype=torch.bool) for _ in range(3)]
    masks[0][rest] = True
    masks[1][order[:val_size]] = True
    masks[2][num_train:] = True
    return Split(*masks, f"{int(masks[0].sum())} probe-training / {val_size} validation "
                         f"images from the training set (seed {seed}), {num_test} test images")


@dataclass
class MLPProbeResult:
    test_acc: float
    val_acc: float
    epoch: int


def mlp_probe(embeddings: Tensor, labels: Tensor, split: Split, hidden: int = 200,
              epochs: int = 30, lr: float = 1e-3, batch_size: int = 128,
              dropout: float = 0.1, seed: int = 0, device=None) -> MLPProbeResult:
    """DIM's MLP probe (one hidden layer of 200 ReLU units, dropout) trained with Adam on the
    standardised features; the epoch is chosen by validation accuracy and only that epoch's
    classifier sees the test images."""
    if embeddings.dim() != 2 or labels.shape != (embeddings.size(0),):
        raise ValueError(f"embeddings must be [N, D] and labels [N]; got "
                         f"{list(embeddings.shape)} and {list(labels.shape)}")
    device = device or embeddings.device
    generator = torch.Generator().manual_seed(seed)
    x, y = embeddings.to(device, torch.float32), labels.to(device)
    train, val, test = (m.to(device) for m in (split.train, split.val, split.test))
    mean, std = x[train].mean(0), x[train].std(0).clamp_min(1e-6)
    x = (x - mean) / std
    torch.manual_seed(seed)  # the probe's initialisation
    net = nn.Sequential(nn.Linear(x.size(1), hidden), nn.ReLU(), nn.Dropout(dropout),
                        nn.Linear(hidden, int(labels.max()) + 1)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    x_train, y_train = x[train], y[train]

    def accuracy(mask):
        net.eval()
        with torch.no_grad():
            return float((net(x[mask]).argmax(1) == y[mask]).float().mean())

    best = (-1.0, 0, None)
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.randperm(x_train.size(0), generator=generator).to(device)
        for start in range(0, order.numel(), batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(net(x_train[rows]), y_train[rows]).backward()
            optimizer.step()
        val_acc = accuracy(val)
        if val_acc > best[0]:
            best = (val_acc, epoch, copy.deepcopy(net.state_dict()))
    net.load_state_dict(best[2])
    return MLPProbeResult(test_acc=accuracy(test), val_acc=best[0], epoch=best[1])


def probe_features(features: Dict[str, Tensor], labels: Tensor, split: Split,
                   probes: Sequence[str] = ('linear', ), c_grid: Optional[Sequence[float]] = None,
                   mlp_epochs: int = 30, seed: int = 0, device=None) -> Dict[str, dict]:
    """``{'<probe>/<feature>': {'test_acc', 'val_acc', ...}}`` in percent, for every probe
    (``'linear'``, ``'mlp'``) on every feature set."""
    results = {}
    for probe in probes:
        for kind, x in features.items():
            if probe == 'linear':
                kwargs = {} if c_grid is None else {'c_grid': c_grid}
                r = linear_probe(x, labels, split, device=device, **kwargs)
                extra = {'c': r.c, 'normalization': r.normalization}
            elif probe == 'mlp':
                r = mlp_probe(x, labels, split, epochs=mlp_epochs, seed=seed, device=device)
                extra = {'epoch': r.epoch}
            else:
                raise ValueError(f"unknown probe {probe!r}; choose linear or mlp")
            results[f'{probe}/{kind}'] = {'test_acc': 100 * r.test_acc,
                                          'val_acc': 100 * r.val_acc, **extra}
    return results
