"""Checkpoints of a training run: everything :func:`graphdim.fit` needs to continue it.

A checkpoint holds the model and optimizer states, the early-stopping state (best parameters,
epochs waited), the per-epoch losses, :func:`graphdim.fit`'s ``select`` scores and the
random-number states of Python, NumPy and torch (CPU and CUDA), of every process in a
distributed run. It is written with :func:`~graphdim.runtime.atomic_save` (temporary file,
then rename: a kill never leaves a torn file) and read with ``torch.load(...,
weights_only=True)``: only tensors and plain Python values, no pickled objects.
"""
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from .graph.checks import shown
from .runtime import atomic_save

CHECKPOINT_VERSION = 1
# Config fields that may change between a run and its resumption.
RESUME_MAY_CHANGE = ('resume', 'device', 'checkpoint_every', 'root', 'download')


def config_changes(saved: Dict[str, Any], current: Dict[str, Any]) -> List[str]:
    """``'name (was A, now B)'`` for every field a resumed run may not change."""
    same = lambda a, b: (tuple(a) if isinstance(a, list) else a) == \
        (tuple(b) if isinstance(b, list) else b)  # noqa: E731  (JSON stores tuples as lists)
    return [f'{k} (was {saved[k]!r}, now {current[k]!r})' for k in sorted(current)
            if k not in RESUME_MAY_CHANGE and k in saved and not same(saved[k], current[k])]


def check_checkpoint_options(path, every: int, resume: bool) -> None:
    if not isinstance(every, int) or every < 0:
        raise ValueError(f"checkpoint_every must be an integer >= 0 (0: no checkpoints); "
                         f"got {every!r}")
    if (every or resume) and path is None:
        raise ValueError("checkpoint_every and resume need a checkpoint path (on the command "
                         "line: --out DIR, where checkpoints are written)")


def _local_rng_state() -> Dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {'python': random.getstate(), 'torch': torch.get_rng_state(),
             'numpy': (kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
                       int(has_gauss), float(cached))}
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def rng_states(world_size: int = 1) -> List[Dict[str, Any]]:
    """The RNG states of every process (gathered to all ranks when ``world_size > 1``)."""
    state = _local_rng_state()
    if world_size == 1:
        return [state]
    import torch.distributed as dist
    states: List[Optional[Dict[str, Any]]] = [None] * world_size
    dist.all_gather_object(states, state)
    return states


def restore_rng_states(states: List[Dict[str, Any]], rank: int = 0, world_size: int = 1,
                       path=None) -> None:
    """Set this process's RNGs to the state it had when the checkpoint (at ``path``, named in
    the error) was written; a state that is not what :func:`rng_states` saves is a
    ``ValueError`` naming the file."""
    where = f"the checkpoint {path}" if path is not None else "the checkpoint"
    if not isinstance(states, list) or len(states) != world_size:
        count = len(states) if isinstance(states, list) else 'no list of'
        raise ValueError(f"{where} was written by {count} process(es) but this run has "
                         f"{world_size}; resume with the same number of processes")
    try:
        state = states[rank]
        random.setstate(state['python'])
        kind, keys, pos, has_gauss, cached = state['numpy']
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
    except Exception as error:  # Python, NumPy and torch each raise their own types
        raise ValueError(f"{where} holds random-number states graphdim did not write "
                         f"({type(error).__name__}); delete it, or start without "
                         f"--resume") from None


def save_checkpoint(path, *, model, optimizer, best_state, waited: int, done: bool, result,
                    rng, config: Optional[Dict[str, Any]] = None) -> None:
    """Write the run state atomically; ``config`` (plain values) is the run's options, which
    :func:`load_checkpoint` compares on resume."""
    atomic_save({'version': CHECKPOINT_VERSION, 'model': model, 'optimizer': optimizer,
                 'best_state': best_state, 'waited': waited, 'done': done,
                 'result': asdict(result), 'rng': rng, 'config': config}, path)


def load_checkpoint(path, config: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """The checkpoint at ``path`` (on the CPU), or None when there is none yet. With
    ``config``, a checkpoint written by a run of other options is refused, naming them."""
    path = Path(path)
    if not path.exists():
        return None
    fix = "delete it, or start without --resume"
    try:
        saved = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # truncated, empty or foreign: torch and pickle differ
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path} is not a readable graphdim checkpoint ({reason[:200]}); "
                         f"{fix}") from None
    if not isinstance(saved, dict) or saved.get('version') != CHECKPOINT_VERSION:
        raise ValueError(f"{path} is not a graphdim checkpoint (version "
                         f"{CHECKPOINT_VERSION}); {fix}")
    changes = config_changes(saved.get('config') or {}, config or {})
    if changes:
        raise ValueError(f"--resume: the checkpoint {path} was written by a run with other "
                         f"settings: {', '.join(changes)}; use that run's settings, or a new "
                         f"--out DIR")
    return saved


