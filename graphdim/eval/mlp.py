"""DIM's MLP probe: one hidden layer trained with Adam, the epoch chosen on validation."""
import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .result import ProbeResult
from .linear import probe_inputs
from .splits import Split


def mlp_probe(embeddings: Tensor, labels: Tensor, split: Split, hidden: int = 200,
              epochs: int = 30, lr: float = 1e-3, batch_size: int = 128,
              dropout: float = 0.1, seed: int = 0, device=None) -> ProbeResult:
    """DIM's MLP probe (one hidden layer of 200 ReLU units, dropout) trained with Adam on the
    standardised features; the epoch is chosen by validation accuracy and only that epoch's
    classifier sees the test images."""
    for name, value in (('hidden', hidden), ('epochs', epochs), ('batch_size', batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < float('inf'):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
            not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1); got {dropout!r}")
    index, classes, masks = probe_inputs(embeddings, labels, split)
    device = device or embeddings.device
    generator = torch.Generator().manual_seed(seed)
    x, y = embeddings.to(device, torch.float32), index.to(device)
    train, val, test = (m.to(device) for m in masks)
    mean, std = x[train].mean(0), x[train].std(0).clamp_min(1e-6)
    x = (x - mean) / std
    torch.manual_seed(seed)  # the probe's initialisation
    net = nn.Sequential(nn.Linear(x.size(1), hidden), nn.ReLU(), nn.Dropout(dropout),
                        nn.Linear(hidden, classes.numel())).to(device)
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
    return ProbeResult(test_score=accuracy(test), val_score=best[0], classifier='mlp',
                       normalization='standardize', epoch=best[1])
