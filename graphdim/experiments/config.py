"""What every experiment config shares: construction from a dict, the checks of its values
and of its model's options, the list of seeds, and :func:`option` (declared in
:mod:`graphdim.registry`, where model files declare their options with it), the field that
is also a command-line option."""
import dataclasses
import math
import statistics
from dataclasses import field, fields
from typing import (Any, ClassVar, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple,
                    Union, get_args, get_origin, get_type_hints)

# option: the configs below and the model files declare their fields with it.
from ..graph.checks import shown as shown_literally
from ..registry import (MODEL_OPTIONS, model_entry, model_names, model_option_fields,
                        nested_options, option, option_readers)  # noqa: F401


# The largest float32: a larger option value (--lr 1e300) overflows once it meets a tensor.
FLOAT32_MAX = 3.4028234663852886e+38
# numpy's seeds: every seed of a run (seed .. seed + seeds - 1) must be one.
SEED_MAX = 2 ** 32 - 1
MAX_SEEDS = 10_000
# The largest integer option where a field declares no maximum: a count torch and numpy take
# as a C int (--batch-size 2**63 overflowed their int64 with "Overflow when unpacking long
# long"), far above any count a run can use.
INT_OPTION_MAX = 2 ** 31 - 1
# The largest learning rate and weight decay: Adam's first step moves each weight by up to
# about 10 x lr (bias correction), and weight decay adds weight_decay x w to each gradient, so
# above this weights and gradients leave the float32 range within a few steps (--lr 1e38:
# "value cannot be converted to type float without overflow"); recipes use 1e-5 to 1e-1.
OPTIMIZER_RATE_MAX = 1e6
# The longest string option (PATH_MAX: every string option is a name or a path) and list.
STR_OPTION_MAX = 4096
LIST_OPTION_MAX = 100
# How much of a refused value an error line shows.
SHOWN_CHARS = 80


def shown(value: Any) -> str:
    """A value from a file or the command line as one error line shows it: literally, cut to
    about :data:`SHOWN_CHARS` characters (graphdim.graph.checks.shown)."""
    return shown_literally(value, SHOWN_CHARS)


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _allowed_types(annotation) -> Tuple[Tuple[type, ...], bool]:
    """``(types, optional)`` a field's annotation admits (``Optional[X]``, ``Tuple[str, ...]``)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    optional = get_origin(annotation) is Union and type(None) in get_args(annotation)
    if optional:
        annotation = args[0]
    origin = get_origin(annotation)
    return ((origin, ) if origin is not None else (annotation, )), optional


def checked_value(name: str, value: Any, annotation, metadata) -> Any:
    """``value`` if it fits the field (an int is taken for a float), else a ``ValueError``
    naming the field, the value (:func:`shown`) and what it must be."""
    types, optional = _allowed_types(annotation)
    if value is None and optional:
        return value
    flag = metadata.get('flag') or '--' + name.replace('_', '-')
    if flag != f'--{name}' and types[0] is not bool:  # a switch's flag depends on its default
        name = f'{name} ({flag})'  # the option as typed, too
    kind = types[0]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is tuple and isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        what = {bool: 'true or false', int: 'an integer', float: 'a number', str: 'a string',
                tuple: 'a list'}.get(kind, kind.__name__)
        raise ValueError(f"{name} must be {what}" + (" or null" if optional else "")
                         + f"; got {shown(value)} ({type(value).__name__})")
    if kind is tuple:  # Tuple[X, ...]: each element is checked as an X (choices, bounds)
        return _checked_list(name, value, annotation, optional, metadata)
    if kind is str:
        return _checked_string(name, value, metadata.get('choices'))
    if kind is float and not math.isfinite(value):  # NaN passes every comparison below
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if kind is float and abs(value) > FLOAT32_MAX:
        raise ValueError(f"{name} must be within the float32 range training computes in "
                         f"(|value| <= {FLOAT32_MAX:.4g}); got {value!r}")
    if kind in (int, float):
        _check_bounds(name, value, metadata, INT_OPTION_MAX if kind is int else None)
    return value


def _checked_list(name: str, value: tuple, annotation, optional: bool, metadata) -> tuple:
    element = [a for a in get_args(annotation) if a is not type(None)]
    element = get_args(element[0]) if optional else get_args(annotation)
    if not value:
        raise ValueError(f"{name} must be a non-empty list; got []")
    if len(value) > LIST_OPTION_MAX:
        raise ValueError(f"{name} must be a list of at most {LIST_OPTION_MAX} values; got "
                         f"{shown(list(value))} ({len(value)} values)")
    unnamed = {**metadata, 'flag': f'--{name}'}  # `name` names the flag already: not twice
    return tuple(checked_value(name, v, element[0], unnamed) for v in value)


def _checked_string(name: str, value: str, choices) -> str:
    if choices and value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}; got "
                         f"{shown(value)}")
    if len(value) > STR_OPTION_MAX:
        raise ValueError(f"{name} must be at most {STR_OPTION_MAX} characters; got "
                         f"{shown(value)} ({len(value)} characters)")
    return value


def _check_bounds(name: str, value: float, metadata, default_maximum) -> None:
    """The field's ``minimum``, ``above``, ``maximum`` (else ``default_maximum``), ``below``."""
    high = metadata.get('maximum')
    high = default_maximum if high is None else high
    for bound, holds, relation in (
            (metadata.get('minimum'), lambda b: value >= b, '>='),
            (metadata.get('above'), lambda b: value > b, '>'),
            (high, lambda b: value <= b, '<='),
            (metadata.get('below'), lambda b: value < b, '<')):
        if bound is not None and not holds(bound):
            raise ValueError(f"{name} must be {relation} {_number(bound)}; got {value!r}")


