"""One training loop for every DIM model: Adam, early stopping on the training loss, progress.

The loop knows a model only through ``model.training_loss(batch)`` (a scalar to minimise) and
``model.embed(batch)`` (features to keep). ``data`` is one batch (a PyG ``Data``: full-batch
training) or an iterable of batches (a ``DataLoader``).
"""
import copy
import time
from dataclasses import dataclass, field
from typing import List, Optional

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .runtime import resolve_device


@dataclass
class FitResult:
    """What a training run did: per-epoch losses and seconds, and where it stopped."""
    losses: List[float] = field(default_factory=list)
    epoch_seconds: List[float] = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = float('inf')
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        return len(self.losses)


def _is_single_batch(data) -> bool:
    return hasattr(data, 'edge_index') or isinstance(data, Tensor)


def _batches(data):
    return [data] if _is_single_batch(data) else data


def fit(model: torch.nn.Module, data, *, epochs: int = 1000, lr: float = 1e-3,
        weight_decay: float = 0.0, patience: int = 20, min_epochs: int = 50,
        device=None, progress: bool = True, desc: str = 'train') -> FitResult:
    """Train ``model`` with Adam; stop early on the training loss and restore the best state.

    Early stopping (DGI's rule): stop once the loss has not improved for ``patience`` epochs,
    but never before ``min_epochs`` epochs, because the first losses of DGI can jump (on
    CiteSeer's raw features a patience-only rule stopped 3 of 10 seeds at epoch 23). The
    parameters of the epoch with the lowest loss are restored at the end. ``patience=0``
    disables early stopping. A non-finite loss stops the run with an error.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1; got {epochs}")
    device = resolve_device(device)
    model.to(device)
    batches = _batches(data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    result = FitResult()
    best_state = copy.deepcopy(model.state_dict())
    waited = 0
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False,
               dynamic_ncols=True)
    full_batch = _is_single_batch(data)
    for epoch in bar:
        start = time.perf_counter()
        model.train()
        total, count, pre_step_state = 0.0, 0, None
        for batch in batches:
            batch = batch.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = model.training_loss(batch)
            loss.backward()
            value = float(loss.detach())
            if full_batch and value < result.best_loss:
                # The loss belongs to the parameters before this step (as in DGI's code).
                pre_step_state = copy.deepcopy(model.state_dict())
            optimizer.step()
            total, count = total + value, count + 1
        if count == 0:
            raise ValueError("the data yielded no batches")
        epoch_loss = total / count
        result.epoch_seconds.append(time.perf_counter() - start)
        result.losses.append(epoch_loss)
        if epoch_loss != epoch_loss or abs(epoch_loss) == float('inf'):
            raise FloatingPointError(f"the training loss became {epoch_loss} at epoch {epoch}; "
                                     f"lower the learning rate or check the input features")
        if epoch_loss < result.best_loss:
            result.best_loss, result.best_epoch, waited = epoch_loss, epoch, 0
            best_state = pre_step_state if full_batch else copy.deepcopy(model.state_dict())
        else:
            waited += 1
        bar.set_postfix(loss=f'{epoch_loss:.4f}', best=f'{result.best_loss:.4f}')
        if patience and waited >= patience and epoch >= min_epochs:
            result.stopped_early = True
            break
    bar.close()
    model.load_state_dict(best_state)
    return result


@torch.no_grad()
def embed(model: torch.nn.Module, data, device=None) -> Tensor:
    """Frozen embeddings from ``model.embed``, in eval mode, on the CPU."""
    device = resolve_device(device) if device is not None else next(model.parameters()).device
    model.eval()
    return torch.cat([model.embed(batch.to(device)).cpu() for batch in _batches(data)])
