"""Run folders: the one place that knows the layout of a run directory.

``graphdim train --out RUN`` (and ``graphdim image --out RUN``) writes::

    RUN/config.json              kind ('node', 'graph' or 'image'), the resolved config, the
                                 input size, seeds and package versions
    RUN/results.json             the summary the command prints (its --json line)
    RUN/labels.pt                labels of the embedded rows (nodes, graphs or test images)
    RUN/seed_<s>/model.pt        the trained model's state dict
    RUN/seed_<s>/embeddings.pt   frozen embeddings, one row per node / graph / test image
    RUN/seed_<s>/log.jsonl       one JSON line per epoch (loss, seconds, lr)
    RUN/seed_<s>/checkpoint.pt   with --checkpoint-every: the state --resume continues from
    RUN/tensorboard/seed_<s>/    with --tensorboard

:class:`RunFolder` writes and reads all of it; :func:`load_model` rebuilds a run's model,
whatever its kind. A folder holds one run: :meth:`RunFolder.begin` refuses a folder that holds
another unless the run overwrites it (``--overwrite`` clears it first) or resumes it (same
settings), and ``results.json`` is written last, so a folder without it holds an unfinished
run.
"""
import json
import shutil
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .logs import write_epoch_log
from .runtime import atomic_save, atomic_write_text, package_versions

KINDS = ('node', 'graph', 'image')
# The command that trains each kind of run (``graphdim train --config`` replays any kind).
COMMAND_OF_KIND = {'node': 'train', 'graph': 'train', 'image': 'image'}


class RunFolder:
    """A run directory: the paths inside it, and reading and writing what they hold.

    Every write is atomic (:func:`~graphdim.runtime.atomic_save`): a killed run never
    leaves a torn file.
    """

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

    def embeddings_path(self, seed: int) -> Path:
        return self.seed_dir(seed) / 'embeddings.pt'

    def log_path(self, seed: int) -> Path:
        return self.seed_dir(seed) / 'log.jsonl'

    def checkpoint_path(self, seed: int) -> Path:
        return self.seed_dir(seed) / 'checkpoint.pt'

    def tensorboard_dir(self, seed: int) -> Path:
        return self.path / 'tensorboard' / f'seed_{seed}'

    # --- starting a run -------------------------------------------------------------------
    def begin(self, kind: str, config: Dict[str, Any], *, resume: bool = False,
              overwrite: bool = False) -> None:
        """Make the folder ready for a run of ``kind`` with ``config`` (plain values), before
        anything is written: a new or empty folder is used as it is; one that holds files is
        cleared with ``overwrite``, continued with ``resume`` (the same kind and settings), and
        otherwise refused, so two runs never mix."""
        from .checkpoints import config_changes
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"--out {self.path} is a file; name a folder (it is created)")
        if not self.path.is_dir() or not any(self.path.iterdir()):
            if resume:
                warnings.warn(f"--resume: nothing to resume in {self.path}; starting a new run",
                              UserWarning, stacklevel=2)
            return
        if overwrite:
            for entry in self.path.iterdir():
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() \
                    else entry.unlink()
            return
        held = ('a finished run' if self.results_path.is_file() else
                'an unfinished run' if self.exists() else 'files of something else')
        if not resume or not self.exists():
            raise ValueError(f"{self.path} already holds {held}; pass --overwrite to replace "
                             f"it" + (", --resume to continue it" if self.exists() else "")
                             + ", or choose another --out")
        saved = self.read_config()
        if saved['kind'] != kind:
            raise ValueError(f"--resume: {self.path} holds a {saved['kind']}-level run, not a "
                             f"{kind}-level one; choose another --out")
        changes = config_changes(saved['config'], config)
        if changes:
            raise ValueError(f"--resume continues the run in {self.path}, but these settings "
                             f"differ from it: {', '.join(changes)}; use the same settings or "
                             f"a new --out DIR")
        if not any(self.checkpoint_path(s).is_file() for s in saved['seeds']):
            warnings.warn(f"--resume: {self.path} holds no checkpoint (they are written with "
                          f"--checkpoint-every K); training starts from epoch 1",
                          UserWarning, stacklevel=2)

    # --- writing --------------------------------------------------------------------------
    def write_config(self, kind: str, config: Dict[str, Any], seeds: Sequence[int],
                     **input_size: int) -> None:
        """``config.json``; ``input_size`` is what rebuilding the model needs besides the
        config (``in_channels``, or ``image_size`` and ``channels``)."""
        if kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(KINDS)}")
        saved = {'kind': kind, 'config': config, 'seeds': list(seeds), **input_size,
                 'versions': package_versions()}
        atomic_write_text(json.dumps(saved, indent=2), self.config_path)

    def write_labels(self, labels: Tensor) -> None:
        atomic_save(labels, self.labels_path)

    def write_seed(self, seed: int, model: torch.nn.Module, history, lr: float,
                   embeddings: Optional[Tensor] = None) -> None:
        """One seed's model state, loss log and (when given) embeddings."""
        atomic_save(model.state_dict(), self.model_path(seed))
        if embeddings is not None:
            atomic_save(embeddings, self.embeddings_path(seed))
        write_epoch_log(history, lr, self.log_path(seed))

    def write_results(self, summary: Dict[str, Any]) -> None:
        atomic_write_text(json.dumps(summary, indent=2), self.results_path)

    # --- reading --------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether a run has been written here (its ``config.json`` exists)."""
        return self.config_path.is_file()

    def read_config(self) -> Dict[str, Any]:
        """``config.json``, with ``kind`` set: runs written before kinds were recorded are
        node-level runs."""
        if not self.exists():
            raise FileNotFoundError(f"{self.config_path} not found: {self.path} is not a "
                                    f"graphdim run directory (make one with graphdim train "
                                    f"--out DIR)")
        saved = json.loads(self.config_path.read_text())
        saved.setdefault('kind', 'node')
        if saved['kind'] not in KINDS:
            raise ValueError(f"{self.config_path} holds a run of unknown kind "
                             f"{saved['kind']!r}; graphdim knows {', '.join(KINDS)}")
        return saved

    def seed_or_first(self, seed: Optional[int] = None) -> int:
        """``seed`` if the run holds it (the run's first seed when None)."""
        seeds = self.read_config()['seeds']
        if seed is None:
            return seeds[0]
        if seed not in seeds:
            raise ValueError(f"seed {seed} is not in {self.path}; it holds seeds {seeds}")
        return seed

    def read_model_state(self, seed: int) -> Dict[str, Tensor]:
        return torch.load(self.model_path(seed), map_location='cpu', weights_only=True)

    def read_embeddings(self, seed: int) -> Optional[Tensor]:
        """The seed's embeddings, or None where the run did not save them."""
        path = self.embeddings_path(seed)
        return torch.load(path, weights_only=True) if path.is_file() else None

    def read_labels(self) -> Optional[Tensor]:
        """The labels of the embedded rows, or None for data without labels."""
        return torch.load(self.labels_path, weights_only=True) \
            if self.labels_path.is_file() else None

    def read_log(self, seed: int) -> List[dict]:
        """The per-epoch records of the seed's ``log.jsonl`` (empty when there is none)."""
        path = self.log_path(seed)
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_config_source(path: Union[str, Path]) -> Tuple[Optional[str], Dict[str, Any]]:
    """``(kind, option values)`` of what ``--config`` names: a run directory, its
    ``config.json`` (``kind`` 'node' when the file predates kinds), or a flat JSON object of
    option names (``kind`` None: the options of whichever command reads them)."""
    path = Path(path)
    if path.is_dir():
        path = RunFolder(path).config_path
    if not path.is_file():
        raise ValueError(f"config file {path} not found")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"config file {path} must hold a JSON object of option values")
    if isinstance(values.get('config'), dict):  # a run's config.json
        return RunFolder(path.parent).read_config()['kind'], values['config']
    return None, values