class RunConfig:
    """Base of the config dataclasses (node, graph and image experiments).

    Every config checks its values on construction, from the command line, a ``--config``
    file, a preset or Python alike: types (``"false"`` is not a bool, ``2.5`` not an int),
    the bounds and choices its fields declare. A level's config (``LEVEL``) holds its model's
    options in ``model_options``, an instance of the model's options class
    (:mod:`graphdim.registry`), checked the same way; an option of another model is refused,
    naming the models that read it (:func:`refuse_other_models_options`).
    """
    seeds: int
    seed: int
    # The registry level of the config's ``model`` field (graphdim.registry), where it has one.
    LEVEL: ClassVar[Optional[str]] = None
    # The level's settings that every model reads: given to the model's ``build`` as keywords.
    MODEL_ARGUMENTS: ClassVar[Tuple[str, ...]] = ()
    # Those of them whose default is the model's: left None, a setting takes the value its
    # model's options class gives in its SHARED_DEFAULTS, else the level's value here.
    MODEL_DEFAULTS: ClassVar[Dict[str, Any]] = {}

    def __post_init__(self):
        if self.LEVEL is not None and isinstance(getattr(self, 'model', None), str):
            options = model_entry(self.LEVEL, self.model).options  # unknown: the models named
            own = getattr(options, 'SHARED_DEFAULTS', {})
            for name, default in self.MODEL_DEFAULTS.items():
                if getattr(self, name) is None:
                    setattr(self, name, own.get(name, default))
        hints = get_type_hints(type(self))
        for f in fields(self):
            if f.name != MODEL_OPTIONS:
                setattr(self, f.name, checked_value(f.name, getattr(self, f.name),
                                                    hints[f.name], f.metadata))
        if self.LEVEL is not None:
            self.model_options = checked_model_options(self.LEVEL, self.model,
                                                       self.model_options)
        check_seeds(self)
        check_dependent_options(self)

    @classmethod
    def field_names(cls) -> Tuple[str, ...]:
        """The level's own options (``model_options`` holds the model's)."""
        return tuple(f.name for f in fields(cls) if f.name != MODEL_OPTIONS)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]):
        """The config from option values, its model's options flat beside the level's (the
        command line, a preset, a ``--config`` file, a run of older graphdim) or under
        ``model_options`` (a run's ``config.json``); unknown keys are an error naming them.
        Lists (from JSON or argparse) become tuples where the field's default is a tuple."""
        model = values.get('model', cls.default_model())
        if cls.LEVEL is not None and isinstance(model, str):
            model_entry(cls.LEVEL, model)  # an unknown name: the level's models named
            values = nested_options(cls.LEVEL, values)
            refuse_other_models_options(cls.LEVEL, model, set(values) - set(cls.field_names()))
        unknown = sorted(set(values) - set(cls.field_names()) - {MODEL_OPTIONS})
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        tuples = {f.name for f in fields(cls) if isinstance(f.default, tuple)}
        return cls(**{name: tuple(value) if name in tuples and isinstance(value, list) else value
                      for name, value in values.items()})

    @classmethod
    def default_model(cls) -> Optional[str]:
        return next((f.default for f in fields(cls) if f.name == 'model'), None)

    def model_arguments(self) -> Dict[str, Any]:
        """The level's settings every model reads (:attr:`MODEL_ARGUMENTS`), by name."""
        return {name: getattr(self, name) for name in self.MODEL_ARGUMENTS}

    def build_model(self, in_channels: int):
        """The model this config describes, built by its registry entry."""
        entry = model_entry(self.LEVEL, self.model)
        return entry.build(self.model_options, in_channels, **self.model_arguments())

    def seed_list(self) -> List[int]:
        """``seeds`` consecutive seeds from ``seed``."""
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1; got {self.seeds}")
        return list(range(self.seed, self.seed + self.seeds))


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


