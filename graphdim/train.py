"""One training loop for every DIM model: Adam, early stopping on the training loss, progress.

The loop knows a model only through ``model.training_loss(batch)`` (a scalar to minimise) and
``model.embed(batch)`` (features to keep). ``data`` is one batch (a PyG ``Data``: full-batch
training) or an iterable of batches (a ``DataLoader``).

Checkpoints (:mod:`graphdim.checkpoints`) and ``DistributedDataParallel`` are options of the
same loop: ``checkpoint=PATH, checkpoint_every=K`` saves the whole run state every ``K`` epochs,
``resume=True`` continues from it; ``distributed=True`` trains under an initialised
``torch.distributed`` process group, averaging gradients (and the epoch loss) over processes.
A checkpoint holds the model, optimizer, early-stopping state, losses and RNG states, and the
run's options (``checkpoint_config``; without it fit's own ``epochs``, ``lr``,
``weight_decay``, ``patience`` and ``min_epochs``): resuming refuses one written with other
options, naming them. Loaders with ``set_epoch`` (:mod:`graphdim.loaders`) are told the epoch,
which fixes their order.
"""
import copy
import itertools
import math
import numbers
import time
from dataclasses import dataclass, field, fields
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from .graph.checks import check_encoder_inputs, check_graph, check_in_channels
from .progress import steps, training_bar
from .runtime import resolve_device
from .checkpoints import (check_checkpoint_options, check_checkpoint_state, load_checkpoint,
                          restore_rng_states, rng_states, save_checkpoint)


@dataclass
class FitResult:
    """What a training run did: per-epoch losses and seconds, where it stopped, the epoch
    whose parameters were kept (``best_epoch``: the lowest loss's, or with :func:`fit`'s
    ``select`` the best score's) and its loss, and ``select``'s scores (epoch -> score)."""
    losses: List[float] = field(default_factory=list)
    epoch_seconds: List[float] = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = float('inf')
    stopped_early: bool = False
    selection_scores: Dict[int, float] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.losses)


def _is_single_batch(data) -> bool:
    return hasattr(data, 'edge_index') or isinstance(data, Tensor)


def _graphs_to_check(data) -> list:
    """The PyG graphs behind ``data``: itself, the graph a graphdim loader batches, or the
    graphs of a PyG ``DataLoader``'s dataset."""
    if isinstance(data, Data):
        return [data]
    if isinstance(getattr(data, 'data', None), Data):
        return [data.data]
    dataset = getattr(data, 'dataset', None)
    if isinstance(dataset, (list, tuple)) or hasattr(dataset, 'get'):  # a PyG dataset
        return [graph for graph in dataset if isinstance(graph, Data)]
    return []


def check_inputs(model: torch.nn.Module, data, method: str = 'training_loss') -> None:
    """Reject a malformed model or graph before any step (the arguments' kinds, the model's
    dtype and device, :func:`~graphdim.check_graph`, the feature width and edge weights
    against the encoder), so bad input fails with a message naming it, not a crash; ``model``
    must have ``method`` (``training_loss`` to train, ``embed`` to embed)."""
    _check_arguments(model, data, method)
    for graph in _graphs_to_check(data):
        check_graph(graph)
        check_in_channels(model, graph)
        check_encoder_inputs(model, graph)


def _check_arguments(model, data, method: str) -> None:
    """``model`` a module with ``method`` (``training_loss`` or ``embed``) whose parameters
    are float32 values (not float64, half or meta); ``data`` one batch or an iterable of
    batches, a PyG graph where the model is one of graphdim's graph models."""
    if not isinstance(model, torch.nn.Module) or not callable(getattr(model, method, None)):
        raise ValueError(f"model must be a torch.nn.Module with {method}(batch) (a graphdim "
                         f"model); got a {type(model).__name__}")
    graph_model = type(model).__module__.startswith('graphdim.graph')
    if data is None or isinstance(data, (str, bytes)) or (graph_model and isinstance(
            data, Tensor)) or not (_is_single_batch(data) or hasattr(data, '__iter__')):
        what = f"a tensor of shape {list(data.shape)}" if isinstance(data, Tensor) \
            else 'None' if data is None else f"a {type(data).__name__}"
        raise ValueError(f"data must be a PyG Data (x, edge_index) or an iterable of batches "
                         f"(a DataLoader) for {type(model).__name__}; got {what}" + (
                             " (wrap features in a graph: Data(x=x, edge_index=edge_index))"
                             if isinstance(data, Tensor) else ""))
    if any(t.is_meta for t in itertools.chain(model.parameters(), model.buffers())):
        raise ValueError("model's parameters are on the meta device (shapes without values): "
                         "materialise them first, e.g. model.to_empty(device='cpu') and then "
                         "load a state dict or call reset_parameters()")
    other = next((p.dtype for p in model.parameters()
                  if p.is_floating_point() and p.dtype != torch.float32), None)
    if other is not None:
        raise ValueError(f"model's parameters are {other}, but graphdim trains and embeds in "
                         f"float32, the dtype of the features: convert it with model.float()")


