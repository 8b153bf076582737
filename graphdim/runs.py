"""Run folders: the one place that knows the layout of a run directory.

``graphdim train --out RUN`` (and ``graphdim image --out RUN``) writes::

    RUN/config.json              kind ('node', 'graph' or 'image'), the resolved config, the
                                 input size, seeds and package versions
    RUN/results.json             the summary the command prints (its --json line)
    RUN/labels.pt                labels of the embedded rows (nodes, graphs or test images)
    RUN/seed_<s>/model.pt        the trained model's state dict
    RUN/seed_<s>/embeddings.pt   frozen embeddings, one row per node / graph / test image
    RUN/seed_<s>/scored_embeddings.pt   the reinforced embeddings its probe scored (--hops)
    RUN/seed_<s>/log.jsonl       one JSON line per epoch (loss, seconds, lr)
    RUN/seed_<s>/checkpoint.pt   with --checkpoint-every: the state --resume continues from
    RUN/tensorboard/seed_<s>/    with --tensorboard

:class:`RunFolder` writes and reads all of it: storage only (a run's model is rebuilt by
:func:`graphdim.experiments.reload.load_model`). A folder holds one run, and
``results.json`` is written last, so a folder without it holds an unfinished run.

Overwriting keeps the old run until it must go: :meth:`RunFolder.begin` only checks (and
refuses a folder holding anything that is not a run file); once the config, data and model
are checked, :meth:`RunFolder.set_aside` moves the old run aside, for the new run's end to
delete or put back (:meth:`RunFolder.clear` deletes at once). Only run files (``RUN_FILES``)
are ever deleted. One process writes a folder at a time (``graphdim.runlock``).
"""
import contextlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import Tensor

from .logs import write_epoch_log
# The layout (RUN_FILES, SEED_FILES, TENSORBOARD_FILES, PREVIOUS) lives in run_checks.
from .run_checks import (_FIX, KINDS, PREVIOUS, RUN_FILES, SEED_FILES,  # noqa: F401
                         TENSORBOARD_FILES, _matches, checked_results, checked_run_config,
                         foreign_entries, load_run_tensor, mention_previous_run,
                         previous_run_note, read_json_file, refuse_foreign_files, stored_config)
from .runlock import LOCK_NAME, check_not_held, run_lock
from .runtime import (atomic_save, atomic_write_text, package_versions, signals_held,
                      terminate_as_interrupt)

# Paths begin() allowed to be cleared: clear() (or the first write) deletes them.
_PENDING_CLEAR = set()


