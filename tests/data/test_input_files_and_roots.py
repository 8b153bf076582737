"""Input files and data roots (issue 27, causes 6, 7, 11, 12, 17 and 18): labels files, the
edge-list parser, corrupt raw datasets, ``~user`` roots, concurrent first loads of a dataset and
a full cache disk, each one error naming the file or the fix. The other causes of that round:
API misuse in tests/core/test_api_argument_errors.py, the probe's limits in tests/eval/
test_probe_limits.py, Ctrl-C while starting in tests/cli/test_cli_startup.py."""
import errno
import shutil
import threading

import numpy as np
import pytest

from graphdim.data import load_graph_dataset, load_node_dataset, read_edge_list
from graphdim.data.images import load_image_dataset
from graphdim.data.roots import load_with_pyg
from graphdim.data.safe_load import CorruptDatasetError
from graphdim.graph.checks import GraphInputError


def _path_edges(tmp_path, num_nodes):
    path = tmp_path / 'edges.txt'
    path.write_text(''.join(f'{i} {i + 1}\n' for i in range(num_nodes - 1)))
    return path


# 6 -----------------------------------------------------------------------------------------

def test_6_a_two_column_labels_file_is_refused_not_flattened(tmp_path):
    edges = _path_edges(tmp_path, 60)
    np.savetxt(tmp_path / 'labels.txt', np.zeros((30, 2)))  # 60 numbers, two per row
    with pytest.raises(GraphInputError, match=r'labels\.txt: labels must be one class index '
                                              r'per node.*shape \[30, 2\]'):
        read_edge_list(edges, labels=tmp_path / 'labels.txt', missing_features='ones')
    np.savetxt(tmp_path / 'column.txt', np.arange(60) % 2)  # one column: one label per node
    data = read_edge_list(edges, labels=tmp_path / 'column.txt', missing_features='ones')
    assert data.y.tolist() == [i % 2 for i in range(60)]


# 7 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('line', ['1_0 2', '\u0661 2', '0 \uff12', f'{2 ** 64} 1', '+1 2',
                                  '0 1 1_0'])
def test_7_edge_list_fields_are_plain_ascii_numbers(tmp_path, line):
    path = tmp_path / 'edges.txt'
    path.write_text(f'0 1\n{line}\n', encoding='utf-8')
    with pytest.raises(GraphInputError) as info:
        read_edge_list(path, missing_features='ones')
    message = str(info.value)
    assert message.startswith(f'{path}:2: ') and '\n' not in message
    assert 'renumber' in message or 'plain ASCII' in message


def test_7_a_utf8_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / 'edges.txt'
    path.write_bytes('\ufeff0 1\n1 2\n'.encode('utf-8'))
    data = read_edge_list(path, missing_features='ones')
    assert data.num_nodes == 3 and data.edge_index.size(1) == 4


# 11 ----------------------------------------------------------------------------------------

def _copy_raw(data_root, tmp_path, family, name):
    target = tmp_path / 'root' / family / name / 'raw'
    shutil.copytree(data_root / family / name / 'raw', target)
    for path in target.iterdir():
        path.chmod(0o644)
    return tmp_path / 'root', target


def _truncate(path, keep):
    path.write_bytes(path.read_bytes()[:keep])


def _corrupt_cora(data_root, tmp_path):
    root, raw = _copy_raw(data_root, tmp_path, 'planetoid', 'Cora')
    with open(raw / 'ind.cora.test.index', 'a') as index:
        index.write('99999999\n')  # IndexError inside PyG's reader
    return lambda: load_node_dataset('cora', str(root), download=False), 'ind.cora.test.index'


def _corrupt_amazon(data_root, tmp_path):
    source = data_root / 'gnn_benchmark' / 'Photo' / 'raw' / 'amazon_electronics_photo.npz'
    raw = tmp_path / 'root' / 'gnn_benchmark' / 'Photo' / 'raw'
    raw.mkdir(parents=True)
    with open(source, 'rb') as whole:  # a truncated download: zipfile.BadZipFile
        (raw / source.name).write_bytes(whole.read(100_000))
    return (lambda: load_node_dataset('amazon-photo', str(tmp_path / 'root'), download=False),
            source.name)


