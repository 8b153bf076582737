"""Data roots and caches never run code, and a cache follows the raw files it was built from."""
import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from helpers import truncate
from graphdim import load_node_dataset
from graphdim.data import load_graph_dataset
from graphdim.data.safe_load import (STAMP, CorruptDatasetError, UnsafeFileError,
                                     restricted_load)


class _RunsCode:
    """Unpickling this calls ``os.system``: the shape of a crafted data file."""
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.fixture
def cora_root(tmp_path, data_root):
    """A writable copy of Cora's raw files in a data-root layout."""
    raw = tmp_path / 'root' / 'planetoid' / 'Cora' / 'raw'
    shutil.copytree(data_root / 'planetoid' / 'Cora' / 'raw', raw)
    return tmp_path / 'root'


@pytest.fixture
def private_cache(monkeypatch, tmp_path):
    cache = tmp_path / 'cache'
    monkeypatch.setenv('GRAPHDIM_CACHE', str(cache))
    return cache


def _processed_files(cache: Path):
    return sorted(p for p in cache.rglob('processed/*') if p.name != STAMP)


def test_restricted_unpickler_reads_arrays_and_refuses_code(tmp_path):
    import numpy as np
    path = tmp_path / 'ok.pkl'
    path.write_bytes(pickle.dumps({'a': np.arange(3), 'b': [1, 2]}))
    with path.open('rb') as f:
        assert restricted_load(f)['a'].tolist() == [0, 1, 2]
    marker = tmp_path / 'ran'
    path.write_bytes(pickle.dumps(_RunsCode(marker)))
    with path.open('rb') as f, pytest.raises(UnsafeFileError, match='system.*not a numpy'):
        restricted_load(f)
    assert not marker.exists()


def test_crafted_raw_pickle_in_a_root_does_not_run(cora_root, private_cache, tmp_path):
    marker = tmp_path / 'ran'
    (cora_root / 'planetoid' / 'Cora' / 'raw' / 'ind.cora.x').write_bytes(
        pickle.dumps(_RunsCode(marker), protocol=2))
    with pytest.raises(UnsafeFileError, match=r'ind\.cora\.x'):
        load_node_dataset('Cora', root=str(cora_root), download=False)
    assert not marker.exists()


def test_crafted_processed_file_does_not_run_and_is_rebuilt(cora_root, private_cache,
                                                            tmp_path):
    reference = load_node_dataset('Cora', root=str(cora_root), download=False).data
    [processed, *_] = [p for p in _processed_files(private_cache) if p.suffix == '.pt']
    marker = tmp_path / 'ran'
    torch.save(_RunsCode(marker), processed)  # a crafted cache file under the same name
    again = load_node_dataset('Cora', root=str(cora_root), download=False).data
    assert not marker.exists()
    assert torch.equal(again.x, reference.x)


def test_truncated_processed_file_is_rebuilt(cora_root, private_cache):
    reference = load_node_dataset('Cora', root=str(cora_root), download=False).data
    [processed, *_] = [p for p in _processed_files(private_cache) if p.suffix == '.pt']
    processed.write_bytes(processed.read_bytes()[:100])
    again = load_node_dataset('Cora', root=str(cora_root), download=False).data
    assert torch.equal(again.edge_index, reference.edge_index)


def test_changed_raw_files_rebuild_the_cache(cora_root, private_cache):
    before = load_node_dataset('Cora', root=str(cora_root), download=False).data
    raw = cora_root / 'planetoid' / 'Cora' / 'raw'
    # One test index fewer: the cached test mask no longer matches the raw files.
    index = raw / 'ind.cora.test.index'
    lines = index.read_text().splitlines()
    index.write_text('\n'.join(lines[:-1]) + '\n')
    after = load_node_dataset('Cora', root=str(cora_root), download=False).data
    assert int(after.test_mask.sum()) == int(before.test_mask.sum()) - 1


def test_a_truncated_raw_file_is_one_message_through_the_cli(cora_root, private_cache,
                                                              capsys):
    from graphdim import cli
    raw = cora_root / 'planetoid' / 'Cora' / 'raw' / 'ind.cora.allx'
    raw.write_bytes(raw.read_bytes()[:1000])
    assert cli.main(['train', '--dataset', 'Cora', '--root', str(cora_root), '--no-download',
                     '--epochs', '1', '--quiet']) == 2
    err = capsys.readouterr().err
    assert 'could not read the raw files' in err and "dataset's original files" in err
    assert 'Traceback' not in err


def test_a_symlinked_processed_cache_is_not_trusted(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    first = load_node_dataset('cora', str(data_root))
    mirror = next((tmp_path / 'cache' / 'mirrors').glob('*/planetoid/Cora'))
    fake = tmp_path / 'fake_processed'
    (mirror / 'processed').rename(fake)
    torch.save({'tampered': True}, fake / 'data.pt')  # what an attacker left
    (mirror / 'processed').symlink_to(fake, target_is_directory=True)
    again = load_node_dataset('cora', str(data_root))
    assert torch.equal(again.data.x, first.data.x)
    assert not (mirror / 'processed').is_symlink()
    assert (fake / 'data.pt').is_file()  # the link is removed, not what it points at


def _copy_raw(data_root, tmp_path, family, name):
    target = tmp_path / 'root' / family / name / 'raw'
    shutil.copytree(data_root / family / name / 'raw', target)
    for path in target.iterdir():
        path.chmod(0o644)
    return tmp_path / 'root', target


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
    truncate(raw / 'MUTAG_A.txt', 30_000)  # fewer edges than edge labels: IndexError
    return lambda: load_graph_dataset('MUTAG', str(root), download=False), 'MUTAG_A.txt'


@pytest.mark.parametrize('corrupt', [_corrupt_cora, _corrupt_amazon, _corrupt_mutag])
def test_corrupt_raw_datasets_are_one_error_naming_the_file(corrupt, data_root, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    load, name = corrupt(data_root, tmp_path)
    with pytest.raises(CorruptDatasetError) as info:
        load()
    message = str(info.value)
    assert name in message and "dataset's original" in message and '\n' not in message
    assert str(tmp_path / 'root') in message  # the root's file, not the cache's link to it
