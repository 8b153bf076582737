"""Checkpoints of a training run: everything :func:`graphdim.fit` needs to continue it.

A checkpoint holds the model and optimizer states, the early-stopping state (best parameters,
epochs waited), the per-epoch losses and the random-number states of Python, NumPy and torch
(CPU and CUDA), of every process in a distributed run. It is written with
:func:`~graphdim.runtime.atomic_save` (temporary file, then rename: a kill never leaves a torn
file) and read with ``torch.load(..., weights_only=True)``: only tensors and plain Python
values, no pickled objects.
"""
import random
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

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


def restore_rng_states(states: List[Dict[str, Any]], rank: int = 0,
                       world_size: int = 1) -> None:
    """Set this process's RNGs to the state it had when the checkpoint was written."""
    if len(states) != world_size:
        raise ValueError(f"the checkpoint was written by {len(states)} process(es) but this "
                         f"run has {world_size}; resume with the same number of processes")
    state = states[rank]
    random.setstate(state['python'])
    kind, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


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