def _length(batches) -> Optional[int]:
    """How many batches an epoch has, where the loader says (for its progress bar)."""
    try:
        return len(batches)
    except TypeError:
        return None


def _batches(data):
    return [data] if _is_single_batch(data) else data


class _TrainingLoss(torch.nn.Module):
    """``forward(batch) = model.training_loss(batch)``, so DDP sees the loss as a forward call."""
    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch):
        return self.model.training_loss(batch)


def _distributed_loss(model: torch.nn.Module, device: torch.device):
    """The DDP-wrapped loss of ``model`` (gloo on CPU, nccl on GPU: the process group's)."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    if not dist.is_available() or not dist.is_initialized():
        raise ValueError("distributed=True needs an initialised torch.distributed process "
                         "group; launch with torchrun and pass --distributed")
    ddp = DistributedDataParallel(_TrainingLoss(model),
                                  device_ids=[device.index] if device.type == 'cuda' else None)
    return ddp, dist.get_rank(), dist.get_world_size()


def _all_reduce_sum(values: List[float], device: torch.device) -> List[float]:
    import torch.distributed as dist
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def _train_epoch(model, batches, loss_of, optimizer, device, world_size: int,
                 snapshot_below: Optional[float]) -> Tuple[float, Optional[dict]]:
    """One pass over ``batches``: the epoch's loss (averaged over processes) and, when
    ``snapshot_below`` is given (one full batch) and the loss is below it, the parameters
    before this epoch's step."""
    total, count, reduced, pre_step_state = 0.0, 0, False, None
    for batch in batches:
        batch = batch.to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(batch)
        loss.backward()
        total, count = total + float(loss.detach()), count + 1
        if snapshot_below is not None:
            # The full-batch loss belongs to the parameters before this step (as in DGI's
            # code), so they are copied now if it is a new best. Every process decides on
            # the same averaged loss, so every process keeps a state.
            if world_size > 1:
                (total, count), reduced = _all_reduce_sum([total, count], device), True
            if total / count < snapshot_below:
                pre_step_state = copy.deepcopy(model.state_dict())
        optimizer.step()
    if count == 0:
        raise ValueError("the data yielded no batches")
    if world_size > 1 and not reduced:
        total, count = _all_reduce_sum([total, count], device)
    return total / count, pre_step_state


