r"""Adversarial prior matching (DIM, section 3.3), shared by the image and graph paths.

A discriminator :math:`D_\phi` learns to tell samples of a prior :math:`\mathbb{V}` (uniform on
:math:`[0, 1]^d`) from the encoder's squashed output :math:`\sigma(Y)`; the encoder is trained
to fool it, which pushes the distribution of :math:`\sigma(Y)` toward the prior:

.. math::
    \min_\psi \max_\phi \;\; \mathbb{E}_{\mathbb{V}}[\log D_\phi(v)]
        + \mathbb{E}_{\mathbb{P}}[\log(1 - D_\phi(\sigma(E_\psi(x))))]

This is a Jensen-Shannon game, so both losses come from :mod:`graphdim.estimators` (``bce``
on the discriminator's logits). Updates alternate, as in DIM: :meth:`PriorMatching.forward`
(in training mode) first takes one step of the discriminator's own Adam optimiser on the
current, detached outputs, then returns the encoder's non-saturating loss
:math:`\mathbb{E}[\operatorname{sp}(-D_\phi(\sigma(Y)))]` through the updated, frozen
discriminator. The optimiser's state travels with the module's ``state_dict``.
"""
import math
from typing import Sequence

import torch
from torch import Tensor

from .estimators import mi_loss, positive_expectation


class PriorMatching(torch.nn.Module):
    """Discriminator against a uniform prior and the encoder's loss for fooling it.

    Args:
        dim: size of the encoder output ``Y``.
        hidden: widths of the discriminator MLP (DIM: 1000, 200).
        lr: learning rate of the discriminator's Adam optimiser (DIM: 1e-4).
    """
    def __init__(self, dim: int, hidden: Sequence[int] = (1000, 200), lr: float = 1e-4):
        super().__init__()
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"the prior discriminator's lr must be a finite number > 0; got "
                             f"{lr!r}")
        layers, width = [], dim
        for size in hidden:
            layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
            width = size
        layers.append(torch.nn.Linear(width, 1))
        self.discriminator = torch.nn.Sequential(*layers)
        self.lr = lr
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr)

    def reset_parameters(self):
        for module in self.discriminator:
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=self.lr)

    def discriminator_loss(self, y: Tensor) -> Tensor:
        """BCE of telling prior samples (positives) from ``sigmoid(y)`` (negatives)."""
        fake = torch.sigmoid(y.detach())
        real = torch.rand_like(fake)
        return mi_loss(self.discriminator(real), self.discriminator(fake), 'bce')

    def encoder_loss(self, y: Tensor) -> Tensor:
        """Non-saturating loss of the encoder: make the discriminator call ``sigmoid(y)`` real.

        Gradients reach ``y`` only; the discriminator's parameters are left untouched.
        """
        logits = torch.func.functional_call(
            self.discriminator, {k: v.detach() for k, v in self.discriminator.named_parameters()},
            (torch.sigmoid(y), ))
        # bce's positive term is -sp(-logit): its negation is the non-saturating loss.
        return -positive_expectation(logits, 'bce')

    def forward(self, y: Tensor) -> Tensor:
        """In training mode, update the discriminator once; return the encoder's loss."""
        if self.training and torch.is_grad_enabled():
            self.optimizer.zero_grad(set_to_none=True)
            self.discriminator_loss(y).backward()
            self.optimizer.step()
            # Drop these gradients: a model-wide optimiser (graphdim.fit's Adam sees every
            # parameter) would otherwise step the discriminator a second time with them.
            self.optimizer.zero_grad(set_to_none=True)
        return self.encoder_loss(y)

    # The discriminator's optimiser state is part of the module state (for checkpoints).
    def get_extra_state(self):
        return self.optimizer.state_dict()

    def set_extra_state(self, state):
        self.optimizer.load_state_dict(state)
