"""Reloading a saved run's model, whatever its kind: the kind table and :func:`load_model`."""
from pathlib import Path
from typing import Any, Optional, Tuple, Union

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
    (:mod:`graphdim.registry`)."""
    folder = RunFolder(run_dir)
    saved = folder.read_config()
    seed = folder.seed_or_first(seed)
    config_class, build_model, input_keys = KIND_BUILDERS[saved['kind']]
    config = config_class.from_dict(saved['config'])
    model = build_model(config, **{key: saved[key] for key in input_keys})
    folder.load_model_state(model, seed)
    return model.to(device or 'cpu').eval(), config
