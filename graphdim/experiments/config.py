"""What every experiment config shares: construction from a dict, the list of seeds, and
:func:`option`, the field that is also a command-line option."""
import statistics
from dataclasses import field, fields
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple


def option(default: Any, help: Optional[str] = None, *, flag: Optional[str] = None,
           choices: Optional[Sequence] = None, metavar: Optional[str] = None):
    """A config field with what its command-line option needs (graphdim.cli.options).

    ``help`` is the option's help text, where ``%(default)s`` stands for ``default``.
    ``flag`` names the option where it is not ``--field-name`` (``--hidden`` for
    ``hidden_channels``). A bool field is a switch: ``--no-field-name`` turns a True
    default off, ``--field-name`` turns a False one on. A field declared without
    :func:`option` is an option too, with no help.
    """
    return field(default=default, metadata={'help': help, 'flag': flag, 'choices': choices,
                                            'metavar': metavar})


class RunConfig:
    """Base of the config dataclasses (node, graph and image experiments)."""
    seeds: int
    seed: int

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


def mean_std(values: Iterable[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of per-seed figures."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