class RunFolder:
    """A run directory: the paths inside it, and reading and writing what they hold.

    Every write is atomic (:func:`~graphdim.runtime.atomic_save`): a killed run never
    leaves a torn file."""

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # --- layout ---------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / 'config.json'

    @property
    def results_path(self) -> Path:
        return self.path / 'results.json'

    @property
    def labels_path(self) -> Path:
        return self.path / 'labels.pt'

    def seed_dir(self, seed: int) -> Path:
        return self.path / f'seed_{seed}'

    def model_path(self, seed: int) -> Path:
        return self.seed_dir(seed) / 'model.pt'

    def embeddings_path(self, seed: int, scored: bool = False) -> Path:
        return self.seed_dir(seed) / ('scored_embeddings.pt' if scored else 'embeddings.pt')

    def log_path(self, seed: int) -> Path:
        return self.seed_dir(seed) / 'log.jsonl'

    def checkpoint_path(self, seed: int) -> Path:
        return self.seed_dir(seed) / 'checkpoint.pt'

    def tensorboard_dir(self, seed: int) -> Path:
        return self.path / 'tensorboard' / f'seed_{seed}'

    # --- starting a run -------------------------------------------------------------------
    def begin(self, kind: str, config: Dict[str, Any], *, resume: bool = False,
              overwrite: bool = False) -> None:
        """Check that the folder may take a run of ``kind`` with ``config`` (plain values);
        nothing is deleted or written here.

        A new or empty folder is used as it is; one that holds a run is refused, unless
        ``resume`` continues it (same kind and settings) or ``overwrite`` replaces it (not
        both). A folder holding anything but run files (``RUN_FILES``) is refused even with
        ``overwrite``, naming one: graphdim never deletes files it did not write.
        Two steps: ``begin`` before loading anything (a refusal costs nothing), then
        :meth:`clear` once the config, data and model are checked, so a run that fails on its
        inputs leaves the old run in place (without :meth:`clear`, the first ``write_*`` call
        clears the folder of a ``begin(overwrite=True)``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(KINDS)}")
        if resume and overwrite:
            raise ValueError("--resume continues the run in --out DIR and --overwrite "
                             "replaces it: give one of them")
        _PENDING_CLEAR.discard(self._key())
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"--out {self.path} is a file; name a folder (it is created)")
        if not self.path.is_dir() or not self._entries():
            if resume:
                warnings.warn(f"--resume: nothing to resume in {self.path}; starting a new run",
                              UserWarning, stacklevel=2)
            return
        refuse_foreign_files(self.path, self.foreign_files())
        mention_previous_run(self.path)
        if overwrite:
            _PENDING_CLEAR.add(self._key())
            return
        held = 'a finished run' if self.results_path.is_file() else 'an unfinished run' \
            if self.exists() else 'the leftovers of a run (no config.json)'
        if not resume or not self.exists():
            raise ValueError(f"{self.path} already holds {held}; pass --overwrite to replace "
                             f"it" + (", --resume to continue it" if self.exists() else "")
                             + ", or choose another --out")
        self._check_resumable(kind, config)

    def _check_resumable(self, kind: str, config: Dict[str, Any]) -> None:
        """``--resume``: the folder's unfinished run has this kind and these settings."""
        from .checkpoints import config_changes
        saved = self.read_config()
        if saved['kind'] != kind:
            raise ValueError(f"--resume: {self.path} holds a {saved['kind']}-level run, not a "
                             f"{kind}-level one; choose another --out")
        # Compared as config.json holds them: tuples are JSON lists there.
        changes = config_changes(saved['config'], json.loads(json.dumps(stored_config(config))))
        if changes:
            raise ValueError(f"--resume continues the run in {self.path}, but these settings "
                             f"differ from it: {', '.join(changes)}; use the same settings or "
                             f"a new --out DIR")
        if self.results_path.is_file():  # (a writer of the folder is named first)
            check_not_held(self.path)
            raise ValueError(f"--resume: {self.path} already holds a finished run (its "
                             f"results.json): nothing to resume; pass --overwrite to train it "
                             f"again, or choose another --out")
        if not any(self.checkpoint_path(s).is_file() for s in saved['seeds']):
            warnings.warn(f"--resume: {self.path} holds no checkpoint (they are written with "
                          f"--checkpoint-every K); training starts from epoch 1",
                          UserWarning, stacklevel=3)

    def foreign_files(self) -> List[Path]:
        """What the folder holds besides run files (``RUN_FILES``), relative to it, in
        sorted order: files and folders graphdim did not write, and links; in ``.previous/``
        (an old run an ``--overwrite`` set aside) too."""
        if not self.path.is_dir():
            return []
        return [p.relative_to(self.path) for p in foreign_entries(self._entries())]

    def clear(self, keep: str = '', aside: bool = False) -> None:
        """Delete the run files the folder holds (``RUN_FILES``, ``seed_<s>/`` and
        ``tensorboard/``), after :meth:`begin` has accepted it; a folder that holds anything
        else is refused, and nothing is deleted. Call it once the config, data and model have
        been checked (see :meth:`begin`)."""
        _PENDING_CLEAR.discard(self._key())
        if not self.path.is_dir():
            return
        foreign = self.foreign_files()
        if foreign:
            raise ValueError(f"{self.path} holds files that are not graphdim run files (e.g. "
                             f"{foreign[0]}); nothing was deleted: choose another --out")
        previous, keep = self.path / PREVIOUS, PREVIOUS if aside else keep
        if aside and previous_run_note(self.path):
            aside = False  # a killed --overwrite's unfinished run: deleted; .previous kept
        elif aside:  # (one holding run files only, as checked above: deleted)
            shutil.rmtree(previous, ignore_errors=True)
            previous.mkdir()
        for entry in self._entries():  # never the lock: its holder is clearing
            if entry.name == keep:
                continue
            if aside:
                os.replace(entry, previous / entry.name)
            elif entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def _key(self) -> str:
        return os.path.abspath(self.path)

    def _entries(self) -> List[Path]:
        """What the folder holds besides its lock file, sorted."""
        return sorted(e for e in self.path.iterdir() if e.name != LOCK_NAME)

    def set_aside(self) -> None:
        """:meth:`clear`, but the old run moves into ``RUN/.previous/`` until
        :meth:`end_replacing`: a run that fails after the checks (a NaN loss, a full disk,
        Ctrl-C, SIGTERM) leaves the old run as it was. The caller holds the folder's lock.

        Until then SIGTERM raises ``KeyboardInterrupt`` where it has no handler yet
        (:func:`~graphdim.runtime.terminate_as_interrupt`): a ``kill`` puts the old run back
        as Ctrl-C does. No signal cuts the moves half-way. A finished run a killed
        ``--overwrite`` left in ``.previous`` stays there as the run to put back."""
        self._replacing = contextlib.ExitStack()
        self._replacing.enter_context(terminate_as_interrupt())
        try:
            with signals_held():
                self.clear(aside=True)
        except BaseException:  # (a signal held during the moves arrives here)
            with self._replacing:
                self._put_back()
            raise

    def end_replacing(self, finished: bool) -> None:
        """Delete the old run (``finished``), or the new run's files, putting it back; then
        give SIGTERM back its earlier handler."""
        try:
            with signals_held():
                if (self.path / PREVIOUS).is_dir():
                    if finished:
                        shutil.rmtree(self.path / PREVIOUS)
                    else:
                        self.clear(keep=PREVIOUS)
                        self._put_back()
        finally:  # SIGTERM's handler of set_aside, if any
            self.__dict__.pop('_replacing', contextlib.ExitStack()).close()

    def _put_back(self) -> None:
        """Move what ``.previous/`` holds back into the folder, never over what is there,
        and remove it once empty."""
        previous = self.path / PREVIOUS
        if previous.is_dir() and not previous.is_symlink():
            for entry in sorted(previous.iterdir()):
                if not os.path.lexists(self.path / entry.name):
                    os.replace(entry, self.path / entry.name)
            with contextlib.suppress(OSError):
                previous.rmdir()

    def lock(self, command: str):
        """The run folder's writer lock (:func:`graphdim.runlock.run_lock`), as a context
        manager: a second writer is refused, naming ``command`` of the first."""
        return run_lock(self.path, command)

    def clashes(self, path: Union[str, Path]) -> Optional[str]:
        """Why writing ``path`` would harm the run (it replaces or sits beside its own files
        in a place graphdim never writes extra files), or None: a path outside the folder,
        or one of the top-level extras ``embed`` and ``plot`` write (``RUN_FILES``)."""
        path = Path(os.path.abspath(path))
        try:
            inside = path.relative_to(self._key())
        except ValueError:
            return None
        if len(inside.parts) == 1 and _matches(inside.name, RUN_FILES[3:]):
            return None
        if path.exists() or len(inside.parts) == 1 and _matches(inside.name, RUN_FILES):
            return f"it would replace the run's own {inside}"
        return f"it would put {inside} among the run's own files"

    def _clear_if_pending(self) -> None:
        if self._key() in _PENDING_CLEAR:
            self.clear()

    # --- writing --------------------------------------------------------------------------
    def write_config(self, kind: str, config: Dict[str, Any], seeds: Sequence[int],
                     **input_size: int) -> None:
        """``config.json``; ``input_size`` is what rebuilding the model needs besides the
        config (``in_channels``, or ``image_size`` and ``channels``); ``inputs`` records the
        input files the run was made from (:mod:`graphdim.data.provenance`)."""
        from .data.provenance import RECORD_KEY, input_record
        if kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(KINDS)}")
        self._clear_if_pending()
        saved = {'kind': kind, 'config': stored_config(config), 'seeds': list(seeds), **input_size,
                 RECORD_KEY: input_record(config), 'versions': package_versions()}
        atomic_write_text(json.dumps(saved, indent=2), self.config_path)

    def write_labels(self, labels: Tensor) -> None:
        self._clear_if_pending()
        atomic_save(labels, self.labels_path)

    def write_seed(self, seed: int, model: torch.nn.Module, history, lr: float,
                   embeddings: Optional[Tensor] = None, scored: Optional[Tensor] = None) -> None:
        """One seed's model state, loss log, embeddings and those its probe scored (given)."""
        self._clear_if_pending()
        atomic_save(model.state_dict(), self.model_path(seed))
        for tensor, path in ((embeddings, self.embeddings_path(seed)),
                             (scored, self.embeddings_path(seed, scored=True))):
            if tensor is not None:  # on the CPU: a GPU run's folder loads anywhere
                atomic_save(tensor.detach().cpu(), path)
        write_epoch_log(history, lr, self.log_path(seed))

    def write_results(self, summary: Dict[str, Any]) -> None:
        self._clear_if_pending()
        atomic_write_text(json.dumps(summary, indent=2), self.results_path)

    # --- reading --------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether a run has been written here (its ``config.json`` exists)."""
        return self.config_path.is_file()

    def read_config(self) -> Dict[str, Any]:
        """``config.json``, with ``kind`` set: runs written before kinds were recorded are
        node-level runs. A file that is not what graphdim writes (not JSON, not an object,
        no ``config`` object, ``seeds`` not a non-empty list of integers) is a
        ``ValueError`` naming it."""
        note = previous_run_note(self.path)
        if not self.exists():
            raise FileNotFoundError(f"{self.config_path} not found: {self.path} is not a "
                                    f"graphdim run directory (make one with graphdim train "
                                    f"--out DIR)" + (f"; {note}" if note else ""))
        mention_previous_run(self.path)
        return checked_run_config(read_json_file(self.config_path), self.config_path)

    def read_results(self) -> Optional[Dict[str, Any]]:
        """``results.json`` (None for an unfinished run): a file that is not a JSON object
        with a list of per-seed objects as ``runs`` is a ``ValueError`` naming it."""
        if not self.results_path.is_file():
            return None
        return checked_results(read_json_file(self.results_path), self.results_path)

    def seed_or_first(self, seed: Optional[int] = None) -> int:
        """``seed`` if the run holds it (the run's first seed when None)."""
        seeds = self.read_config()['seeds']
        if seed is None:
            return seeds[0]
        if seed not in seeds:
            raise ValueError(f"seed {seed} is not in {self.path}; it holds seeds {seeds}")
        return seed

    def read_model_state(self, seed: int) -> Dict[str, Tensor]:
        """The seed's ``model.pt`` (a state dict); a missing, truncated or foreign
        file is a ``ValueError`` naming it."""
        path = self.model_path(seed)
        if not path.is_file():
            raise ValueError(f"{path} not found: the run in {self.path} did not finish seed "
                             f"{seed} (train it again, or pass another --seed)")
        state = load_run_tensor(path, 'model state')
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise ValueError(f"{path} does not hold a model state (a state dict): it was "
                             f"changed after the run; train the run again (--overwrite)")
        return state

    def load_model_state(self, model: torch.nn.Module, seed: int) -> torch.nn.Module:
        """Load the seed's ``model.pt`` into ``model`` (built from the run's config); a state
        of other names or shapes is a ``ValueError`` naming the file."""
        path = self.model_path(seed)
        try:
            model.load_state_dict(self.read_model_state(seed))
        except RuntimeError as error:  # missing / unexpected keys, size mismatches
            reason = ' '.join(str(error).split())[:300]
            raise ValueError(f"{path} does not fit the model its config.json describes "
                             f"({reason}); the folder was changed after the run: train it "
                             f"again (--overwrite)") from None
        return model

    def read_embeddings(self, seed: int, scored: bool = False) -> Optional[Tensor]:
        """The seed's embeddings (``scored``: those its probe scored), or None (not saved)."""
        path = self.embeddings_path(seed, scored)
        if not path.is_file():
            return None
        embeddings = load_run_tensor(path, 'embeddings')
        if not isinstance(embeddings, Tensor) or embeddings.dim() != 2:
            raise ValueError(f"{path} does not hold an embedding matrix [rows, dim]: {_FIX}")
        return embeddings

    def read_labels(self, rows: Optional[int] = None) -> Optional[Tensor]:
        """The labels of the embedded rows, or None for data without labels; with ``rows``
        (the embeddings' rows), a label vector of another length is a ``ValueError``."""
        if not self.labels_path.is_file():
            return None
        labels = load_run_tensor(self.labels_path, 'labels')
        if not isinstance(labels, Tensor) or labels.dim() != 1:
            raise ValueError(f"{self.labels_path} does not hold a label vector: it was "
                             f"changed after the run; train the run again (--overwrite)")
        if rows is not None and labels.numel() != rows:
            raise ValueError(f"{self.labels_path} holds {labels.numel()} labels for {rows} "
                             f"embedded rows: {_FIX}")
        return labels

    def read_log(self, seed: int) -> List[dict]:
        """The per-epoch records of the seed's ``log.jsonl`` (empty when there is none)."""
        path = self.log_path(seed)
        if not path.is_file():
            return []
        try:
            records = [json.loads(line) for line in path.read_text().splitlines()
                       if line.strip()]
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path} is not a log of JSON lines ({error}): it was changed "
                             f"after the run") from None
        if not all(isinstance(r, dict) and isinstance(r.get('loss'), (int, float))
                   for r in records):
            raise ValueError(f"{path}: every line must be an object with a numeric 'loss': "
                             f"it was changed after the run")
        return records
