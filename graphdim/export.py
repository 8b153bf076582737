"""Embeddings written for use outside graphdim: a ``.pt`` with node ids and a plain ``.npy``."""
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .runtime import atomic_write_files


def output_paths(path: Union[str, Path]) -> Tuple[Path, Path, Path]:
    """The ``.pt``, ``.npy`` and ``.node_ids.npy`` files :func:`save_embeddings` writes for
    ``path`` (given with or without ``.pt`` / ``.npy``)."""
    path = Path(path)
    base = path.with_suffix('') if path.suffix in ('.pt', '.npy') else path
    return base.with_name(base.name + '.pt'), base.with_name(base.name + '.npy'), \
        base.with_name(base.name + '.node_ids.npy')


def save_embeddings(embeddings: Tensor, path: Union[str, Path],
                    node_ids: Optional[Sequence] = None) -> Tuple[Path, Path]:
    """Write ``<path>.pt`` (``{'embeddings', 'node_ids'}``) and ``<path>.npy`` (the matrix),
    with ``<path>.node_ids.npy`` beside it; rows are in node-id order. Returns the two paths."""
    node_ids = list(range(embeddings.size(0))) if node_ids is None else list(node_ids)
    if len(node_ids) != embeddings.size(0):
        raise ValueError(f"{len(node_ids)} node ids for {embeddings.size(0)} embeddings")
    pt_path, npy_path, ids_path = output_paths(path)
    matrix = embeddings.detach().cpu()
    # All three through temporary files, renamed once all are whole: a kill or a full disk
    # leaves the three old files or the three new ones, never a torn .npy beside a .pt.
    atomic_write_files([
        (pt_path, 'wb', lambda f: torch.save({'embeddings': matrix, 'node_ids': node_ids}, f)),
        (npy_path, 'wb', lambda f: np.save(f, matrix.numpy())),
        (ids_path, 'wb', lambda f: np.save(f, np.asarray(node_ids)))])
    return pt_path, npy_path
