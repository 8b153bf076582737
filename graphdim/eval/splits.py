"""Train / validation / test splits as boolean masks: node splits and the image holdout.

Every probe makes its choices on ``val`` and touches ``test`` once, with the chosen setting.
"""
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor


@dataclass
class Split:
    """Boolean masks over the rows (nodes, images) and how they were made (``'public'`` or
    ``'random 10/10/80 ...'``)."""
    train: Tensor
    val: Tensor
    test: Tensor
    description: str


def check_split(split: Split, num_rows: int) -> None:
    """Each mask a bool tensor ``[num_rows]``, and no row both in the test split and in the
    train or validation split (nor in both of those): :class:`ValueError` otherwise."""
    masks = (('train', split.train), ('val', split.val), ('test', split.test))
    for name, mask in masks:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or \
                tuple(mask.shape) != (num_rows, ):
            got = (f"a {mask.dtype} tensor of shape {list(mask.shape)}"
                   if isinstance(mask, Tensor) else f"a {type(mask).__name__}")
            fix = (" (a 0/1 integer mask would be read as row indices: convert it with "
                   "mask.bool())" if isinstance(mask, Tensor) and mask.dtype != torch.bool
                   else "")
            raise ValueError(f"Split.{name} must be a bool mask with one entry per row "
                             f"([{num_rows}]); got {got}{fix}")
    for (a, mask_a), (b, mask_b) in ((masks[0], masks[2]), (masks[1], masks[2]),
                                     (masks[0], masks[1])):
        both = int((mask_a.cpu() & mask_b.cpu()).sum())
        if both:
            raise ValueError(f"{both} rows are in both the {a} and the {b} split; a probe "
                             f"must not be chosen or scored on rows it trained on: make the "
                             f"masks disjoint")


def public_split(data) -> Split:
    """The dataset's own ``train_mask`` / ``val_mask`` / ``test_mask``."""
    missing = [name for name in ('train_mask', 'val_mask', 'test_mask')
               if getattr(data, name, None) is None]
    if missing:
        raise ValueError(f"public_split needs the graph's train_mask, val_mask and test_mask; "
                         f"data has no {', '.join(missing)} (the dataset has no public split): "
                         f"use random_split(labels, seed)")
    return Split(data.train_mask, data.val_mask, data.test_mask, 'public')


def random_split(labels: Tensor, seed: int, train_fraction: float = 0.1,
                 val_fraction: float = 0.1) -> Split:
    """A seeded random train / val / test split (10% / 10% / 80% as in GRACE and BGRL).

    Stratified per class, with at least one training and one validation node per class so
    that tiny graphs (karate) stay usable. Nodes labelled -1 (PyG's "unlabelled") are in
    no split.
    """
    for name, value in (('train_fraction', train_fraction), ('val_fraction', val_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not 0 < value < 1:
            raise ValueError(f"{name} must be a number between 0 and 1; got {value!r}")
    if train_fraction + val_fraction >= 1:
        raise ValueError(f"train_fraction + val_fraction must be below 1 (the rest is the "
                         f"test split); got {train_fraction} + {val_fraction}")
    generator = torch.Generator().manual_seed(seed)
    labels = labels.cpu()
    masks = [torch.zeros(labels.numel(), dtype=torch.bool) for _ in range(3)]
    for cls in labels[labels >= 0].unique():  # -1: unlabelled (PyG), in no split
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


def hide_test_labels(labels: Tensor, split: Split) -> Tensor:
    """A copy of ``labels`` whose ``split.test`` rows all hold the first labelled training
    row's label: what a choice made on validation (a recipe search, the epoch kept) trains and
    probes on, so it reads no test label (the probe refuses an empty test split, or one
    labelled -1 throughout; its test score is then meaningless and dropped)."""
    hidden = labels.clone()
    test, train = split.test.to(labels.device), split.train.to(labels.device)
    hidden[test] = labels[train & (labels >= 0)][0]
    return hidden
