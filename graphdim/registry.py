"""The model registry: what graphdim needs to know of each DIM model, in one entry per model.

Each model file ends with ``register_model(ModelEntry(...))``: its name and one-line
description, how to build it from a run's config, the config options it reads beyond the
level's common ones, whether it trains in mini-batches, and how its recipe reads in a run's
summary. The command line's ``--model`` choices and help, the refusal of options a model
does not read, model building, reloading saved runs and the printed summary all come from
here, so ``experiments/`` and ``cli/`` name no model. Adding a model is its file (with its
entry), a preset, docs and its tests (``docs/tutorials/your-own-model.md``).

This module imports nothing else of graphdim when it loads: model files import it, not the
other way. graphdim's own models register when the registry is first read or added to
(:func:`load_builtin_models`), so they are there, first, whoever asks.
"""
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple

LEVELS = ('node', 'graph')


@dataclass(frozen=True)
class ModelEntry:
    """One DIM model as the rest of graphdim sees it.

    Args:
        name: the ``--model`` value (``'dgi'``).
        level: ``'node'`` (node embeddings) or ``'graph'`` (graph embeddings).
        description: one line for ``--model``'s help.
        build: ``build(config, in_channels) -> torch.nn.Module`` with ``training_loss(batch)``
            and ``embed(batch)`` (:func:`graphdim.fit`'s interface); used for training and for
            reloading saved runs.
        options: the config fields this model reads that not every model of its level reads
            (shared options may appear in several entries). Set away from its default for a
            model that does not list it, an option is refused, naming the models that read it.
        recipe: ``recipe(config_dict) -> str``, the model's settings as the run summary prints
            them after the model's title (``'gcn x1 512, sigmoid_mean, row_shuffle, bce'``).
        title: the model's printed name (default: ``name`` in capitals).
        minibatch: node level: ``minibatch(model) -> module`` whose ``training_loss`` takes
            a batch of graphdim's neighbourhood loader (its first ``batch_size`` nodes are the
            seeds), or None where the model trains on whole graphs only (``--batch-size`` and
            ``--distributed`` are then refused).
        prepare: graph level: ``prepare(config, dataset) -> dataset``, what the model needs
            added to every graph once (a diffusion view), or None.
    """
    name: str
    level: str
    description: str
    build: Callable[[Any, int], Any]
    options: Tuple[str, ...] = ()
    recipe: Callable[[Dict[str, Any]], str] = lambda config: ''
    title: Optional[str] = None
    minibatch: Optional[Callable[[Any], Any]] = None
    prepare: Optional[Callable[[Any, Any], Any]] = None

    @property
    def printed_name(self) -> str:
        return self.title or self.name.upper()


_MODELS: Dict[str, Dict[str, ModelEntry]] = {level: {} for level in LEVELS}
# Importing this package registers graphdim's own models (their files: torch and PyG), each
# level's default first.
BUILTIN_MODELS = 'graphdim.graph.models'
_builtins_started = False


def load_builtin_models() -> None:
    """Register graphdim's own models, once. ``import graphdim`` loads no model (no torch), so
    every reader of the registry calls this first; a model file registering while they load
    finds them loading and adds itself in order."""
    global _builtins_started
    if _builtins_started:
        return
    _builtins_started = True
    try:
        importlib.import_module(BUILTIN_MODELS)
        # The configs declare which fields a model's options may name (checked on register).
        importlib.import_module('graphdim.experiments')
    except BaseException:
        _builtins_started = False  # a failed import is tried again by the next reader
        raise


# Each level's config fields, the names ``options`` may hold; declared by graphdim.experiments
# once its configs exist (the built-in models register before them and are checked then).
_CONFIG_FIELDS: Dict[str, Tuple[str, ...]] = {}


def _check_options(entry: ModelEntry) -> None:
    known = _CONFIG_FIELDS.get(entry.level)
    unknown = [name for name in entry.options if known is not None and name not in known]
    if unknown:
        raise ValueError(f"model {entry.name!r}: options must name {entry.level}-level config "
                         f"fields; unknown: {', '.join(map(repr, unknown))} (the fields are "
                         f"{', '.join(known)})")


