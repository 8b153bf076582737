"""The model registry: what graphdim needs to know of each DIM model, in one entry per model.

Each model file declares its options next to the model (a dataclass of :func:`option` fields:
help, default, bounds, choices, the range a recipe search may try) and ends with
``register_model(ModelEntry(...))``. The ``--model`` choices, each model's group of options,
the refusal of an option given to a model that does not read it, model building, reloading
saved runs and the printed summary all come from here, so ``experiments/`` and ``cli/`` name
no model. Models of other packages register through the ``graphdim.models`` entry point group
(:func:`load_plugin_models`), loaded after graphdim's own (``docs/tutorials/your-own-model.md``).

This module imports nothing else of graphdim when it loads: model files import it, not the
other way. graphdim's own models register when the registry is first read or added to
(:func:`load_builtin_models`), so they are there, first, whoever asks.
"""
import dataclasses
import importlib
import importlib.metadata
import math
import typing
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

LEVELS = ('node', 'graph')
# Where a config (a run's config.json) holds its model's options: {"model": "ggd",
# "model_options": {"encoder": "gcn", "drop_feature_p": 0.2, "mask_clean": true}, ...}.
MODEL_OPTIONS = 'model_options'
# The entry point group of models from other packages.
PLUGIN_GROUP = 'graphdim.models'
# What a model's option may not be called: the training command's own options.
COMMAND_OPTIONS = ('out', 'overwrite', 'json', 'quiet', 'plot', 'tensorboard', 'config',
                   'preset', 'level', 'help', 'model', MODEL_OPTIONS)


def option(default: Any, help: Optional[str] = None, *, flag: Optional[str] = None,
           choices: Optional[Sequence] = None, metavar: Optional[str] = None,
           minimum: Optional[float] = None, above: Optional[float] = None,
           maximum: Optional[float] = None, below: Optional[float] = None,
           search: Any = None, formerly: Sequence[str] = ()):
    """A config field (a level config's, or a model's option) with what its command-line
    option needs (graphdim.cli.options). ``help``: the option's help, ``%(default)s`` standing
    for ``default``. ``flag``: where it is not ``--field-name`` (``--hidden``). A bool field is
    a switch (``--no-field-name`` turns a True default off, ``--field-name`` a False one on).
    ``minimum`` (``>=``), ``above`` (``>``), ``maximum`` (``<=``), ``below`` (``<``) bound a
    number; a config checks every value against them, its type and lengths
    (graphdim.experiments.config). ``search``: what a recipe search may try, a list of values or
    ``{'low': L, 'high': H}`` (``'log': True``: log-uniform; ``'step': S``: a grid) inside the
    bounds. ``formerly``: older names of a model's option, read from older configs as it."""
    formerly = (formerly, ) if isinstance(formerly, str) else tuple(formerly)
    return field(default=default, metadata={'help': help, 'flag': flag, 'choices': choices,
                                            'metavar': metavar, 'minimum': minimum,
                                            'above': above, 'maximum': maximum,
                                            'below': below, 'search': search,
                                            'formerly': formerly})


@dataclass
class NoOptions:
    """The options of a model that reads none beyond its level's shared ones."""


