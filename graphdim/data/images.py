"""Image datasets by name: MNIST from a local ``.npz`` copy; CIFAR-10/100 and STL-10 through
torchvision (the optional ``image`` extra), which nothing else imports.

Images are kept as ``uint8`` tensors ``[N, C, H, W]`` and scaled to ``[-1, 1]`` batch by batch
(:class:`ImageBatches`), so a 60,000-image set costs 47 MB, not 188 MB of floats. Where data
is read from and cached is decided by :mod:`.roots`.
"""
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import torch
from torch import Tensor

from ..graph.checks import shown
from .roots import DatasetNotFoundError, cache_lock, prepare_dataset_dir
from .safe_load import CORRUPT_FILE_ERRORS, corrupt_dataset_error, full_cache_disk_error

IMAGE_DATASETS = ('mnist', 'cifar10', 'cifar100', 'stl10')
# name -> (torchvision class, folder, a file its raw layout holds, image side after loading)
_TORCHVISION = {'cifar10': ('CIFAR10', 'cifar-10-batches-py/data_batch_1', 32),
                'cifar100': ('CIFAR100', 'cifar-100-python/train', 32),
                'stl10': ('STL10', 'stl10_binary/train_X.bin', 64)}


@dataclass
class ImageDataset:
    """Training and test images (``uint8 [N, C, H, W]``) with integer labels."""
    name: str
    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    num_classes: int

    @property
    def channels(self) -> int:
        return self.train_images.size(1)

    @property
    def image_size(self) -> int:
        return self.train_images.size(2)


def _mnist(root: Optional[str]) -> ImageDataset:
    try:
        loader_root, _ = prepare_dataset_dir('images', 'mnist', ['train.npz', 'test.npz'], root,
                                             download=False)
    except DatasetNotFoundError as error:  # there is no downloader for the .npz layout
        looked = str(error).split('Provide it')[0]
        raise DatasetNotFoundError(
            f"{looked}Point --root DIR (or the GRAPHDIM_DATA environment variable) at a folder "
            f"holding images/mnist/train.npz and test.npz (numpy .npz files with images uint8 "
            f"[N, 28, 28, 1] and labels [N])") from None
    arrays = {}
    for split in ('train', 'test'):
        path = loader_root / 'mnist' / f'{split}.npz'
        try:
            arrays[split] = _read_mnist_split(path, arrays.get('train'))
        except CORRUPT_FILE_ERRORS as error:  # truncated, foreign, or not what MNIST holds
            raise corrupt_dataset_error(path, error, fix=_MNIST_FIX) from error
    return ImageDataset('mnist', *arrays['train'], *arrays['test'], num_classes=10)


_MNIST_FIX = ("give a numpy .npz file with images uint8 [N, H, W, C] (MNIST's: [N, 28, 28, 1]) "
              "and labels [N] (whole numbers 0..9), the same image size in train.npz and "
              "test.npz")


def _read_mnist_split(path, train=None):
    """``(images uint8 [N, C, H, W], labels int64 [N])`` of one MNIST ``.npz``; a ValueError
    (or what numpy raises) for a file that is not that, or whose image size differs from the
    ``train`` split's."""
    with np.load(path, allow_pickle=False) as npz:
        images, labels = npz['images'], npz['labels']
    if images.dtype != np.uint8 or images.ndim != 4 or labels.ndim != 1 or \
            images.shape[0] != labels.shape[0]:
        raise ValueError(f"it holds images {images.dtype} {list(images.shape)} and labels "
                         f"{list(labels.shape)}")
    if train is not None and images.shape[1:] != tuple(train[0].permute(0, 2, 3, 1).shape[1:]):
        raise ValueError(f"its images are {list(images.shape[1:])}, the training images "
                         f"{list(train[0].permute(0, 2, 3, 1).shape[1:])}")
    if not np.issubdtype(labels.dtype, np.number) or labels.dtype == np.bool_:
        raise ValueError(f"its labels are {labels.dtype}, not class indices")
    whole = np.isfinite(labels) & (labels == np.round(labels)) & (labels >= 0) & (labels < 10)
    if not whole.all():
        raise ValueError(f"its labels must be whole numbers 0..9; found {labels[~whole][0]}")
    return (torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
            torch.from_numpy(labels.astype(np.int64)))


