"""Saved runs: reload a trained model from a run directory and write embeddings to files.

A run directory (``graphdim train --out DIR``) holds ``config.json`` (the resolved config, the
input size, seeds and versions), ``results.json`` and per seed ``seed_<s>/model.pt`` (the
state dict), ``seed_<s>/embeddings.pt`` and ``seed_<s>/log.jsonl`` (one line per epoch).
"""
import json
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .experiments.node import NodeConfig, build_node_model
from .runtime import atomic_save


def read_run_config(run_dir: Union[str, Path]) -> Dict[str, Any]:
    path = Path(run_dir) / 'config.json'
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {run_dir} is not a graphdim run directory "
                                f"(make one with graphdim train --out DIR)")
    return json.loads(path.read_text())


def load_model(run_dir: Union[str, Path], seed: Optional[int] = None,
               device=None) -> Tuple[torch.nn.Module, NodeConfig]:
    """The trained model of ``run_dir`` (first seed unless ``seed``) and its config."""
    saved = read_run_config(run_dir)
    seed = saved['seeds'][0] if seed is None else seed
    if seed not in saved['seeds']:
        raise ValueError(f"seed {seed} is not in {run_dir}; it holds seeds {saved['seeds']}")
    config = NodeConfig.from_dict(saved['config'])
    model = build_node_model(config, saved['in_channels'])
    state = torch.load(Path(run_dir) / f'seed_{seed}' / 'model.pt', map_location='cpu',
                       weights_only=True)
    model.load_state_dict(state)
    return model.to(device or 'cpu').eval(), config


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
