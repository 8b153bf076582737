"""Graph DIM models, one file each, each ending with its registry entry
(:mod:`graphdim.registry`); importing this package registers them, defaults first."""
from . import dgi, mvgrl, infograph, mvgrl_graph  # noqa: F401  (registration order)
