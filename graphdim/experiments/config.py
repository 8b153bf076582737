"""What every experiment config shares: construction from a dict, the list of seeds, and
:func:`option`, the field that is also a command-line option."""
import math
import statistics
from dataclasses import field, fields
from typing import (Any, ClassVar, Dict, Iterable, List, Optional, Sequence, Tuple, Union,
                    get_args, get_origin, get_type_hints)

from ..registry import model_entry, option_readers


def option(default: Any, help: Optional[str] = None, *, flag: Optional[str] = None,
           choices: Optional[Sequence] = None, metavar: Optional[str] = None,
           minimum: Optional[float] = None, above: Optional[float] = None,
           maximum: Optional[float] = None, below: Optional[float] = None):
    """A config field with what its command-line option needs (graphdim.cli.options).

    ``help`` is the option's help text, where ``%(default)s`` stands for ``default``.
    ``flag`` names the option where it is not ``--field-name`` (``--hidden`` for
    ``hidden_channels``). A bool field is a switch: ``--no-field-name`` turns a True
    default off, ``--field-name`` turns a False one on. A field declared without
    :func:`option` is an option too, with no help. ``minimum`` (``>=``), ``above`` (``>``),
    ``maximum`` (``<=``) and ``below`` (``<``) bound a number; every config checks its values
    against them and its types, every float against the float32 range training computes in,
    every integer against :data:`INT_OPTION_MAX` where it declares no ``maximum``, every
    string and list against a length (:data:`STR_OPTION_MAX`, :data:`LIST_OPTION_MAX`).
    """
    return field(default=default, metadata={'help': help, 'flag': flag, 'choices': choices,
                                            'metavar': metavar, 'minimum': minimum,
                                            'above': above, 'maximum': maximum,
                                            'below': below})


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
    """``repr(value)``, cut to :data:`SHOWN_CHARS` characters: a value from a file, shown
    literally in one error line, however long it is."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS - 3]}..."


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
    unnamed = {**metadata, 'flag': None}
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
    the bounds and choices its fields declare, and that no option is set for a model that
    would not read it (:func:`check_model_options`).
    """
    seeds: int
    seed: int
    # The registry level of the config's ``model`` field (graphdim.registry), where it has one.
    LEVEL: ClassVar[Optional[str]] = None

    def __post_init__(self):
        if self.LEVEL is not None and isinstance(getattr(self, 'model', None), str):
            model_entry(self.LEVEL, self.model)  # an unknown name: the level's models named
        hints = get_type_hints(type(self))
        for f in fields(self):
            setattr(self, f.name, checked_value(f.name, getattr(self, f.name), hints[f.name],
                                                f.metadata))
        if self.LEVEL is not None:
            check_model_options(self, self.LEVEL)
        check_seeds(self)
        check_dependent_options(self)

    @classmethod
    def field_names(cls) -> Tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_dict(cls, values: Dict[str, Any]):
        """The config from option values; unknown keys are an error naming them. Lists
        (from JSON or argparse) become tuples where the field's default is a tuple."""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        tuples = {f.name for f in fields(cls) if isinstance(f.default, tuple)}
        return cls(**{name: tuple(value) if name in tuples and isinstance(value, list) else value
                      for name, value in values.items()})

    def seed_list(self) -> List[int]:
        """``seeds`` consecutive seeds from ``seed``."""
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1; got {self.seeds}")
        return list(range(self.seed, self.seed + self.seeds))


def option_flag(field) -> str:
    """The field's flag: its ``flag``, else ``--name``, or ``--no-name`` for a True bool."""
    if field.metadata.get('flag'):
        return field.metadata['flag']
    name = field.name.replace('_', '-')
    return f'--no-{name}' if field.default is True else f'--{name}'


def check_model_options(config: "RunConfig", level: str) -> None:
    """Refuse options (set away from their defaults) that the chosen ``config.model`` does
    not read but another model of ``level`` does (:func:`graphdim.registry.option_readers`),
    naming them and the models that read them, rather than drop them silently."""
    reads = model_entry(level, config.model).options
    readers = option_readers(level)
    by_name = {f.name: f for f in fields(config)}
    changed = [name for name in readers if name not in reads and name in by_name
               and getattr(config, name) != by_name[name].default]
    if not changed:
        return
    models = list(dict.fromkeys(model for name in changed for model in readers[name]))
    verb, it = ('applies', 'it') if len(changed) == 1 else ('apply', 'them')
    raise ValueError(f"{', '.join(option_flag(by_name[name]) for name in changed)} {verb} to "
                     f"--model {', '.join(models)} only, not {config.model}: drop {it} or "
                     f"choose --model {models[0]}")


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


def _model_reads(config, option: str) -> bool:
    level = type(config).LEVEL
    return level is not None and option in model_entry(level, config.model).options


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
    ('corruption_p', ('corruption', 'model'),
     lambda c: c.corruption != 'row_shuffle' or not _model_reads(c, 'corruption'),
     "acts with --corruption edge_drop or feature_mask only (row_shuffle has no "
     "probability): add --corruption edge_drop or feature_mask, or drop it"),
    ('alpha', ('diffusion', ), lambda c: c.diffusion == 'ppr',
     "is the teleport probability of --diffusion ppr only: drop it, or use --diffusion ppr "
     "(with --diffusion heat, --diffusion-time sets the kernel)"),
    ('diffusion_time', ('diffusion', ), lambda c: c.diffusion == 'heat',
     "is the heat kernel's t, read with --diffusion heat only: add --diffusion heat or drop "
     "it"),
    ('subgraphs', ('sample_size', ), lambda c: c.sample_size > 0,
     "acts with --sample-size N only (subgraphs per step): add --sample-size N or drop it"),
    ('reinforcement', ('hops', ), lambda c: tuple(c.hops) != (0, ),
     "chooses the form of --hops K (its default 0 reinforces nothing): add --hops K or drop "
     "it"),
    ('mlp_epochs', ('probes', ), lambda c: 'mlp' in c.probes,
     "trains the mlp probe only: add --probes linear mlp or drop it"),
)


def check_dependent_options(config: "RunConfig") -> None:
    """Refuse an option set away from its default where it does not act, because the option
    it works with is not set (:data:`DEPENDENT_OPTIONS`): one error naming it and the fix."""
    by_name = {f.name: f for f in fields(config)}
    for name, needs, acts, why in DEPENDENT_OPTIONS:
        if name not in by_name or not all(n in by_name for n in needs):
            continue
        if getattr(config, name) != by_name[name].default and not acts(config):
            raise ValueError(f"{option_flag(by_name[name])} {why}")


def mean_std(values: Iterable[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of per-seed figures."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