def declare_config_fields(level: str, names: Sequence[str]) -> None:
    """Declare the config fields of ``level`` (what a model's ``options`` may name) and check
    the models registered so far against them."""
    _CONFIG_FIELDS[level] = tuple(names)
    for entry in _MODELS[level].values():
        _check_options(entry)


def register_model(entry: ModelEntry, replace: bool = False) -> ModelEntry:
    """Add ``entry`` to its level's models (``replace=True`` to redefine a name).

    Refused with a ValueError naming the field: a ``build`` (or ``recipe``, ``minibatch``,
    ``prepare``) that is not callable, and ``options`` that are not names of the level's
    config fields."""
    if not isinstance(entry, ModelEntry):
        raise ValueError(f"register_model takes a ModelEntry; got {type(entry).__name__}")
    load_builtin_models()  # graphdim's own first: the first registered is a level's default
    if entry.level not in LEVELS:
        raise ValueError(f"model {entry.name!r}: level must be one of {', '.join(LEVELS)}; "
                         f"got {entry.level!r}")
    if not isinstance(entry.name, str) or not entry.name or \
            not entry.name.replace('-', '').replace('_', '').isalnum():
        raise ValueError(f"model name must be letters, digits, '-' or '_'; got {entry.name!r}")
    for field_name in ('build', 'recipe', 'minibatch', 'prepare'):
        value = getattr(entry, field_name)
        if not callable(value) and (field_name in ('build', 'recipe') or value is not None):
            raise ValueError(f"model {entry.name!r}: {field_name} must be a function"
                             + (" or None" if field_name in ('minibatch', 'prepare') else "")
                             + f"; got {value!r}")
    if isinstance(entry.options, str) or not isinstance(entry.options, (tuple, list)) or \
            not all(isinstance(name, str) for name in entry.options):
        raise ValueError(f"model {entry.name!r}: options must be a tuple of config field "
                         f"names, e.g. ('alpha',); got {entry.options!r}")
    _check_options(entry)
    if entry.name in _MODELS[entry.level] and not replace:
        raise ValueError(f"a {entry.level}-level model {entry.name!r} is registered already; "
                         f"pass replace=True to redefine it")
    _MODELS[entry.level][entry.name] = entry
    return entry


def unregister_model(level: str, name: str) -> None:
    """Remove a model (tests register toy models and remove them after)."""
    _MODELS[level].pop(name, None)


def model_names(level: str) -> Tuple[str, ...]:
    """The registered models of ``level``, in registration order (the default first)."""
    load_builtin_models()
    return tuple(_MODELS[level])


def model_entry(level: str, name: str) -> ModelEntry:
    """The entry of model ``name`` at ``level``; an unknown name is a ValueError naming the
    registered ones (and the level where the name is registered, if another)."""
    load_builtin_models()
    if name in _MODELS[level]:
        return _MODELS[level][name]
    elsewhere = [other for other in LEVELS if name in _MODELS[other]]
    hint = f" (--model {name} is a {elsewhere[0]}-level model: add --level {elsewhere[0]})" \
        if elsewhere else ''
    raise ValueError(f"unknown {level}-level model {name!r}; choose one of "
                     f"{', '.join(model_names(level))}{hint}")


class ModelChoices:
    """The live set of model names of ``levels``, for a config field's (or a command-line
    option's) ``choices``: a model registered later, e.g. by a test, is a valid choice too."""
    def __init__(self, *levels: str):
        self.levels = levels

    def _names(self) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(n for level in self.levels for n in model_names(level)))

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return ', '.join(self)


def models_help(level: str) -> str:
    """``--model``'s help at ``level``: each model with its description."""
    load_builtin_models()
    return '; '.join(f"{entry.name}: {entry.description}" for entry in _MODELS[level].values())


def option_readers(level: str) -> Dict[str, Tuple[str, ...]]:
    """Each model-specific option of ``level`` -> the models that read it."""
    load_builtin_models()
    readers: Dict[str, Tuple[str, ...]] = {}
    for entry in _MODELS[level].values():
        for name in entry.options:
            readers[name] = readers.get(name, ()) + (entry.name, )
    return readers
