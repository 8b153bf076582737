"""The run folder's lock (graphdim.runlock): one writer at a time, and a lock file that is
anything but a plain file of its own (a link to a user's file, a hard link, a FIFO) is never
opened for writing, so nothing it points at is touched (issue 37, cause 1)."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import lock_holder
from helpers import copy_run, one_error_line as _one_error_line, run_snapshot as _snapshot
from graphdim import cli
from graphdim.runlock import LOCK_NAME, RunInUseError, run_lock
from graphdim.runs import RunFolder


TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--hidden', '8', '--quiet']


PRECIOUS = 'export PATH=precious\n'


@pytest.fixture
def victim(tmp_path):
    """A user's file outside the run folder, which nothing may change."""
    (tmp_path / 'bashrc').write_text(PRECIOUS)
    return tmp_path / 'bashrc'


def _link_lock(folder, victim, how):
    lock = folder / LOCK_NAME
    if lock.exists() or lock.is_symlink():
        lock.unlink()
    (os.symlink if how == 'symlink' else os.link)(victim, lock)


@pytest.mark.parametrize('how', ['symlink', 'hardlink'])
def test_a_linked_lock_file_is_refused_and_its_target_kept(tmp_path, victim, how):
    folder = tmp_path / 'run'
    folder.mkdir()
    _link_lock(folder, victim, how)
    with pytest.raises(RunInUseError, match='not a plain file'):
        with run_lock(folder, 'plot'):
            pass
    assert victim.read_text() == PRECIOUS


def test_a_fifo_lock_file_is_refused_without_blocking(tmp_path):
    folder = tmp_path / 'run'
    folder.mkdir()
    os.mkfifo(folder / LOCK_NAME)
    with pytest.raises(RunInUseError, match='not a plain file'):
        with run_lock(folder, 'plot'):
            pass


@pytest.mark.parametrize('how', ['symlink', 'hardlink'])
@pytest.mark.parametrize('command', [
    ['plot', '{run}'],
    ['embed', '{run}'],
    [*TRAIN, '--out', '{run}', '--resume'],
    [*TRAIN, '--out', '{run}', '--overwrite'],
])
def test_every_writer_leaves_a_linked_lock_target_alone(finished_run, tmp_path, victim, capsys,
                                                         how, command):
    run = tmp_path / 'run'
    shutil.copytree(finished_run, run)
    _link_lock(run, victim, how)
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir() if p.is_file()}
    argv = [a.format(run=run, tmp=tmp_path) for a in command]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert 'not a plain file' in err and 'Traceback' not in err, err
    assert victim.read_text() == PRECIOUS
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir() if p.is_file()} == before


def test_a_new_run_into_a_folder_holding_only_the_link(tmp_path, victim, capsys):
    run = tmp_path / 'new'
    run.mkdir()
    _link_lock(run, victim, 'symlink')
    assert cli.main([*TRAIN, '--out', str(run)]) == 2
    assert 'not a plain file' in capsys.readouterr().err
    assert victim.read_text() == PRECIOUS
    assert sorted(p.name for p in run.iterdir()) == [LOCK_NAME]


ROOT = Path(__file__).resolve().parents[2]


def test_a_second_writer_is_refused_while_a_run_is_written(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    holder = lock_holder(run)
    try:
        assert cli.main([*TRAIN, '--out', str(run), '--overwrite']) == 2
        _one_error_line(capsys, 'being written by', f'pid {holder.pid}', 'graphdim train')
        assert cli.main(['embed', str(run)]) == 2  # embed and plot write into it too
        _one_error_line(capsys, 'being written by')
        assert cli.main(['plot', str(run)]) == 2
        _one_error_line(capsys, 'being written by')
        assert _snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()
    assert cli.main([*TRAIN, '--out', str(run), '--overwrite']) == 0  # released: it writes


def test_a_stale_lock_of_a_dead_process_is_reported_and_taken_over(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    (run / '.graphdim.lock').write_text(f'pid={dead.pid} command=graphdim_train '
                                        f'since=2026-01-01T00:00:00\n')
    assert cli.main([*TRAIN, '--out', str(run), '--overwrite']) == 0
    err = capsys.readouterr().err
    assert f'pid {dead.pid}' in err and 'ended without releasing' in err
    assert (run / '.graphdim.lock').read_text() == ''  # released cleanly this time
    assert RunFolder(run).foreign_files() == []


def test_runlock_loads_without_the_package():
    """The lock module is stdlib only (the cause-3 tests load it alone in a child)."""
    spec = importlib.util.spec_from_file_location('runlock_alone',
                                                  ROOT / 'graphdim' / 'runlock.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LOCK_NAME == '.graphdim.lock'