def replay_command(command: str, kind: Optional[str]) -> str:
    """The command that replays a run of ``kind`` given to ``graphdim command --config``:
    ``train`` replays any kind; ``image`` only image runs."""
    if kind is None or command == COMMAND_OF_KIND[kind]:
        return command
    if command == 'train':
        return COMMAND_OF_KIND[kind]
    raise ValueError(f"the config is of a {kind}-level run; replay it with graphdim "
                     f"{COMMAND_OF_KIND[kind]} --config (or graphdim train --config)")


def replay_values(kind: Optional[str], values: Dict[str, Any]) -> Dict[str, Any]:
    """Option values that replay a run of ``kind``: a graph-level run trains with
    ``graphdim train --level graph``."""
    return {**values, 'level': 'graph'} if kind == 'graph' else dict(values)


def load_model(run_dir: Union[str, Path], seed: Optional[int] = None,
               device=None) -> Tuple[torch.nn.Module, Any]:
    """The trained model of ``run_dir`` (first seed unless ``seed``), in eval mode, and its
    config: a :class:`NodeConfig` (DeepGraphInfomax, full-batch or mini-batch trained),
    :class:`GraphConfig` (InfoGraph) or :class:`ImageConfig` (ImageDIM)."""
    # Imported here: the experiments import this module to write their run folders.
    from .experiments import KIND_BUILDERS
    folder = RunFolder(run_dir)
    saved = folder.read_config()
    seed = folder.seed_or_first(seed)
    config_class, build_model, input_keys = KIND_BUILDERS[saved['kind']]
    config = config_class.from_dict(saved['config'])
    model = build_model(config, **{key: saved[key] for key in input_keys})
    model.load_state_dict(folder.read_model_state(seed))
    return model.to(device or 'cpu').eval(), config


def save_embeddings(embeddings: Tensor, path: Union[str, Path],
                    node_ids: Optional[Sequence] = None) -> Tuple[Path, Path]:
    """Write ``<path>.pt`` (``{'embeddings', 'node_ids'}``) and ``<path>.npy`` (the matrix),
    with ``<path>.node_ids.npy`` beside it; rows are in node-id order. Returns the two paths."""
    path = Path(path)
    base = path.with_suffix('') if path.suffix in ('.pt', '.npy') else path
    node_ids = list(range(embeddings.size(0))) if node_ids is None else list(node_ids)
    if len(node_ids) != embeddings.size(0):
        raise ValueError(f"{len(node_ids)} node ids for {embeddings.size(0)} embeddings")
    pt_path, npy_path = base.with_name(base.name + '.pt'), base.with_name(base.name + '.npy')
    atomic_save({'embeddings': embeddings.detach().cpu(), 'node_ids': node_ids}, pt_path)
    npy_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(npy_path, embeddings.detach().cpu().numpy())
    np.save(base.with_name(base.name + '.node_ids.npy'), np.asarray(node_ids))
    return pt_path, npy_path
