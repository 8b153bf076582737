"""Markdown tables for the benchmarks' printouts and README.md (benchmarks/render_readme.py).

Each benchmark renders its own tables from the JSON it writes, with these helpers, so that
what it prints and what the README shows are one format.
"""
from typing import Iterable, Optional, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """``| a | b |`` lines: the header, the ``| --- |`` rule, one line per row."""
    lines = [header, ['---'] * len(header), *rows]
    return '\n'.join(f"| {' | '.join(str(cell) for cell in line)} |" for line in lines)


def mean_std(mean: float, std: float, digits: int = 2, seeds: Optional[int] = None) -> str:
    """``'82.12 ± 0.48'``; one seed has no spread to show: ``'80.60 (1 seed)'``."""
    if seeds == 1:
        return f"{mean:.{digits}f} (1 seed)"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def mean_std_seeds(mean: float, std: float, seeds: int, digits: int = 2) -> str:
    """``'82.12 ± 0.48 (10)'``: the mean over ``seeds`` seeds; ``'80.60 (1 seed)'``."""
    if seeds == 1:
        return mean_std(mean, std, digits, seeds)
    return f"{mean_std(mean, std, digits)} ({seeds})"