def _corrupt_mutag(data_root, tmp_path):
    root, raw = _copy_raw(data_root, tmp_path, 'TUDataset', 'MUTAG')
    _truncate(raw / 'MUTAG_A.txt', 30_000)  # fewer edges than edge labels: IndexError
    return lambda: load_graph_dataset('MUTAG', str(root), download=False), 'MUTAG_A.txt'


@pytest.mark.parametrize('corrupt', [_corrupt_cora, _corrupt_amazon, _corrupt_mutag])
def test_11_corrupt_raw_datasets_are_one_error_naming_the_file(corrupt, data_root, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    load, name = corrupt(data_root, tmp_path)
    with pytest.raises(CorruptDatasetError) as info:
        load()
    message = str(info.value)
    assert name in message and "dataset's original" in message and '\n' not in message
    assert str(tmp_path / 'root') in message  # the root's file, not the cache's link to it


# 12 ----------------------------------------------------------------------------------------

def _mnist_root(tmp_path, train=None, test=None):
    folder = tmp_path / 'root' / 'images' / 'mnist'
    folder.mkdir(parents=True)
    images = np.zeros((20, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(20) % 10
    np.savez(folder / 'train.npz', **(train or {'images': images, 'labels': labels}))
    np.savez(folder / 'test.npz', **(test or {'images': images[:10], 'labels': labels[:10]}))
    return folder


MNIST_DAMAGE = {
    'truncated': lambda folder: _truncate(folder / 'test.npz', 300),
    'no images': lambda folder: np.savez(folder / 'test.npz', labels=np.arange(10)),
    '14x14 test images': lambda folder: np.savez(
        folder / 'test.npz', images=np.zeros((10, 14, 14, 1), np.uint8), labels=np.arange(10)),
    'fractional labels': lambda folder: np.savez(
        folder / 'test.npz', images=np.zeros((10, 28, 28, 1), np.uint8),
        labels=np.arange(10) + 0.5),
}


@pytest.mark.parametrize('damage', list(MNIST_DAMAGE))
def test_12_corrupt_mnist_files_are_one_error_naming_the_file(damage, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    folder = _mnist_root(tmp_path)
    assert load_image_dataset('mnist', str(tmp_path / 'root')).test_images.shape[2:] == (28, 28)
    MNIST_DAMAGE[damage](folder)
    with pytest.raises(CorruptDatasetError) as info:
        load_image_dataset('mnist', str(tmp_path / 'root'))
    message = str(info.value)
    assert str(folder / 'test.npz') in message and 'images uint8 [N, H, W, C]' in message
    assert '\n' not in message


# 17 ----------------------------------------------------------------------------------------

def test_17_a_root_under_an_unknown_user_is_a_value_error(tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    with pytest.raises(ValueError, match=r"--root ~nosuchuser4z/data: cannot expand "
                                         r"'~nosuchuser4z'.*give the full path"):
        load_node_dataset('cora', root='~nosuchuser4z/data', download=False)


# 18 ----------------------------------------------------------------------------------------

def _fake_dataset(tmp_path):
    raw = tmp_path / 'root' / 'family' / 'toy' / 'raw'
    raw.mkdir(parents=True)
    (raw / 'a.txt').write_text('1\n')
    return str(tmp_path / 'root')


def test_18_concurrent_first_loads_of_a_dataset_take_turns(tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    root, events, second = _fake_dataset(tmp_path), [], []

    def load(make):
        return load_with_pyg('family', 'toy', ['raw/a.txt'], make, root, download=False)

    def make_second(_):
        events.append('second builds')
        return 'second'

    def make_first(_):
        thread = threading.Thread(target=lambda: second.append(load(make_second)))
        thread.start()
        thread.join(1.0)  # the second load must wait for this build to end
        events.append(f'first builds, second waiting: {thread.is_alive()}')
        second.append(thread)
        return 'first'

    assert load(make_first) == 'first'
    second[0].join(30)
    assert events == ['first builds, second waiting: True', 'second builds']
    assert second[1] == 'second'


def test_18_a_full_cache_disk_is_reported_as_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    root = _fake_dataset(tmp_path)

    def make(_):
        raise OSError(errno.ENOSPC, 'No space left on device')
    with pytest.raises(OSError) as info:
        load_with_pyg('family', 'toy', ['raw/a.txt'], make, root, download=False)
    assert info.value.errno == errno.ENOSPC and 'is full' in str(info.value)
    assert 'raw files' not in str(info.value) and 'GRAPHDIM_CACHE' in str(info.value)
    assert not isinstance(info.value, ValueError)
