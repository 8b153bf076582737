"""Numeric files a graph of your own comes with: a feature matrix and labels, as ``.npy``,
``.pt`` (one plain tensor) or text / ``.csv`` (one row per node).

Every failure is a :class:`~graphdim.graph.checks.GraphInputError` naming the file (for text,
the line and column) and what it should hold, never repeating the file's content: a file may
have been named by a run folder from elsewhere, and a bad line may be 10 MB long.
"""
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..graph.checks import GraphInputError


_FORMATS = ("give a .npy array, a .pt file holding one tensor (torch.save(tensor, path)), or "
            "numbers as text / .csv with one row per node")


def read_matrix(path: Path, what: str) -> np.ndarray:
    """A numeric matrix from ``.npy``, ``.pt`` (a plain tensor) or text; any failure is a
    :class:`GraphInputError` naming the file (and for text, the line) and what it should
    hold, never repeating the file's content."""
    if not path.is_file():
        raise GraphInputError(f"{what} file {path} not found" + (
            " (it is a directory; give the file inside it)" if path.is_dir() else ""))
    if path.suffix not in ('.npy', '.pt'):
        return _read_text_matrix(path, what)
    try:
        if path.suffix == '.npy':
            return np.load(path, allow_pickle=False)
        tensor = torch.load(path, weights_only=True)
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"it holds a {type(tensor).__name__}, not a tensor")
        return tensor.numpy()
    except Exception as error:  # numpy, torch and pickle each raise their own types
        raise GraphInputError(f"{path}: not a readable {what} file ({short_reason(error)}); "
                              f"{_FORMATS}") from None


def short_reason(error: BaseException, limit: int = 100) -> str:
    """An error's first line, cut to ``limit`` characters: a parser's message may quote the
    file, and a file named by a run folder from elsewhere is not to be shown."""
    text = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[:limit] + '...'


def _read_text_matrix(path: Path, what: str) -> np.ndarray:
    delimiter = ',' if path.suffix == '.csv' else None
    try:
        return np.loadtxt(path, delimiter=delimiter, ndmin=2)
    except ValueError:  # numpy's message quotes the bad field (a line of any length)
        problem = _text_matrix_problem(path, delimiter)
    except Exception as error:  # unreadable: permissions, a device
        problem = short_reason(error)
    raise GraphInputError(f"{path}: not a readable {what} file ({problem}); {_FORMATS}")


def _text_matrix_problem(path: Path, delimiter: Optional[str]) -> str:
    """Where a text matrix stops being one: the line and column, not what they hold."""
    columns = None
    with open(path, 'rb') as lines:
        for number, raw in enumerate(lines, start=1):
            try:
                line = raw.decode('utf-8-sig' if number == 1 else 'utf-8')
            except UnicodeDecodeError:
                return f"line {number} is not UTF-8 text"
            fields = line.split('#', 1)[0].strip().split(delimiter)
            if fields in ([], ['']):
                continue
            if columns is not None and len(fields) != columns:
                return (f"line {number} has {len(fields)} column(s) where the lines before "
                        f"it have {columns}")
            columns = len(fields)
            for column, text in enumerate(fields, start=1):
                try:
                    float(text)
                except ValueError:
                    return f"line {number}, column {column} is not a number"
    return "not numbers in rows and columns"


def read_labels(path: Path, num_nodes: int) -> torch.Tensor:
    """Class indices ``0..C-1``, one per node: float values must be whole numbers."""
    values = read_matrix(path, 'labels')
    if values.ndim > 2 or (values.ndim == 2 and 1 not in values.shape):
        raise GraphInputError(f"{path}: labels must be one class index per node (a single "
                              f"column); it holds shape {list(values.shape)}: give the "
                              f"column of labels alone")
    values = values.reshape(-1)
    if values.size != num_nodes:
        raise GraphInputError(f"{path}: {values.size} labels for {num_nodes} nodes")
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise GraphInputError(f"{path}: labels must be numbers (class indices); it holds "
                              f"{values.dtype}")
    fractional = ~np.isfinite(values) | (values != np.round(values))
    if fractional.any():
        raise GraphInputError(f"{path}: labels must be whole numbers (class indices); found "
                              f"{values[fractional][0]}")
    if values.min() < 0:
        raise GraphInputError(f"{path}: labels must be class indices 0..C-1; found "
                              f"{int(values.min())} (give unlabelled nodes a class, or leave "
                              f"out --labels)")
    if values.max() >= 2 ** 62:
        raise GraphInputError(f"{path}: labels must be class indices 0..C-1; found "
                              f"{values.max():g}")
    labels = values.astype(np.int64)
    distinct = np.unique(labels).size
    if int(labels.max()) > 10 * distinct + 1000:  # a classifier allocates one row per id
        raise GraphInputError(f"{path}: labels must be class indices 0..C-1; they run to "
                              f"{int(labels.max())} but only {distinct} distinct values "
                              f"appear: renumber the classes 0..{distinct - 1}")
    return torch.from_numpy(labels)



def read_features(path: Path) -> torch.Tensor:
    x = read_matrix(path, 'features')
    if x.ndim != 2:
        raise GraphInputError(f"{path}: features must be a 2-D matrix [num_nodes, "
                              f"num_features]; it holds shape {list(x.shape)} (one feature "
                              f"per node: reshape it to [N, 1])")
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise GraphInputError(f"{path}: features must be numbers; it holds {x.dtype}")
    if np.iscomplexobj(x):  # float32 would keep the real part alone, without a word
        raise GraphInputError(f"{path}: features must be real numbers; it holds {x.dtype} "
                              f"(split the real and imaginary parts into columns of their own)")
    return torch.from_numpy(x.astype(np.float32))


# Edge weights below float32's smallest normal number become 0 or lose their digits there.
SMALLEST_WEIGHT = float(np.finfo(np.float32).tiny)
WEIGHT_UNDERFLOW = (f"below float32's smallest normal number, {SMALLEST_WEIGHT:.3g} (it "
                    f"would become 0)")


def check_weight_range(weights: np.ndarray, what: str) -> None:
    """Edge weights float32 holds: finite, at most its largest value, and none between 0 and
    its smallest normal number (:data:`SMALLEST_WEIGHT`, ~1.2e-38), which would silently
    become 0 (or keep a few bits): a :class:`GraphInputError` naming ``what``."""
    magnitude = np.abs(weights)
    too_large = ~np.isfinite(magnitude) | (magnitude > np.finfo(np.float32).max)
    too_small = (magnitude > 0) & (magnitude < SMALLEST_WEIGHT)
    for bad, why in ((too_large, "outside float32's range"), (too_small, WEIGHT_UNDERFLOW)):
        if bad.any():
            raise GraphInputError(f"{what}: the weight {weights[bad][0]:g} is {why}; "
                                  f"rescale the weights")
