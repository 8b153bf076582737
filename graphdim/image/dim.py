r"""Image Deep InfoMax: global and local MI maximisation with prior matching."""
import math
from typing import Dict, Optional, Sequence, Tuple

from torch import Tensor, nn

from ..critics import EncodeAndDotCritic
from ..estimators import check_measure
from ..prior import PriorMatching
from ..runtime import check_memory
from .encoders import ConvEncoder

# Paper presets (alpha, beta, gamma). 'local+global' is graphdim's choice, not a paper row.
MODES: Dict[str, Tuple[float, float, float]] = {
    'global': (1.0, 0.0, 1.0), 'local': (0.0, 1.0, 0.1), 'local+global': (0.5, 1.0, 0.1)}


def mode_weights(mode: str) -> Tuple[float, float, float]:
    """``(alpha, beta, gamma)`` of a preset: DIM(G) ``'global'``, DIM(L) ``'local'``, both."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    return MODES[mode]


class ImageDIM(nn.Module):
    r"""Deep InfoMax on images (Hjelm et al., "Learning deep representations by mutual
    information estimation and maximization", ICLR 2019).

    An encoder maps an image :math:`x` to a local feature map :math:`M = \{m_{ij}\}` and a
    global vector :math:`Y = E_\psi(x)`. With the encode-and-dot critic :math:`T` of
    :class:`~graphdim.critics.EncodeAndDotCritic` and an estimator :math:`\hat I` from
    :mod:`graphdim.estimators` (negatives: the other images of the batch), training maximises

    .. math::
        \alpha \, \hat I(M; Y) + \frac{\beta}{HW} \sum_{ij} \hat I(m_{ij}; Y)
            - \gamma \, \hat D(\mathbb{V} \,\|\, \mathbb{U}_{\psi})

    *global* (the whole flattened map against :math:`Y`), *local* (every location against
    :math:`Y`; all locations of all images are scored against every :math:`Y` of the batch in
    one matrix) and *prior matching* (an adversarial discriminator between :math:`\sigma(Y)`
    and a uniform prior on :math:`[0, 1]^D`, :class:`~graphdim.prior.PriorMatching`, updated
    in alternation with the encoder). Paper presets: DIM(G) :math:`(\alpha, \beta, \gamma) =
    (1, 0, 1)`, DIM(L) :math:`(0, 1, 0.1)`; :data:`graphdim.image.dim.MODES` names them.

    Args:
        encoder: module with ``encoder(images) -> (local_map [B, C, H, W], y [B, D])``.
        local_channels, local_size: channels ``C`` and side ``H = W`` of the local map.
        global_dim: size ``D`` of ``y``.
        alpha, beta, gamma: weights of the global, local and prior terms.
        estimator: one of :data:`graphdim.estimators.MEASURES` (DIM's default ``'jsd'``).
        mi_units: width of the critic's heads (DIM's code: 2048; 256 for CPU).
        prior_hidden: the prior discriminator's hidden widths (DIM: 1000, 200).
        prior_lr: the discriminator's own Adam learning rate (DIM: 1e-4).
    """
    def __init__(self, encoder: nn.Module, local_channels: int, local_size: int,
                 global_dim: int, alpha: float = 0.0, beta: float = 1.0, gamma: float = 0.1,
                 estimator: str = 'jsd', mi_units: int = 256,
                 prior_hidden: Sequence[int] = (1000, 200), prior_lr: float = 1e-4):
        super().__init__()
        for name, value in (('alpha', alpha), ('beta', beta), ('gamma', gamma)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
        if not isinstance(mi_units, int) or isinstance(mi_units, bool) or mi_units < 1:
            raise ValueError(f"mi_units must be an integer >= 1; got {mi_units!r}")
        # Before building: each critic's residual heads hold about 2 x units^2 weights, and
        # training keeps 4 floats per weight (value, gradient, Adam's two moments).
        inputs = (local_channels + global_dim) * (beta > 0) + \
            (local_channels * local_size ** 2 + global_dim) * (alpha > 0)
        weights = mi_units * (2 * inputs + 2 * mi_units * ((alpha > 0) + (beta > 0)))
        check_memory(16.0 * weights, f"the critics of --mi-units {mi_units} ({weights:,} "
                     f"weights, with their gradients and Adam state)", "lower --mi-units")
        if alpha == 0 and beta == 0:
            raise ValueError("alpha (global) and beta (local) are both 0: nothing to maximise")
        self.encoder = encoder
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.estimator = check_measure(estimator)
        self.local_channels, self.local_size, self.global_dim = \
            local_channels, local_size, global_dim
        # Only the terms in use get parameters (a zero-weight critic would never train).
        self.local_critic = EncodeAndDotCritic(local_channels, global_dim, mi_units) \
            if beta > 0 else None
        self.global_critic = EncodeAndDotCritic(local_channels * local_size ** 2, global_dim,
                                                mi_units) if alpha > 0 else None
        self.prior = PriorMatching(global_dim, prior_hidden, prior_lr) if gamma > 0 else None

    @classmethod
    def from_options(cls, image_size: int, in_channels: int, mode: str = 'local',
                     estimator: str = 'jsd', mi_units: int = 256,
                     alpha: Optional[float] = None, beta: Optional[float] = None,
                     gamma: Optional[float] = None, out_dim: int = 64,
                     fc_units: int = 1024) -> 'ImageDIM':
        """The paper's encoder for ``image_size`` and a mode's weights (each overridable)."""
        weights = mode_weights(mode)
        alpha, beta, gamma = (w if v is None else v
                              for w, v in zip(weights, (alpha, beta, gamma)))
        encoder = ConvEncoder.for_image_size(image_size, in_channels, fc_units=fc_units,
                                             out_dim=out_dim)
        return cls(encoder, encoder.local_channels, encoder.local_size, out_dim, alpha, beta,
                   gamma, estimator, mi_units)

    def reset_parameters(self):
        for module in (self.encoder, self.local_critic, self.global_critic, self.prior):
            if module is not None and hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def forward(self, images: Tensor) -> Tuple[Tensor, Tensor]:
        """The local feature map ``[B, C, H, W]`` and the global vector ``[B, D]``."""
        local_map, y = self.encoder(images)
        expected = (self.local_channels, self.local_size, self.local_size)
        if local_map.dim() != 4 or tuple(local_map.shape[1:]) != expected \
                or y.shape != (images.size(0), self.global_dim):
            raise ValueError(f"the encoder must return a local map [B, {expected[0]}, "
                             f"{expected[1]}, {expected[2]}] and y [B, {self.global_dim}]; got "
                             f"{list(local_map.shape)} and {list(y.shape)}")
        return local_map, y

    def loss_terms(self, local_map: Tensor, y: Tensor) -> Dict[str, Tensor]:
        """The unweighted terms in use: ``global`` / ``local`` (minus the MI bounds) and
        ``prior`` (the encoder's adversarial loss; in training mode this also takes one
        step of the prior discriminator)."""
        if y.size(0) < 2:
            raise ValueError("image DIM needs batches of at least 2 images: the other images "
                             "of the batch are the negatives")
        terms = {}
        if self.global_critic is not None:
            terms['global'] = self.global_critic.global_loss(local_map, y, self.estimator)
        if self.local_critic is not None:
            terms['local'] = self.local_critic.local_loss(local_map, y, self.estimator)
        if self.prior is not None:
            terms['prior'] = self.prior(y)
        return terms

    def loss(self, local_map: Tensor, y: Tensor) -> Tensor:
        """``alpha * global + beta * local + gamma * prior`` (minus the objective)."""
        weights = {'global': self.alpha, 'local': self.beta, 'prior': self.gamma}
        return sum(weights[name] * value
                   for name, value in self.loss_terms(local_map, y).items())

    # The training loop's interface: a loss and frozen embeddings (Y) for one batch.
    def training_loss(self, images: Tensor) -> Tensor:
        return self.loss(*self(images))

    def embed(self, images: Tensor) -> Tensor:
        return self(images)[1]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha:g}, beta={self.beta:g}, '
                f'gamma={self.gamma:g}, estimator={self.estimator!r})')