@dataclass(frozen=True)
class ModelEntry:
    """One DIM model as the rest of graphdim sees it.

    Args:
        name: the ``--model`` value (``'dgi'``).
        level: ``'node'`` (node embeddings) or ``'graph'`` (graph embeddings).
        description: one line for ``--model``'s help and the title of its options' group.
        build: ``build(options, in_channels, **shared) -> torch.nn.Module`` with
            ``training_loss(batch)`` and ``embed(batch)`` (:func:`graphdim.fit`'s
            interface); used for training and for reloading saved runs. ``options`` is an
            instance of ``options``; ``shared`` the level's settings every model reads, read
            once by the level: ``hidden_channels``, ``num_layers``, ``estimator`` and, at node
            level, ``activation`` (take the ones you use and ``**shared``).
        options: the model's options, a dataclass of ``graphdim.registry.option`` fields:
            each is a command-line option in the model's group and a key of the config's
            ``model_options``; given for another model, it is refused, naming the models
            that read it. Two models may declare the same option where it means the same.
        recipe: ``recipe(config) -> str``, the model's settings as the run summary prints
            them after the model's title (``'gcn x1 512, sigmoid_mean, row_shuffle, bce'``);
            ``config`` holds the level's options and the model's in one dict.
        title: the model's printed name (default: ``name`` in capitals).
        minibatch: node level: ``minibatch(model) -> module`` whose ``training_loss`` takes
            a batch of graphdim's neighbourhood loader (its first ``batch_size`` nodes are the
            seeds), or None where the model trains on whole graphs only (``--batch-size`` and
            ``--distributed`` are then refused).
        prepare: graph level: ``prepare(options, dataset) -> dataset``, what the model needs
            added to every graph once (a diffusion view), or None.
        presets: ``--preset`` names of the model's recipes: name -> option values (the
            model is implied), as ``graphdim.presets`` has them.
    """
    name: str
    level: str
    description: str
    build: Callable[..., Any]
    options: type = NoOptions
    recipe: Callable[[Dict[str, Any]], str] = lambda config: ''
    title: Optional[str] = None
    minibatch: Optional[Callable[[Any], Any]] = None
    prepare: Optional[Callable[[Any, Any], Any]] = None
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    @property
    def printed_name(self) -> str:
        return self.title or self.name.upper()


_MODELS: Dict[str, Dict[str, ModelEntry]] = {level: {} for level in LEVELS}
# Importing this package registers graphdim's own models (their files: torch and PyG), each
# level's default first.
BUILTIN_MODELS = 'graphdim.graph.models'
_builtins_started = _builtins_registered = _configs_started = False


def load_builtin_models() -> None:
    """Register graphdim's own models, then (once their package has loaded) read the configs,
    which load the models of other packages (:func:`declare_config_fields`), once. ``import
    graphdim`` loads no model (no torch), so every reader of the registry calls this first; a
    model file registering while they load finds them loading and adds itself in order."""
    global _builtins_started, _configs_started
    if not _builtins_started:
        _builtins_started = True
        try:
            importlib.import_module(BUILTIN_MODELS)
        except BaseException:
            _builtins_started = False  # a failed import is tried again by the next reader
            raise
    if _builtins_registered and not _configs_started:
        # The configs declare the levels' own fields (which no model's option may be called);
        # imported only once every built-in model is registered (a config's default model).
        _configs_started = True
        try:
            importlib.import_module('graphdim.experiments')
        except BaseException:
            _configs_started = False
            raise


def builtin_models_registered() -> None:  # by BUILTIN_MODELS, once all are registered
    global _builtins_registered
    _builtins_registered = True


class PluginWarning(UserWarning):  # a package of the entry point group could not be loaded
    pass


_plugins_started = False


def load_plugin_models(points: Optional[Sequence] = None) -> None:
    """Register the models of every ``graphdim.models`` entry point, once (or of ``points``,
    entry points given): it names a module whose import registers its models, a
    :class:`ModelEntry`, or a list of them. One that fails is one :class:`PluginWarning`
    naming it; graphdim's own models and the others still load. Called once both levels'
    configs exist (:func:`declare_config_fields`), after graphdim's own models: a plugin
    imports a complete graphdim and is never a level's default."""
    global _plugins_started
    if points is None:
        if _plugins_started:
            return
        _plugins_started = True
        found = importlib.metadata.entry_points()
        points = found.select(group=PLUGIN_GROUP) if hasattr(found, 'select') \
            else found.get(PLUGIN_GROUP, ())
    for point in points:
        try:
            loaded = point.load()
            entries = [loaded] if isinstance(loaded, ModelEntry) else \
                list(loaded) if isinstance(loaded, (list, tuple)) else []
            for entry in entries:
                if _MODELS.get(getattr(entry, 'level', None), {}).get(entry.name) is not entry:
                    register_model(entry)
        except Exception as error:  # anything a package of someone else's may raise
            reason = (str(error).splitlines() or [''])[0][:200] or type(error).__name__
            warnings.warn(f"the model plugin {point.name!r} ({point.value}) could not be "
                          f"loaded, so its models are not available: {reason}",
                          PluginWarning, stacklevel=2)


