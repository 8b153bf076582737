r"""Convolutional encoders of the DIM paper, returning ``(local feature map, global vector)``.

The 32x32 encoder of DIM (Hjelm et al., ICLR 2019, table 1 of the appendix) is

    conv 4x4/2 64 - BN - ReLU          32x32 -> 16x16
    conv 4x4/2 128 - BN - ReLU         16x16 -> 8x8     <- local features M (8x8x128)
    conv 4x4/2 256 - BN - ReLU          8x8 -> 4x4      <- "conv" features (4096)
    fc 1024 - BN - ReLU                                 <- "fc" features
    fc 64                                               <- the representation Y

Variants use the same blocks: 28x28 (MNIST: 14x14, 7x7x128 local map, 3x3x256 conv output)
and 64x64 (one more conv of 512 channels, local map 8x8x256, as for STL-10 in the paper).

Any module works with :class:`~graphdim.image.dim.ImageDIM` if ``encoder(images)`` returns
``(local_map [B, C, H, W], y [B, D])``; :meth:`ConvEncoder.features` additionally gives the
``conv`` / ``fc`` / ``y`` features that the probes of :mod:`graphdim.eval.image` evaluate.
"""
from typing import Dict, Sequence, Tuple

from torch import Tensor, nn

# Image side -> (conv channels, index of the conv block whose output is the local map).
ENCODER_PRESETS = {28: ((64, 128, 256), 1), 32: ((64, 128, 256), 1),
                   64: ((64, 128, 256, 512), 2)}


def _conv_output_size(size: int) -> int:
    """Side of a 4x4, stride-2, padding-1 convolution's output."""
    return (size + 2 - 4) // 2 + 1


class ConvEncoder(nn.Module):
    """Strided 4x4 convolutions with BatchNorm and ReLU, then fc - BN - ReLU and a linear Y.

    Args:
        in_channels: image channels (1 for MNIST, 3 for colour).
        image_size: side of the square input images.
        channels: output channels of each conv block.
        local_layer: index of the conv block whose output is the local feature map.
        fc_units: width of the hidden fully connected layer (DIM: 1024).
        out_dim: size of the global representation Y (DIM: 64).
    """
    def __init__(self, in_channels: int = 3, image_size: int = 32,
                 channels: Sequence[int] = (64, 128, 256), local_layer: int = 1,
                 fc_units: int = 1024, out_dim: int = 64):
        super().__init__()
        if not 0 <= local_layer < len(channels):
            raise ValueError(f"local_layer must index one of the {len(channels)} conv blocks; "
                             f"got {local_layer}")
        self.in_channels, self.image_size = in_channels, image_size
        sizes, side = [], image_size
        blocks, width = [], in_channels
        for out in channels:
            side = _conv_output_size(side)
            if side < 1:
                raise ValueError(f"image_size {image_size} is too small for {len(channels)} "
                                 f"stride-2 convolutions")
            blocks.append(nn.Sequential(nn.Conv2d(width, out, 4, stride=2, padding=1),
                                        nn.BatchNorm2d(out), nn.ReLU()))
            sizes.append(side)
            width = out
        self.convs = nn.ModuleList(blocks)
        self.local_layer = local_layer
        self.local_channels = channels[local_layer]
        self.local_size = sizes[local_layer]
        self.conv_dim = width * sizes[-1] ** 2
        self.fc = nn.Sequential(nn.Linear(self.conv_dim, fc_units), nn.BatchNorm1d(fc_units),
                                nn.ReLU())
        self.head = nn.Linear(fc_units, out_dim)
        self.fc_units, self.out_dim = fc_units, out_dim

    @classmethod
    def for_image_size(cls, image_size: int, in_channels: int, **kwargs) -> 'ConvEncoder':
        """The paper's encoder for 32x32 inputs, or its 28x28 / 64x64 variant."""
        if image_size not in ENCODER_PRESETS:
            raise ValueError(f"no preset encoder for {image_size}x{image_size} images; choose "
                             f"one of {sorted(ENCODER_PRESETS)} or pass your own encoder")
        channels, local_layer = ENCODER_PRESETS[image_size]
        return cls(in_channels, image_size, channels, local_layer, **kwargs)

    def reset_parameters(self):
        for module in self.modules():
            if module is not self and hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def _check(self, images: Tensor) -> None:
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"expected images of shape [B, {expected[0]}, {expected[1]}, "
                             f"{expected[2]}]; got {list(images.shape)}")

    def features(self, images: Tensor) -> Dict[str, Tensor]:
        """``local`` map, flattened last ``conv`` output, ``fc`` hidden layer and ``y``."""
        self._check(images)
        out, local = images, None
        for index, block in enumerate(self.convs):
            out = block(out)
            if index == self.local_layer:
                local = out
        conv = out.flatten(1)
        fc = self.fc(conv)
        return {'local': local, 'conv': conv, 'fc': fc, 'y': self.head(fc)}

    def forward(self, images: Tensor) -> Tuple[Tensor, Tensor]:
        features = self.features(images)
        return features['local'], features['y']
