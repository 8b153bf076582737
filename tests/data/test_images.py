"""Image datasets by name (graphdim.data.images): a damaged local MNIST ``.npz`` copy (truncated,
without its images, with images of another size or with fractional labels) is one
CorruptDatasetError naming the file and the layout it must hold."""
import numpy as np
import pytest

from helpers import truncate
from graphdim.data.images import load_image_dataset
from graphdim.data.safe_load import CorruptDatasetError


def _mnist_root(tmp_path, train=None, test=None):
    folder = tmp_path / 'root' / 'images' / 'mnist'
    folder.mkdir(parents=True)
    images = np.zeros((20, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(20) % 10
    np.savez(folder / 'train.npz', **(train or {'images': images, 'labels': labels}))
    np.savez(folder / 'test.npz', **(test or {'images': images[:10], 'labels': labels[:10]}))
    return folder


MNIST_DAMAGE = {
    'truncated': lambda folder: truncate(folder / 'test.npz', 300),
    'no images': lambda folder: np.savez(folder / 'test.npz', labels=np.arange(10)),
    '14x14 test images': lambda folder: np.savez(
        folder / 'test.npz', images=np.zeros((10, 14, 14, 1), np.uint8), labels=np.arange(10)),
    'fractional labels': lambda folder: np.savez(
        folder / 'test.npz', images=np.zeros((10, 28, 28, 1), np.uint8),
        labels=np.arange(10) + 0.5),
}


@pytest.mark.parametrize('damage', list(MNIST_DAMAGE))
def test_corrupt_mnist_files_are_one_error_naming_the_file(damage, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    folder = _mnist_root(tmp_path)
    assert load_image_dataset('mnist', str(tmp_path / 'root')).test_images.shape[2:] == (28, 28)
    MNIST_DAMAGE[damage](folder)
    with pytest.raises(CorruptDatasetError) as info:
        load_image_dataset('mnist', str(tmp_path / 'root'))
    message = str(info.value)
    assert str(folder / 'test.npz') in message and 'images uint8 [N, H, W, C]' in message
    assert '\n' not in message