# Each level's config fields, which a model's option may not be called (declared by
# graphdim.experiments once its configs exist; checked for the models registered so far).
_CONFIG_FIELDS: Dict[str, Tuple[str, ...]] = {}


def declare_config_fields(level: str, names: Sequence[str]) -> None:
    """Declare the config fields of ``level`` and check the models registered so far."""
    _CONFIG_FIELDS[level] = tuple(names)
    for entries in _MODELS.values():
        for entry in entries.values():
            _check_options(entry)
    if all(known in _CONFIG_FIELDS for known in LEVELS):
        load_plugin_models()


def register_model(entry: ModelEntry, replace: bool = False) -> ModelEntry:
    """Add ``entry`` to its level's models (``replace=True`` to redefine a name).

    Refused with a ValueError naming the field: a ``build`` (or ``recipe``, ``minibatch``,
    ``prepare``) that is not callable, ``options`` that are not a dataclass of options with
    defaults, an option named like a level's config field or declared otherwise by another
    model, and a ``search`` outside the option's bounds or choices."""
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
    _check_options(entry)
    _check_presets(entry)
    if entry.name in _MODELS[entry.level] and not replace:
        raise ValueError(f"a {entry.level}-level model {entry.name!r} is registered already; "
                         f"pass replace=True to redefine it")
    _MODELS[entry.level][entry.name] = entry
    return entry


def _check_options(entry: ModelEntry) -> None:
    options = entry.options
    if not (isinstance(options, type) and dataclasses.is_dataclass(options)):
        raise ValueError(f"model {entry.name!r}: options must be a dataclass of option(...) "
                         f"fields (graphdim.registry.option); got {options!r}")
    hints = typing.get_type_hints(options)
    taken = {name for names in _CONFIG_FIELDS.values() for name in names} | set(COMMAND_OPTIONS)
    for f in dataclasses.fields(options):
        where = f"model {entry.name!r}: option {f.name!r}"
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where} needs a default (option(default, ...))")
        if f.name in taken:
            raise ValueError(f"{where} is named like an option every model shares or the "
                             f"command's own (--{f.name.replace('_', '-')}); name it otherwise")
        for other in (e for level in LEVELS for e in _MODELS[level].values()):
            same = {g.name: g for g in dataclasses.fields(other.options)}.get(f.name)
            if (other.level, other.name) != (entry.level, entry.name) and same is not None and \
                    _declared(same, typing.get_type_hints(other.options)) != _declared(f, hints):
                raise ValueError(f"{where} is declared otherwise by --model {other.name} "
                                 f"(type, default, flag or choices): give it another name, "
                                 f"or declare it as {other.name} does")
        _check_search(where, f, hints[f.name])


def _check_presets(entry: ModelEntry) -> None:
    # (A name graphdim's own presets hold is refused where they meet: presets.all_presets.)
    others = {name for level in LEVELS for other in _MODELS[level].values()
              if (other.level, other.name) != (entry.level, entry.name) for name in other.presets}
    presets = entry.presets if isinstance(entry.presets, Mapping) else {repr(entry.presets): 0}
    for name, values in presets.items():
        if not isinstance(name, str) or not isinstance(values, Mapping) or name in others:
            raise ValueError(f"model {entry.name!r}: presets must map new preset names to "
                             f"option values; {name!r} is taken or not a name")


def _declared(f, hints) -> tuple:
    choices = f.metadata.get('choices')
    return (hints[f.name], f.default, f.metadata.get('flag'),
            None if choices is None else tuple(choices))


def _check_search(where: str, f, hint) -> None:
    """``f``'s ``search``: a non-empty list of values (of its choices, if it has some), or a
    numeric range inside its bounds."""
    search, meta = f.metadata.get('search'), f.metadata
    if search is None:
        return
    if isinstance(search, (list, tuple)):
        choices = meta.get('choices')
        if search and not (choices and any(value not in choices for value in search)):
            return
    elif isinstance(search, dict) and set(search) <= {'low', 'high', 'log', 'step'}:
        low, high = search.get('low'), search.get('high')
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                      and math.isfinite(v) for v in (low, high))
        if numbers and hint in (int, float) and low < high and \
                (not search.get('log') or low > 0) and _inside(low, high, meta):
            return
    raise ValueError(f"{where}: search must be a non-empty list of its values or "
                     f"{{'low': L, 'high': H}} (optional 'log': True, 'step': S) inside its "
                     f"bounds; got {search!r}")


