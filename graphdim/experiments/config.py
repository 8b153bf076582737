"""What every experiment config shares: construction from a dict and the list of seeds."""
import statistics
from dataclasses import fields
from typing import Any, Dict, Iterable, List, Tuple


class RunConfig:
    """Base of the config dataclasses (node, graph and image experiments)."""
    seeds: int
    seed: int

    @classmethod
    def from_dict(cls, values: Dict[str, Any]):
        """The config from option values; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**values)

    def seed_list(self) -> List[int]:
        """``seeds`` consecutive seeds from ``seed``."""
        if self.seeds < 1:
            raise ValueError(f"seeds must be >= 1; got {self.seeds}")
        return list(range(self.seed, self.seed + self.seeds))


def mean_std(values: Iterable[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) of per-seed figures."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