def _state_difference(saved_state: Any, expected: Dict[str, torch.Tensor]) -> Optional[str]:
    """How ``saved_state`` (a state dict read from a file) differs from ``expected`` (the
    model's own): entries, shapes or kinds of number; None where it fits."""
    if not isinstance(saved_state, dict):
        return f"is a {type(saved_state).__name__}, not a state dict"
    unexpected = [key for key in saved_state if key not in expected]
    missing = [key for key in expected if key not in saved_state]
    if unexpected or missing:
        which, keys = ('has entries this model lacks', unexpected) if unexpected \
            else ('lacks entries this model has', missing)
        return f"{which} ({', '.join(shown(key) for key in keys[:3])}" \
               f"{', ...' if len(keys) > 3 else ''})"
    for key, own in expected.items():
        value = saved_state[key]
        if not isinstance(value, torch.Tensor):
            return f"holds a {type(value).__name__} as {shown(key)}, not a tensor"
        if value.shape != own.shape or value.is_floating_point() != own.is_floating_point() \
                or value.is_complex() != own.is_complex():
            return (f"holds {shown(key)} as {value.dtype} {list(value.shape)} where this "
                    f"model has {own.dtype} {list(own.shape)}")
    return None


def _optimizer_difference(saved: Any, optimizer: torch.optim.Optimizer) -> Optional[str]:
    """How a saved optimizer state differs from ``optimizer``'s (groups, parameters, the
    shapes of their moments); None where it fits."""
    own = optimizer.state_dict()
    if not isinstance(saved, dict) or not isinstance(saved.get('state'), dict) or \
            not isinstance(saved.get('param_groups'), list) or not all(
                isinstance(group, dict) and isinstance(group.get('params'), list)
                for group in saved['param_groups']):
        return "holds no optimizer state of the kind torch.optim writes"
    counts = [len(group['params']) for group in saved['param_groups']]
    if counts != [len(group['params']) for group in own['param_groups']]:
        return f"covers {sum(counts)} parameter tensors where this model has " \
               f"{sum(len(group['params']) for group in own['param_groups'])}"
    for group, own_group in zip(saved['param_groups'], own['param_groups']):
        changed = next((key for key, value in group.items() if key != 'params'
                        and key in own_group and (type(value) is not type(own_group[key])
                                                  or value != own_group[key])), None)
        if changed is not None:  # torch would take the file's lr, weight decay, betas
            return (f"has {shown(changed)} {shown(group[changed])} where this run has "
                    f"{shown(own_group[changed])}")
    params = [p for group in optimizer.param_groups for p in group['params']]
    ids = [i for group in saved['param_groups'] for i in group['params']]
    for index, moments in saved['state'].items():
        if index not in ids or not isinstance(moments, dict):
            return f"has optimizer state for an unknown parameter {shown(index)}"
        param = params[ids.index(index)]
        for name, value in moments.items():
            if isinstance(value, torch.Tensor) and value.dim() and value.shape != param.shape:
                return (f"holds {shown(name)} of shape {list(value.shape)} for a "
                        f"parameter of shape {list(param.shape)}")
    return None


def _result_difference(saved: Dict[str, Any], result_fields: Sequence[str]) -> Optional[str]:
    """What is wrong with a checkpoint's early-stopping record; None where it is whole."""
    result = saved.get('result')
    if not isinstance(result, dict) or set(result) != set(result_fields):
        keys = sorted(map(shown, result)) if isinstance(result, dict) else []
        return f"has the fields {', '.join(keys[:8]) or 'none'}, not " \
               f"{', '.join(result_fields)}"
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
    counts = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0  # noqa: E731
    if not all(isinstance(result[k], list) and all(map(number, result[k]))
               for k in ('losses', 'epoch_seconds')) or not number(result['best_loss']) \
            or not counts(result['best_epoch']) or not isinstance(result['stopped_early'], bool) \
            or not counts(saved.get('waited')) or not isinstance(saved.get('done'), bool) \
            or not isinstance(result['selection_scores'], dict) or not all(
                counts(k) and number(v) for k, v in result['selection_scores'].items()):
        return "(losses, best epoch, epochs waited, selection scores) holds values of " \
               "other types than graphdim writes"
    return None


def check_checkpoint_state(saved: Dict[str, Any], path, model: torch.nn.Module,
                           optimizer: torch.optim.Optimizer,
                           result_fields: Sequence[str]) -> None:
    """Before anything is loaded: the checkpoint at ``path`` must hold states of this
    ``model`` (entries and shapes: a changed input, say a feature file with other columns,
    changes them) and ``optimizer``, and a whole training record (``result_fields``); a
    ``ValueError`` naming the file and the first difference otherwise."""
    own = model.state_dict()
    for what, difference in (
            ('model state', lambda: _state_difference(saved.get('model'), own)),
            ('best model state', lambda: _state_difference(saved.get('best_state'), own)),
            ('optimizer state', lambda: _optimizer_difference(saved.get('optimizer'),
                                                              optimizer)),
            ('training record', lambda: _result_difference(saved, result_fields))):
        found = difference()
        if found:
            raise ValueError(f"--resume: the checkpoint {path} does not fit this run: its "
                             f"{what} {found} (were the inputs or the model changed since "
                             f"it was written?); resume with the same inputs and options, "
                             f"or start a new --out DIR (or delete the checkpoint)")