def model_options_field():
    """The ``model_options`` field of a level's config: its model's options class, a dict of
    them, or None (the model's defaults); an instance of the options class once made."""
    return field(default=None, metadata={'help': None})


def option_flag(field) -> str:
    """The field's flag: its ``flag``, else ``--name``, or ``--no-name`` for a True bool."""
    if field.metadata.get('flag'):
        return field.metadata['flag']
    name = field.name.replace('_', '-')
    return f'--no-{name}' if field.default is True else f'--{name}'


def checked_model_options(level: str, model: str, options: Any) -> Any:
    """``options`` (None, a dict, or an instance of ``model``'s options class) as a checked
    instance of that class: every value checked as a config's (:func:`checked_value`), and
    the options that act only with another (its ``DEPENDENT_OPTIONS``)."""
    options_class = model_entry(level, model).options
    if options is None or isinstance(options, dict):
        given = dict(options or {})
        own = {f.name for f in fields(options_class)}
        refuse_other_models_options(level, model, set(given) - own)
        unknown = sorted(set(given) - own)
        if unknown:
            raise ValueError(f"unknown options of --model {model}: {', '.join(map(shown, unknown))}"
                             f" (its options: {', '.join(sorted(own)) or 'none'})")
        options = options_class(**given)
    elif type(options) is not options_class:
        raise ValueError(f"model_options must be --model {model}'s options "
                         f"({options_class.__name__}) or a dict of them; got {shown(options)}")
    hints = get_type_hints(options_class)
    options = dataclasses.replace(options, **{
        f.name: checked_value(f.name, getattr(options, f.name), hints[f.name], f.metadata)
        for f in fields(options) if f.init})
    check_dependent_options(options, getattr(options_class, 'DEPENDENT_OPTIONS', ()))
    return options


def refuse_other_models_options(level: str, model: str, names: Iterable[str]) -> None:
    """Refuse the options of ``names`` that ``model`` does not read but another model of
    ``level`` does (:func:`graphdim.registry.option_readers`), naming them and the models that
    read them, rather than drop them silently."""
    readers = option_readers(level)
    names = set(names)  # named below in the order the models declare them
    foreign = [name for name in readers if name in names and model not in readers[name]]
    if not foreign:
        return
    declared = model_option_fields(level)
    models = list(dict.fromkeys(reader for name in foreign for reader in readers[name]))
    verb, it = ('applies', 'it') if len(foreign) == 1 else ('apply', 'them')
    raise ValueError(f"{', '.join(option_flag(declared[name]) for name in foreign)} {verb} to "
                     f"--model {', '.join(models)} only, not {model}: drop {it} or choose "
                     f"--model {models[0]}")


