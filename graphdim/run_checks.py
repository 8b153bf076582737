"""What the files of a run folder must hold: the checks :class:`~graphdim.runs.RunFolder`
applies as it reads them. A run folder is read as untrusted input (it may have been
truncated, edited or mixed with another run's files): whatever is wrong with a file is one
``ValueError`` naming it and the fix, never a traceback from deeper down.
"""
import fnmatch
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Sequence

import torch

# The kinds of run a folder may hold (``kind`` in its config.json).
KINDS = ('node', 'graph', 'image')

_FIX = "it was changed or truncated after the run: train the run again (--overwrite)"


def checked_run_config(saved: Any, path: Path) -> Dict[str, Any]:
    """``saved`` (the JSON of a run's ``config.json`` at ``path``) with ``kind`` set, or a
    ``ValueError`` naming ``path`` and what is wrong."""
    if not isinstance(saved, dict):
        raise ValueError(f"{path} must hold a JSON object (kind, config, seeds, ...); it "
                         f"holds a {type(saved).__name__}: {_FIX}")
    saved.setdefault('kind', 'node')
    if not isinstance(saved['kind'], str) or saved['kind'] not in KINDS:
        raise ValueError(f"{path} holds a run of unknown kind {saved['kind']!r}; graphdim "
                         f"knows {', '.join(KINDS)}")
    if not isinstance(saved.get('config'), dict):
        raise ValueError(f"{path}: 'config' must be an object of option values; got "
                         f"{saved.get('config')!r}: {_FIX}")
    seeds = saved.get('seeds')
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"{path}: 'seeds' must be a non-empty list of integers; got "
                         f"{seeds!r}: {_FIX}")
    for key in ('in_channels', 'image_size', 'channels'):
        value = saved.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(f"{path}: {key!r} must be a positive integer; got {value!r}: "
                             f"{_FIX}")
    return saved


def load_run_tensor(path: Path, what: str):
    """``torch.load`` of a run file with ``weights_only``: a truncated or crafted file is a
    ``ValueError`` naming it."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # truncated zip, pickle refusals, foreign formats
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path} is not a readable {what} file ({reason[:200]}): it was "
                         f"truncated or changed after the run; train the run again "
                         f"(--overwrite)") from None


def read_json_file(path: Path) -> Any:
    """The JSON a run file holds, or a ``ValueError`` naming it."""
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); {_FIX}") from None


def checked_results(saved: Any, path: Path) -> Dict[str, Any]:
    """``saved`` (the JSON of a run's ``results.json`` at ``path``): an object whose ``runs``,
    where present, is a list of objects; else a ``ValueError`` naming ``path``."""
    if not isinstance(saved, dict):
        raise ValueError(f"{path} must hold a JSON object (the run's summary); it holds a "
                         f"{type(saved).__name__}: {_FIX}")
    runs = saved.get('runs', [])
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise ValueError(f"{path}: 'runs' must be a list of objects (one per seed); got "
                         f"{runs!r:.80}: {_FIX}")
    return saved


def _is_seed_dir(name: str) -> bool:
    prefix, _, number = name.partition('_')
    return prefix == 'seed' and number.lstrip('-').isdigit()


def _matches(name: str, patterns: Sequence[str]) -> bool:
    """Whether ``name`` is one of ``patterns`` or a killed atomic write of one."""
    if name.startswith('.') and name.endswith('.tmp'):
        name = name[1:].rsplit('.', 2)[0]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _foreign_inside(folder: Path, patterns: Sequence[str]) -> List[Path]:
    return [entry for entry in sorted(folder.iterdir())
            if entry.is_symlink() or not entry.is_file() or not _matches(entry.name, patterns)]


# Config keys that name files: stored as absolute paths, so the run replays from anywhere.
PATH_KEYS = ('graph', 'features', 'labels', 'label_names', 'root')


def stored_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """``config`` as a run folder stores it: relative paths of files that exist
    (:data:`PATH_KEYS`) made absolute, so ``graphdim embed RUN`` and ``--config RUN`` work
    from any working directory."""
    stored = dict(config)
    for key in PATH_KEYS:
        value = stored.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value) \
                and os.path.exists(value):
            stored[key] = os.path.abspath(value)
    return stored
