r"""Critic heads that embed local and global features before a dot-product score.

Two heads live here: :class:`ResidualHead` (image DIM's encode-and-dot critic,
:class:`EncodeAndDotCritic`) and :class:`ProjectionHead` (InfoGraph's, applied to node and
graph embeddings by :class:`~graphdim.graph.models.infograph.InfoGraph` and
:class:`~graphdim.graph.models.mvgrl_graph.GraphMVGRL`). DGI's bilinear critic is one weight
matrix, held by its model (DGI, MVGRL) and scored by :func:`bilinear_scores`.

The *encode-and-dot* critic of DIM embeds each local feature and each global vector with its
own small residual head into a common space of ``units`` dimensions, then scores every pair by
a dot product:

.. math::
    T(m_{l}, y_{g}) = \phi(m_{l})^\top \psi(y_{g}), \qquad
    \phi(x) = \operatorname{LN}\big(A x + W_2 \operatorname{ReLU}(\operatorname{BN}(W_1 x))\big)

(:math:`\psi` alike). For a batch of :math:`B` images with :math:`H \times W` locations each,
one matrix product gives the ``[B*H*W, B]`` matrix of every location of every image against
every global vector; a location is a positive for its own image's global vector and a negative
for all the others. The head on local features is a 1x1 convolution stack: a 1x1 convolution
is a linear map on the channels at each location, so it is applied to the ``[B*H*W, C]`` rows
of the map (BatchNorm statistics over all locations, as BatchNorm2d would).

Scores and masks go to :func:`graphdim.estimators.score_matrix_loss`: no estimator math here.
"""
from typing import Tuple

import torch
from torch import Tensor, nn

from .estimators import batch_pos_mask, score_matrix_loss


def bilinear_scores(z: Tensor, weight: Tensor, summary: Tensor) -> Tensor:
    r"""DGI's bilinear critic :math:`T(h, s) = h^\top W s` for every row of ``z`` against one
    summary ``s`` (``[D]``, or ``[D, k]`` for several): one matrix-vector product for the
    summary, one for the nodes."""
    return z @ (weight @ summary)


class ResidualHead(nn.Module):
    """``LayerNorm(shortcut(x) + Linear(ReLU(BN(Linear(x)))))``: a residual MLP of width ``units``.

    The linear shortcut keeps the input's information reachable from the start of training;
    the LayerNorm keeps the scale of the dot products stable.
    """
    def __init__(self, in_features: int, units: int):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(in_features, units), nn.BatchNorm1d(units),
                                   nn.ReLU(), nn.Linear(units, units))
        self.shortcut = nn.Linear(in_features, units, bias=False)
        self.norm = nn.LayerNorm(units)

    def reset_parameters(self):
        for module in self.modules():
            if module is not self and hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.shortcut(x) + self.block(x))


class ProjectionHead(nn.Module):
    r"""InfoGraph's critic head: a 3-layer ReLU MLP plus a linear shortcut,
    :math:`\phi(h) = \mathrm{MLP}(h) + W h`, applied before the dot-product critic."""
    def __init__(self, channels: int):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(channels, channels), nn.ReLU(),
                                   nn.Linear(channels, channels), nn.ReLU(),
                                   nn.Linear(channels, channels), nn.ReLU())
        self.shortcut = nn.Linear(channels, channels)

    def reset_parameters(self):
        for module in [*self.block, self.shortcut]:
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x) + self.shortcut(x)


def locations_as_rows(local_map: Tensor) -> Tensor:
    """``[B, C, H, W]`` -> ``[B*H*W, C]``: one row per location, grouped by image."""
    if local_map.dim() != 4:
        raise ValueError(f"local feature maps must be [B, C, H, W]; got {list(local_map.shape)}")
    return local_map.permute(0, 2, 3, 1).reshape(-1, local_map.size(1))


class EncodeAndDotCritic(nn.Module):
    """Scores of local features against global vectors through two residual heads.

    Args:
        local_features: size of one local feature (channels of the map, or the flattened
            map for DIM's global objective).
        global_features: size of the global vector.
        units: width of both heads and of the space the dot product is taken in
            (DIM's code: 2048; 256 keeps CPU training to minutes).
    """
    def __init__(self, local_features: int, global_features: int, units: int = 256):
        super().__init__()
        if units < 1:
            raise ValueError(f"mi_units must be >= 1; got {units}")
        self.local_head = ResidualHead(local_features, units)
        self.global_head = ResidualHead(global_features, units)

    def reset_parameters(self):
        self.local_head.reset_parameters()
        self.global_head.reset_parameters()

    def scores(self, local: Tensor, global_: Tensor, samples: Tensor) -> Tuple[Tensor, Tensor]:
        """Score matrix ``[L, G]`` and positive mask for local rows ``[L, F]`` of sample
        ``samples[l]`` against global vectors ``[G, D]``."""
        if local.dim() != 2 or global_.dim() != 2:
            raise ValueError(f"local must be [L, F] and global [G, D]; got "
                             f"{list(local.shape)} and {list(global_.shape)}")
        scores = self.local_head(local) @ self.global_head(global_).t()
        return scores, batch_pos_mask(samples, global_.size(0))

    def map_scores(self, local_map: Tensor, global_: Tensor) -> Tuple[Tensor, Tensor]:
        """Every location of every image ``[B, C, H, W]`` against every global vector
        ``[B, D]``: scores ``[B*H*W, B]`` and the mask (True where the location is the
        global vector's own image)."""
        if local_map.dim() != 4 or global_.dim() != 2 or local_map.size(0) != global_.size(0):
            raise ValueError(f"need a local map [B, C, H, W] and global vectors [B, D] for "
                             f"the same B; got {list(local_map.shape)} and "
                             f"{list(global_.shape)}")
        locations = local_map.size(2) * local_map.size(3)
        samples = torch.arange(local_map.size(0), device=local_map.device)
        return self.scores(locations_as_rows(local_map), global_,
                           samples.repeat_interleave(locations))

    def local_loss(self, local_map: Tensor, global_: Tensor, measure: str = 'jsd') -> Tensor:
        """Minus the MI bound between each location and the image's global vector."""
        return score_matrix_loss(*self.map_scores(local_map, global_), measure)

    def global_loss(self, local_map: Tensor, global_: Tensor, measure: str = 'jsd') -> Tensor:
        """Minus the MI bound between the whole (flattened) map and the global vector."""
        samples = torch.arange(local_map.size(0), device=local_map.device)
        return score_matrix_loss(*self.scores(local_map.flatten(1), global_, samples), measure)
