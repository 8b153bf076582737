"""What the files of a run folder must hold: the checks :class:`~graphdim.runs.RunFolder`
applies as it reads them. A run folder is read as untrusted input (it may have been
truncated, edited or mixed with another run's files): whatever is wrong with a file is one
``ValueError`` naming it and the fix, never a traceback from deeper down.
"""
import fnmatch
import json
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence

import torch

from .registry import LEVELS, nested_options

# The kinds of run a folder may hold (``kind`` in its config.json).
KINDS = ('node', 'graph', 'image')

_FIX = "it was changed or truncated after the run: train the run again (--overwrite)"


def checked_run_config(saved: Any, path: Path) -> Dict[str, Any]:
    """``saved`` (the JSON of a run's ``config.json`` at ``path``) with ``kind`` set and a
    node or graph run's model options under ``model_options`` (a run of graphdim before
    models owned their options holds them flat: converted), or a ``ValueError`` naming
    ``path`` and what is wrong."""
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
    if saved['kind'] in LEVELS:
        try:
            saved['config'] = nested_options(saved['kind'], saved['config'])
        except ValueError as error:
            raise ValueError(f"{path}: {error}: {_FIX}") from None
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


# What a run folder may hold, as glob patterns: at its top level (``graphdim embed`` and
# ``graphdim plot`` write the others there by default), inside ``seed_<s>/`` and inside
# ``tensorboard/seed_<s>/``. ``.<name>.*.tmp`` files are what a killed atomic write leaves.
RUN_FILES = ('config.json', 'results.json', 'labels.pt', 'embeddings_*.pt',
             'embeddings_*.npy', 'embeddings_*.node_ids.npy', 'embeddings_*.json',
             'tsne_seed*.png', 'loss.png', 'tsne_seed*.pdf', 'loss.pdf', 'tsne_seed*.svg',
             'loss.svg')
SEED_FILES = ('model.pt', 'embeddings.pt', 'scored_embeddings.pt', 'log.jsonl', 'checkpoint.pt')
TENSORBOARD_FILES = ('events.out.tfevents.*', )
# Where an --overwrite keeps the old run until the new one finishes (RunFolder.set_aside).
PREVIOUS = '.previous'


def foreign_entries(entries: Sequence[Path], inside_previous: bool = False) -> List[Path]:
    """Which of ``entries`` (a run folder's, or its ``.previous/``'s) are not run files
    (``RUN_FILES``, ``seed_<s>/``, ``tensorboard/seed_<s>/``), or are links, or hold such a
    thing. A ``.previous/`` is looked into: it may hold one run's files and nothing else."""
    foreign: List[Path] = []
    for entry in entries:
        name = entry.name
        if entry.is_symlink():
            foreign.append(entry)
        elif entry.is_dir() and name == PREVIOUS and not inside_previous:
            foreign += foreign_entries(sorted(entry.iterdir()), inside_previous=True)
        elif entry.is_dir() and _is_seed_dir(name):
            foreign += _foreign_inside(entry, SEED_FILES)
        elif entry.is_dir() and name == 'tensorboard':
            for sub in sorted(entry.iterdir()):
                if sub.is_dir() and not sub.is_symlink() and _is_seed_dir(sub.name):
                    foreign += _foreign_inside(sub, TENSORBOARD_FILES)
                else:
                    foreign.append(sub)
        elif not (entry.is_file() and _matches(name, RUN_FILES)):
            foreign.append(entry)
    return foreign


def previous_run_note(folder: Path) -> str:
    """What to say of a finished run left in ``folder/.previous`` by an ``--overwrite`` that
    was killed (``kill -9``, a power cut) while ``folder`` itself holds no finished run; ''
    where there is none."""
    previous = folder / PREVIOUS
    if previous.is_symlink() or not (previous / 'results.json').is_file() or \
            not (previous / 'config.json').is_file() or (folder / 'results.json').is_file():
        return ''
    return (f"{previous} holds the finished run that an --overwrite killed before its end set "
            f"aside ({folder} itself holds no finished run): to restore it, move the files "
            f"in {previous} back into {folder} in place of its own; to discard it, delete "
            f"{previous} (a new --overwrite puts it back if that run fails)")


def refuse_foreign_files(folder: Path, foreign: Sequence[Path]) -> None:
    """The refusal of a run folder holding ``foreign`` (relative paths, sorted: what
    :func:`foreign_entries` found), if any: graphdim deletes only files it wrote."""
    if foreign and foreign[0].parts[0] == PREVIOUS:
        raise ValueError(
            f"{folder / foreign[0]} is not a graphdim run file, but {PREVIOUS} is where "
            f"--overwrite keeps the old run until the new one finishes, and deletes it then: "
            f"move it out of {folder / PREVIOUS}, or choose another --out")
    if foreign:
        raise ValueError(
            f"{folder} holds files that are not graphdim run files (e.g. {foreign[0]}); "
            f"graphdim only writes into an empty folder or one holding a run, and --overwrite "
            f"deletes only run files: choose another --out (a new folder is created)")


# (folder, state of its .previous) already warned about in this process: said once.
_PREVIOUS_MENTIONED = set()


def mention_previous_run(folder: Path) -> None:
    """Warn, once per process, of a finished run that a killed ``--overwrite`` left in
    ``folder/.previous`` (:func:`previous_run_note`)."""
    note = previous_run_note(folder)
    if not note:
        return
    state = os.stat(folder / PREVIOUS)
    seen = (os.path.abspath(folder), state.st_ino, state.st_mtime_ns)
    if seen not in _PREVIOUS_MENTIONED:
        _PREVIOUS_MENTIONED.add(seen)
        warnings.warn(note, UserWarning, stacklevel=3)


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