def check_fit_options(epochs: int, lr: float, weight_decay: float, patience: int,
                      min_epochs: int, select=None, select_every: int = 0) -> None:
    """:func:`fit`'s numbers: whole counts where counts are meant, finite rates (NaN passes
    every ``<`` comparison, so each bound is written to fail on it); ``select`` a callable
    scored every ``select_every >= 1`` epochs, or None and ``select_every`` 0."""
    _check_selection(select, select_every)
    for name, value, low in (('epochs', epochs, 1), ('patience', patience, 0),
                             ('min_epochs', min_epochs, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or not value >= low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    for name, value, positive in (('lr', lr, True), ('weight_decay', weight_decay, False)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or not (value > 0 if positive else value >= 0):
            raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}; "
                             f"got {value!r}")


def _check_finite(epoch_loss: float, epoch: int) -> None:
    if epoch_loss != epoch_loss or abs(epoch_loss) == float('inf'):
        raise FloatingPointError(f"the training loss became {epoch_loss} at epoch {epoch}; "
                                 f"lower the learning rate or check the input features")


def _check_selection(select, select_every) -> None:
    if select is not None and not callable(select):
        raise ValueError(f"select must be a function of the model returning a score (higher "
                         f"is better); got a {type(select).__name__}")
    whole = isinstance(select_every, int) and not isinstance(select_every, bool)
    if not whole or (select_every < 1 if select is not None else select_every != 0):
        raise ValueError(f"select_every must be an integer >= 1 with select (score every K "
                         f"epochs and at the last) and 0 without it; got {select_every!r} "
                         f"{'with' if select is not None else 'without'} select")


def _selection_score(select, model, device: torch.device, epoch: int) -> float:
    """``select(model)`` in eval mode without gradients, then train mode again; the torch
    RNG is forked around it, so scoring leaves the training run as it would have been."""
    model.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng([device] if device.type == 'cuda' else []):
            score = select(model)
    finally:
        model.train()
    if not isinstance(score, numbers.Real) or isinstance(score, bool) or not math.isfinite(score):
        raise ValueError(f"select(model) must return a finite number (higher is better); it "
                         f"returned {score!r} at epoch {epoch}")
    return float(score)


class _EpochChoice:
    """Which epoch's parameters :func:`fit` restores (``state``): without ``select`` the
    lowest loss's (DGI's rule; full-batch, those before the step, whose loss it is), with it
    those after the step of the best-scored epoch (ties: the earlier; ``result.best_loss``
    its loss). ``waited`` counts epochs without a lower loss either way: early stopping
    stays on the loss (scores every ``every`` epochs could not count patience in epochs).
    A resumed run reads the lowest loss and the best score back from its ``result``."""

    def __init__(self, result: FitResult, state: dict, waited: int, select, every: int,
                 device: torch.device):
        self.result, self.state, self.waited = result, state, waited
        self.select, self.every, self.device = select, every, device
        self.lowest_loss = min(result.losses, default=math.inf)
        self.best_score = result.selection_scores.get(result.best_epoch, -math.inf)

    def snapshot_below(self, full_batch: bool) -> Optional[float]:
        # The loss below which an epoch keeps its pre-step parameters (the loss chooses).
        return self.lowest_loss if full_batch and self.select is None else None

    def track_loss(self, model, epoch: int, epoch_loss: float,
                   pre_step_state: Optional[dict]) -> None:
        if not epoch_loss < self.lowest_loss:
            self.waited += 1
            return
        self.lowest_loss, self.waited = epoch_loss, 0
        if self.select is None:
            self.result.best_loss, self.result.best_epoch = epoch_loss, epoch
            self.state = pre_step_state if pre_step_state is not None \
                else copy.deepcopy(model.state_dict())

    def score(self, model, epoch: int, last: bool) -> None:
        """With ``select``: score every ``every``-th and the ``last`` epoch; keep the best."""
        if self.select is None or not (last or epoch % self.every == 0):
            return
        score = self.result.selection_scores[epoch] = _selection_score(
            self.select, model, self.device, epoch)
        if score > self.best_score:
            self.best_score, self.state = score, copy.deepcopy(model.state_dict())
            self.result.best_epoch, self.result.best_loss = epoch, self.result.losses[-1]


def _start_state(model, optimizer, saved: Optional[dict], rank: int, world_size: int,
                 checkpoint, select, select_every: int, device):
    """``(choice, its result, done)`` of a new run, or of the ``saved`` checkpoint's run (the
    model, optimizer and RNG states are restored from it too, once the checkpoint at
    ``checkpoint`` is checked against this model: a ValueError naming it otherwise)."""
    if saved is None:
        choice = _EpochChoice(FitResult(), copy.deepcopy(model.state_dict()), 0, select,
                              select_every, device)
        return choice, choice.result, False
    if isinstance(saved.get('result'), dict):  # written before fit kept select's scores
        saved['result'].setdefault('selection_scores', {})
    check_checkpoint_state(saved, checkpoint, model, optimizer,
                           [f.name for f in fields(FitResult)])
    model.load_state_dict(saved['model'])
    optimizer.load_state_dict(saved['optimizer'])
    restore_rng_states(saved['rng'], rank, world_size, checkpoint)
    choice = _EpochChoice(FitResult(**saved['result']), saved['best_state'], saved['waited'],
                          select, select_every, device)
    return choice, choice.result, saved['done']


def _run_epoch(model, batches, full_batch: bool, bar, desc: str, epoch: int, loss_of,
               optimizer, device, world_size: int, choice: _EpochChoice):
    """One epoch of training, timed and recorded in ``choice.result``: (loss, the parameters
    before the step where the loss chooses the epoch and is a new lowest, else None)."""
    result = choice.result
    start = time.perf_counter()
    model.train()
    if hasattr(batches, 'set_epoch'):
        batches.set_epoch(epoch)
    # Mini-batches: a bar over the epoch's batches too, shown when an epoch is long.
    epoch_batches = batches if full_batch or bar.disable else steps(
        batches, f'{desc} epoch {epoch}', unit='batch', total=_length(batches))
    epoch_loss, pre_step_state = _train_epoch(model, epoch_batches, loss_of, optimizer, device,
                                              world_size, choice.snapshot_below(full_batch))
    result.epoch_seconds.append(time.perf_counter() - start)
    result.losses.append(epoch_loss)
    _check_finite(epoch_loss, epoch)
    return epoch_loss, pre_step_state


def _show_loss(bar, choice: _EpochChoice, epoch_loss: float, patience: int,
               stops_early: bool) -> None:
    bar.set_postfix(loss=f'{epoch_loss:.4f}', best=f'{choice.lowest_loss:.4f}',
                    **({'no_gain': f'{choice.waited}/{patience}'} if stops_early else {}),
                    refresh=False)  # drawn with the epoch's count, as the epoch ends


def _save_run_state(checkpoint, model, optimizer, choice: _EpochChoice, done: bool,
                    config: dict, rank: int, world_size: int) -> None:
    """The run state; ``choice.result`` holds select's scores, so a resumed run compares
    new scores with the best so far and chooses the epoch an unbroken run would."""
    rng = rng_states(world_size)  # every rank takes part in gathering the states
    if rank == 0:
        save_checkpoint(checkpoint, model=model.state_dict(), optimizer=optimizer.state_dict(),
                        best_state=choice.state, waited=choice.waited, done=done,
                        result=choice.result, rng=rng, config=config)


def fit(model: torch.nn.Module, data, *, epochs: int = 1000, lr: float = 1e-3,
        weight_decay: float = 0.0, patience: int = 20, min_epochs: int = 50,
        device=None, progress: bool = True, desc: str = 'train',
        checkpoint=None, checkpoint_every: int = 0, resume: bool = False,
        distributed: bool = False, checkpoint_config: Optional[dict] = None,
        on_epoch: Optional[Callable[[int, torch.nn.Module], None]] = None,
        select: Optional[Callable[[torch.nn.Module], float]] = None,
        select_every: int = 0) -> FitResult:
    """Train ``model`` with Adam; stop early on the training loss and restore the best state.

    Early stopping (DGI's rule): stop once the loss has not improved for ``patience`` epochs,
    but never before ``min_epochs`` epochs (the first losses of DGI can jump: on CiteSeer's
    raw features a patience-only rule stopped 3 of 10 seeds at epoch 23); ``patience=0``
    disables it. The lowest loss's parameters are restored at the end (with ``select``: the
    best ``select(model)``'s, e.g. a validation accuracy, scored every ``select_every``
    epochs and at the last); a non-finite loss is an error. ``checkpoint=PATH,
    checkpoint_every=K`` saves the run state atomically after every ``K``-th and the last
    epoch and ``resume=True`` continues from it (refused when ``checkpoint_config``, or
    without it fit's own settings, differ: see the module docstring); ``distributed=True``
    trains under DDP (rank 0 shows progress and writes); ``on_epoch(epoch, model)`` runs
    after every epoch (e.g. to keep embeddings).
    """
    check_fit_options(epochs=epochs, lr=lr, weight_decay=weight_decay, patience=patience,
                      min_epochs=min_epochs, select=select, select_every=select_every)
    check_checkpoint_options(checkpoint, checkpoint_every, resume)
    check_inputs(model, data)
    device = resolve_device(device)
    model.to(device)
    batches, full_batch = _batches(data), _is_single_batch(data)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_of, rank, world_size = (_distributed_loss(model, device) if distributed
                                 else (model.training_loss, 0, 1))
    if checkpoint_config is None:  # compare at least fit's own settings on resume
        checkpoint_config = dict(epochs=epochs, lr=lr, weight_decay=weight_decay, patience=patience,
                                 min_epochs=min_epochs, select_every=select_every)
    saved = load_checkpoint(checkpoint, checkpoint_config) if resume else None
    choice, result, done = _start_state(model, optimizer, saved, rank, world_size, checkpoint,
                                        select, select_every, device)
    # Early stopping makes the epoch count unknown: the bar shows no ETA then.
    stops_early = bool(patience) and epochs > max(min_epochs, patience)
    bar = training_bar(result.epochs + 1, epochs, done, desc, patience, stops_early,
                       show=progress and rank == 0)
    for epoch in bar:
        epoch_loss, pre_step_state = _run_epoch(model, batches, full_batch, bar, desc, epoch,
                                                loss_of, optimizer, device, world_size, choice)
        choice.track_loss(model, epoch, epoch_loss, pre_step_state)
        _show_loss(bar, choice, epoch_loss, patience, stops_early)
        result.stopped_early = bool(patience and choice.waited >= patience and epoch >= min_epochs)
        done = result.stopped_early or epoch == epochs
        choice.score(model, epoch, last=done)
        if checkpoint_every and (epoch % checkpoint_every == 0 or done):
            _save_run_state(checkpoint, model, optimizer, choice, done, checkpoint_config,
                            rank, world_size)
        if on_epoch is not None:
            on_epoch(epoch, model)
        if result.stopped_early:
            break
    bar.close()
    model.load_state_dict(choice.state)
    return result


@torch.no_grad()
def embed(model: torch.nn.Module, data, device=None) -> Tensor:
    """Frozen embeddings from ``model.embed``, in eval mode, on the CPU."""
    check_inputs(model, data, 'embed')
    if device is not None:
        device = resolve_device(device)
    else:  # the model's device; a model without parameters or buffers computes on the CPU
        first = next(itertools.chain(model.parameters(), model.buffers()), None)
        device = first.device if first is not None else torch.device('cpu')
    model.eval()
    return torch.cat([model.embed(batch.to(device)).cpu() for batch in _batches(data)])
