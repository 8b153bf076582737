"""Image-level evaluation: frozen features of an image encoder, the raw-pixel baseline, and
the linear and MLP probes on every feature set.

Features come from an encoder's ``conv`` (last convolution, flattened), ``fc`` (hidden fully
connected layer) and ``y`` (the representation) outputs; the baselines are the same probes on
raw pixels and on the same encoder at random initialisation. Every choice (the linear probe's
penalty and normalisation, the MLP probe's epoch) is made on a validation split taken from the
training images (:func:`graphdim.eval.splits.holdout_split`); the test images are touched
once, by the chosen probe.
"""
from typing import Dict, Sequence

import torch
from torch import Tensor, nn

from ..data.images import to_float
from ..progress import steps
from .linear import C_GRIDS, linear_probe
from .mlp import mlp_probe
from .splits import Split

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


def probe_features(features: Dict[str, Tensor], labels: Tensor, split: Split,
                   probes: Sequence[str] = ('linear', ),
                   c_grid: Sequence[float] = C_GRIDS['node'],
                   mlp_epochs: int = 30, seed: int = 0, device=None) -> Dict[str, dict]:
    """``{'<probe>/<feature>': {'test_acc', 'val_acc', ...}}`` in percent, for every probe
    (``'linear'``, ``'mlp'``) on every feature set."""
    results = {}
    for probe, kind in steps([(p, k) for p in probes for k in features], 'image probes',
                             unit='probe'):
        x = features[kind]
        if probe == 'linear':
            r = linear_probe(x, labels, split, c_grid, device=device)
            extra = {'c': r.c, 'normalization': r.normalization}
        elif probe == 'mlp':
            r = mlp_probe(x, labels, split, epochs=mlp_epochs, seed=seed, device=device)
            extra = {'epoch': r.epoch}
        else:
            raise ValueError(f"unknown probe {probe!r}; choose linear or mlp")
        results[f'{probe}/{kind}'] = {'test_acc': 100 * r.test_score,
                                      'val_acc': 100 * r.val_score, **extra}
    return results
