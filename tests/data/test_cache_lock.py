"""The dataset cache's lock (graphdim.data.roots.cache_lock, a filelock.FileLock): concurrent
first loads of one dataset take turns, and a lock file that is a link is never opened through."""
import subprocess
import sys
import time

import pytest

from graphdim.data.roots import ENV_CACHE, cache_lock


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_CACHE, str(tmp_path / 'cache'))
    return tmp_path / 'cache'


def test_a_linked_cache_lock_file_is_refused_and_its_target_untouched(cache, tmp_path):
    (cache / '.locks').mkdir(parents=True)
    victim = tmp_path / 'not-there-yet'
    (cache / '.locks' / 'planetoid-Cora.lock').symlink_to(victim)
    with pytest.raises(OSError, match='is a link; graphdim never opens a lock file'):
        with cache_lock('planetoid', 'Cora'):
            pass
    assert not victim.exists()  # the old open(path, 'a') created it through the link


def test_two_processes_loading_one_dataset_take_turns(cache, tmp_path):
    done = tmp_path / 'first-load-done'
    code = ("import pathlib, time\n"
            "from graphdim.data.roots import cache_lock\n"
            "with cache_lock('planetoid', 'Cora'):\n"
            "    print('locked', flush=True); time.sleep(1.5)\n"
            f"    pathlib.Path({str(done)!r}).touch()\n")
    holder = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        start = time.monotonic()
        with cache_lock('planetoid', 'Cora'):
            waited = time.monotonic() - start
            assert done.exists()  # the other load ended before this one began
        assert waited > 0.5
        with cache_lock('planetoid', 'CiteSeer'):  # another dataset does not wait
            pass
    finally:
        holder.kill()
        holder.wait()
