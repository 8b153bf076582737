"""Dataset roots and the dataset cache (graphdim.data.roots): a ``~user`` root that cannot be
expanded is a ValueError saying to give the full path, concurrent first loads of one dataset
(load_with_pyg) take turns building its cache, and a full cache disk is reported as a full disk
naming GRAPHDIM_CACHE, not as a problem of the raw files."""
import errno
import threading

import pytest

from graphdim.data import load_node_dataset
from graphdim.data.roots import load_with_pyg


def test_a_root_under_an_unknown_user_is_a_value_error(tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    with pytest.raises(ValueError, match=r"--root ~nosuchuser4z/data: cannot expand "
                                         r"'~nosuchuser4z'.*give the full path"):
        load_node_dataset('cora', root='~nosuchuser4z/data', download=False)


def _fake_dataset(tmp_path):
    raw = tmp_path / 'root' / 'family' / 'toy' / 'raw'
    raw.mkdir(parents=True)
    (raw / 'a.txt').write_text('1\n')
    return str(tmp_path / 'root')


def test_concurrent_first_loads_of_a_dataset_take_turns(tmp_path, monkeypatch):
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


def test_a_full_cache_disk_is_reported_as_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    root = _fake_dataset(tmp_path)

    def make(_):
        raise OSError(errno.ENOSPC, 'No space left on device')
    with pytest.raises(OSError) as info:
        load_with_pyg('family', 'toy', ['raw/a.txt'], make, root, download=False)
    assert info.value.errno == errno.ENOSPC and 'is full' in str(info.value)
    assert 'raw files' not in str(info.value) and 'GRAPHDIM_CACHE' in str(info.value)
    assert not isinstance(info.value, ValueError)
