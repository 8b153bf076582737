"""Reloading a saved run's model, whatever its kind: the kind table and :func:`load_model`."""
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import torch

from ..runs import RunFolder
from .graph import GraphConfig, build_graph_model
from .image import ImageConfig, build_image_model
from .node import NodeConfig, build_node_model

# Run kind (as config.json records it) -> (config class, model builder, the saved input-size
# entries the builder takes besides the config).
KIND_BUILDERS = {
    'node': (NodeConfig, build_node_model, ('in_channels', )),
    'graph': (GraphConfig, build_graph_model, ('in_channels', )),
    'image': (ImageConfig, build_image_model, ('image_size', 'channels')),
}


def load_model(run_dir: Union[str, Path], seed: Optional[int] = None,
               device=None) -> Tuple[torch.nn.Module, Any]:
    """The trained model of ``run_dir`` (first seed unless ``seed``), in eval mode, and its
    config: a :class:`~graphdim.NodeConfig`, :class:`~graphdim.GraphConfig` or
    :class:`~graphdim.ImageConfig`; the model is the one its config's registry entry builds
    (:mod:`graphdim.registry`). A ``config.json`` whose values do not make a config, or that
    lacks the input size, is a ``ValueError`` naming it."""
    folder = RunFolder(run_dir)
    saved = folder.read_config()
    seed = folder.seed_or_first(seed)
    _, build_model, input_keys = KIND_BUILDERS[saved['kind']]
    config = run_config(saved, folder.config_path)
    missing = [key for key in input_keys if saved.get(key) is None]
    if missing:
        raise ValueError(f"{folder.config_path} records no {' or '.join(missing)} (the input "
                         f"size the model was built for): {_CHANGED}")
    try:
        model = build_model(config, **{key: saved[key] for key in input_keys})
    except (ValueError, TypeError) as error:  # sizes no model can have
        raise ValueError(f"{folder.config_path}: {first_line(error)}: {_CHANGED}") from None
    folder.load_model_state(model, seed)
    return model.to(device or 'cpu').eval(), config


_CHANGED = "it was changed after the run; train the run again (--overwrite)"


def run_config(saved: Dict[str, Any], config_path) -> Any:
    """The config object of a run's ``config.json`` (``saved``, read from ``config_path``): a
    value it cannot hold (an unknown key, ``"model": {}``) is one ``ValueError`` naming the
    file, with the problem cut to one short line."""
    config_class = KIND_BUILDERS[saved['kind']][0]
    try:
        return config_class.from_dict(saved['config'])
    except (ValueError, TypeError) as error:
        raise ValueError(f"{config_path}: {first_line(error)}: {_CHANGED}") from None


def first_line(error: BaseException, limit: int = 300) -> str:
    """An error's first line, at most ``limit`` characters (it may quote a file's values)."""
    text = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[:limit] + '...'