def check_seeds(config: "RunConfig") -> None:
    """Every seed of the run (``seed`` .. ``seed + seeds - 1``) must be one numpy takes:
    checked with the config, before a run folder is cleared, not at the first seed."""
    if config.seeds > MAX_SEEDS:  # each seed is a whole training run
        raise ValueError(f"--seeds must be at most {MAX_SEEDS}; got {config.seeds}")
    last = config.seed + config.seeds - 1
    if config.seed < 0 or last > SEED_MAX:
        raise ValueError(f"--seed must be between 0 and 2**32 - 1 ({SEED_MAX}), and so must "
                         f"every seed of the run (--seed + --seeds - 1); got --seed "
                         f"{config.seed} with --seeds {config.seeds}")


# Options that act only together with another: (option, the fields the rule reads, whether
# the option acts, what it needs and the fix). Set away from its default while it does not
# act, an option is refused (issue 27), never silently ignored.
DEPENDENT_OPTIONS = (
    ('features', ('graph', ), lambda c: c.graph is not None,
     "is read with --graph FILE only (the features of your own graph): add --graph FILE or "
     "drop it"),
    ('labels', ('graph', ), lambda c: c.graph is not None,
     "is read with --graph FILE only (the labels of your own graph): add --graph FILE or "
     "drop it"),
    ('label_names', ('labels', ), lambda c: c.labels is not None,
     "names the classes of --labels only: add --graph FILE --labels FILE or drop it"),
    ('missing_features', ('graph', ), lambda c: c.graph is not None,
     "is read with --graph FILE only (features for your own graph when it has none): add "
     "--graph FILE or drop it"),
    ('missing_features', ('features', ), lambda c: c.features is None,
     "makes features for a graph that has none, and --features FILE gives its features: "
     "drop one of them"),
    ('dataset', ('graph', ), lambda c: c.graph is None,
     "and --graph FILE both name the graph to train on: give one of them"),
    ('reinforcement', ('hops', ), lambda c: tuple(c.hops) != (0, ),
     "chooses the form of --hops K (its default 0 reinforces nothing): add --hops K or drop "
     "it"),
    ('mlp_epochs', ('probes', ), lambda c: 'mlp' in c.probes,
     "trains the mlp probe only: add --probes linear mlp or drop it"),
    ('validate_every', ('choose_epoch', ), lambda c: c.choose_epoch == 'validation',
     "acts with --choose-epoch validation only (how often the probe scores an epoch): add "
     "--choose-epoch validation or drop it"),
    ('probe_lr', ('probe_optimizer', ), lambda c: c.probe_optimizer == 'adam',
     "is the Adam probe's rate: add --probe-optimizer adam or drop it"),
    ('probe_epochs', ('probe_optimizer', ), lambda c: c.probe_optimizer == 'adam',
     "are the Adam probe's steps: add --probe-optimizer adam or drop it"),
    ('choose_epoch', ('distributed', ), lambda c: not c.distributed,
     "validation probes the whole graph in one process, not under --distributed: use "
     "--choose-epoch loss there, or drop --distributed"),
)


def check_dependent_options(config, rules: Sequence[tuple] = DEPENDENT_OPTIONS) -> None:
    """Refuse an option of ``config`` (a level's config, or a model's options with their
    ``DEPENDENT_OPTIONS``) set away from its default where it does not act, because the option
    it works with is not set (``rules``, as :data:`DEPENDENT_OPTIONS`): one error naming it
    and the fix."""
    by_name = {f.name: f for f in fields(config)}
    for name, needs, acts, why in rules:
        if name not in by_name or not all(n in by_name for n in needs):
            continue
        if getattr(config, name) != by_name[name].default and not acts(config):
            raise ValueError(f"{option_flag(by_name[name])} {why}")


def mean_std(values: Iterable[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of per-seed figures."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
