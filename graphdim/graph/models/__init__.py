"""Graph DIM models (DGI, MVGRL, GGD at node level; InfoGraph, MVGRL at graph level), one file
each, each ending with its registry entry
(:mod:`graphdim.registry`); importing this package registers them, defaults first."""
from . import dgi, mvgrl, ggd, infograph, mvgrl_graph  # noqa: F401  (registration order)
from . import graphacl  # noqa: F401  (a node-level model, after the defaults)
from ...registry import builtin_models_registered

builtin_models_registered()  # the registry may read the configs now (their default models)
