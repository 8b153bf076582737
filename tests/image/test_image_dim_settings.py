"""Image DIM refuses impossible settings (issue 24): NaN and negative loss weights, mutual
information units that cannot fit (before allocating), a non-finite prior lr, and training
stops on a non-finite loss."""
import math

import pytest
import torch

from graphdim import fit
from graphdim.image.dim import ImageDIM
from graphdim.image.encoders import ConvEncoder
from graphdim.prior import PriorMatching
from graphdim.runtime import NotEnoughMemoryError


@pytest.mark.parametrize('name', ['alpha', 'beta', 'gamma'])
@pytest.mark.parametrize('value', [math.nan, math.inf, -1.0])
def test_image_dim_weights_refuse_nan_and_negatives(name, value):
    with pytest.raises(ValueError, match=f'{name} must be a finite number'):
        ImageDIM.from_options(32, 3, mi_units=8, **{name: value})


def test_a_billion_mi_units_are_refused_before_allocating():
    with pytest.raises(NotEnoughMemoryError, match='lower --mi-units'):
        ImageDIM.from_options(32, 3, mi_units=1_000_000_000)



def test_prior_lr_must_be_finite():
    with pytest.raises(ValueError, match="discriminator's lr"):
        PriorMatching(4, lr=math.nan)


def test_image_training_stops_on_a_non_finite_loss():
    from graphdim.data.images import ImageBatches
    model = ImageDIM(ConvEncoder.for_image_size(32, 1, fc_units=8, out_dim=4),
                     *_local(32), 4, mi_units=4)
    images = torch.randint(0, 255, (8, 1, 32, 32), dtype=torch.uint8)
    with pytest.raises(FloatingPointError, match='loss became'):
        fit(model, ImageBatches(images, 4), epochs=3, lr=1e30, progress=False, patience=0)


def _local(size):
    encoder = ConvEncoder.for_image_size(size, 1, fc_units=8, out_dim=4)
    return encoder.local_channels, encoder.local_size
