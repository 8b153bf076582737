"""Embeddings written for use outside graphdim: a ``.pt`` with node ids and a plain ``.npy``."""
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from torch import Tensor

from .runtime import atomic_save


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