def _require_torchvision(name: str):
    try:
        import torchvision
    except ImportError as error:
        raise ValueError(f"dataset {name!r} is loaded through torchvision, which is not "
                         f"installed; install the optional extra: pip install "
                         f"'graphdim[image]' (or use --dataset mnist)") from error
    return torchvision


def _torchvision_split(name: str, split: str, loader_root, download: bool):
    torchvision = _require_torchvision(name)
    cls_name, _, side = _TORCHVISION[name]
    folder = str(loader_root / name)
    if name == 'stl10':
        dataset = torchvision.datasets.STL10(folder, split=split, download=download)
        images = torch.from_numpy(dataset.data)  # [N, 3, 96, 96]
        # DIM resizes STL-10 to 64x64; antialiasing keeps it faithful to the original.
        images = torch.nn.functional.interpolate(images.float(), size=(side, side),
                                                 mode='bilinear', antialias=True)
        images = images.round().clamp(0, 255).to(torch.uint8)
        labels = torch.as_tensor(dataset.labels, dtype=torch.long)
    else:
        dataset = getattr(torchvision.datasets, cls_name)(folder, train=split == 'train',
                                                          download=download)
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        labels = torch.as_tensor(dataset.targets, dtype=torch.long)
    return images, labels


def _torchvision_dataset(name: str, root: Optional[str], download: bool) -> ImageDataset:
    _require_torchvision(name)
    _, required, _ = _TORCHVISION[name]
    with cache_lock('images', name):  # concurrent first loads: one downloads, the others wait
        loader_root, present = prepare_dataset_dir('images', name, [required], root, download)
        try:
            train = _torchvision_split(name, 'train', loader_root, not present)
            test = _torchvision_split(name, 'test', loader_root, not present)
        except (OSError, RuntimeError) as error:  # a failed download, or a full disk
            full = full_cache_disk_error(loader_root, error)
            if full is not None:
                raise full from error
            raise DatasetNotFoundError(f"dataset {name!r} could not be loaded or downloaded "
                                       f"into {loader_root / name}: {error}") from error
    return ImageDataset(name, *train, *test, num_classes=int(train[1].max()) + 1)


def load_image_dataset(name: str, root: Optional[str] = None,
                       download: bool = True) -> ImageDataset:
    """``'mnist'`` (from ``<root>/images/mnist/{train,test}.npz``), ``'cifar10'``,
    ``'cifar100'`` or ``'stl10'`` (torchvision; resized to 64x64)."""
    key = name.lower().replace('-', '') if isinstance(name, str) else None
    if key not in IMAGE_DATASETS:
        raise ValueError(f"unknown image dataset {shown(name)}; choose one of "
                         f"{', '.join(IMAGE_DATASETS)}")
    return _mnist(root) if key == 'mnist' else _torchvision_dataset(key, root, download)


def to_float(images: Tensor) -> Tensor:
    """``uint8`` images to floats in ``[-1, 1]``."""
    return images.float().div_(127.5).sub_(1.0)


class ImageBatches:
    """Mini-batches of float images for :func:`graphdim.fit`, reshuffled every epoch.

    ``drop_last`` (default) drops a final batch smaller than ``batch_size``, which would have
    fewer negatives (and a batch of one image has none).
    """
    def __init__(self, images: Tensor, batch_size: int = 64, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = True):
        if images.dim() != 4 or images.dtype != torch.uint8:
            raise ValueError(f"images must be uint8 [N, C, H, W]; got {images.dtype} "
                             f"{list(images.shape)}")
        if batch_size < 2 or (drop_last and images.size(0) < batch_size):
            raise ValueError(f"need batch_size >= 2 and at least batch_size images; got "
                             f"batch_size {batch_size} for {images.size(0)} images")
        self.images, self.batch_size = images, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = self.images.size(0)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Tensor]:
        n = self.images.size(0)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield to_float(self.images[order[start:start + self.batch_size]])