def _inside(low: float, high: float, meta) -> bool:
    return all(bound is None or holds(bound) for bound, holds in (
        (meta.get('minimum'), lambda b: low >= b), (meta.get('above'), lambda b: low > b),
        (meta.get('maximum'), lambda b: high <= b), (meta.get('below'), lambda b: high < b)))


def unregister_model(level: str, name: str) -> None:  # tests remove the toy models they add
    _MODELS[level].pop(name, None)


def model_names(level: str) -> Tuple[str, ...]:
    """The registered models of ``level``, in registration order (the default first)."""
    load_builtin_models()
    return tuple(_MODELS[level])


def model_entries(level: str) -> Tuple[ModelEntry, ...]:  # in registration order
    load_builtin_models()
    return tuple(_MODELS[level].values())


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


def models_help(level: str) -> str:
    """``--model``'s help at ``level``: each model with its description."""
    return '; '.join(f"{entry.name}: {entry.description}" for entry in model_entries(level))


def option_readers(level: str) -> Dict[str, Tuple[str, ...]]:
    """Each model option of ``level`` -> the models that read it."""
    readers: Dict[str, Tuple[str, ...]] = {}
    for entry in model_entries(level):
        for f in dataclasses.fields(entry.options):
            readers[f.name] = readers.get(f.name, ()) + (entry.name, )
    return readers


def model_option_fields(level: str) -> Dict[str, dataclasses.Field]:
    """Each model option of ``level`` -> its declaration (the first model's that declares it:
    models declare a shared option alike)."""
    declared: Dict[str, dataclasses.Field] = {}
    for entry in model_entries(level):
        for f in dataclasses.fields(entry.options):
            declared.setdefault(f.name, f)
    return declared


def search_space(level: str, name: str) -> Dict[str, Any]:
    """What a recipe search tries of model ``name``: option -> its ``search`` (:func:`option`)."""
    declared = dataclasses.fields(model_entry(level, name).options)
    return {f.name: f.metadata['search'] for f in declared if f.metadata.get('search') is not None}


def flat_options(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A config dict with its ``model_options`` beside the level's options, in one dict (as
    the command line names them, and as a model's ``recipe`` reads them)."""
    nested = config.get(MODEL_OPTIONS)
    flat = {key: value for key, value in config.items() if key != MODEL_OPTIONS}
    return {**flat, **nested} if isinstance(nested, dict) else dict(config)


def nested_options(level: str, config: Mapping[str, Any]) -> Dict[str, Any]:
    """A config dict (its model named, else the level's default) with the model's options
    under ``model_options``: the layout a run's ``config.json`` has. A flat dict (a run of
    graphdim before models owned their options, a ``--config`` file, a preset, the command
    line) is converted: the model's options and their older names (``formerly``) move under
    ``model_options``; another model's, left at that model's default, are dropped (older
    runs recorded every model's); the rest stays, for the config to take or refuse."""
    model = config['model'] if 'model' in config else model_names(level)[0]
    if not isinstance(model, str) or model not in model_names(level):
        return dict(config)  # the config refuses it, naming the choices
    own = {f.name: f for f in dataclasses.fields(model_entry(level, model).options)}
    older = {old: f.name for f in own.values() for old in f.metadata.get('formerly', ())}
    nested = config.get(MODEL_OPTIONS, {})
    if not isinstance(nested, dict):
        return dict(config)  # the config refuses it, naming its type
    given, kept, fields = dict(nested), {}, model_option_fields(level)
    for key, value in config.items():
        name = key if key in own else older.get(key)
        if key == MODEL_OPTIONS or (name is None and key in fields and
                                    _is_default(value, fields[key])):
            continue
        if name is None:
            kept[key] = value
            continue
        if name != key and (name in config or name in nested):
            raise ValueError(f"{key} is the older name of --model {model}'s {name}: give "
                             f"one of them")
        given[name] = value
    return {**kept, MODEL_OPTIONS: given}


def _is_default(value: Any, f: dataclasses.Field) -> bool:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    plain = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731  (JSON lists)
    return plain(value) == plain(default)
