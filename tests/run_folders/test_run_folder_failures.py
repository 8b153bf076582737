"""Issue 27 (run folders, configuration, disks): one test per cause, each failing before its
fix. Causes 1, 2, 3, 4, 9, 13 and 15 (cause 5, options that act only with another:
tests/experiments/test_config_option_bounds.py); karate runs of 2 epochs, in process."""
import errno
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import lock_holder
from helpers import copy_run
from graphdim import cli
from graphdim.runs import RunFolder

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']


def _snapshot(folder: Path) -> dict:
    """Every file of ``folder`` (relative path -> bytes), the lock file aside."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file() and p.name != '.graphdim.lock'}


def _one_error_line(capsys, *needles) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('graphdim: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


class Hung(BaseException):
    """Raised by :func:`_deadline`: not an error the CLI turns into one line."""


@contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (cause 9 hung for ever)."""
    def expire(*_):
        raise Hung(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- cause 1: --overwrite never clears a run for a config that fails later -----------------
@pytest.mark.parametrize('options, needle', [
    (['--seed', '-1'], '--seed'),
    (['--seed', str(2 ** 32 - 1), '--seeds', '2'], '--seed'),
    (['--lr', '1e300'], 'lr'),
    (['--weight-decay', '1e300'], 'weight_decay'),
    (['--level', 'graph', '--dataset', 'MUTAG', '--lr', '1e300'], 'lr'),
    (['--level', 'graph', '--dataset', 'MUTAG', '--seed', '-1'], '--seed'),
])
def test_cause1_overwrite_checks_the_whole_config_before_clearing(finished_run, tmp_path,
                                                                   capsys, options, needle):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    args = [a for a in TRAIN if a not in ('--dataset', 'karate')] if '--level' in options \
        else TRAIN
    assert cli.main([*args, *options, '--out', str(run), '--overwrite']) == 2
    _one_error_line(capsys, needle)
    assert _snapshot(run) == before  # results.json and seed_0/ are still there


def test_cause1_image_level_float32_overflow_is_refused_before_clearing(finished_run,
                                                                        tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    assert cli.main(['image', '--epochs', '1', '--lr', '1e300', '--out', str(run),
                     '--overwrite', '--quiet']) == 2
    _one_error_line(capsys, 'lr', 'float32')
    assert _snapshot(run) == before


@pytest.mark.parametrize('failure', [FloatingPointError('the training loss became nan'),
                                     KeyboardInterrupt()])
def test_cause1_a_run_that_fails_after_the_checks_puts_the_old_run_back(
        finished_run, tmp_path, capsys, monkeypatch, failure):
    """A value no check can foresee (--lr 1e30 turns the loss NaN), or Ctrl-C: the old run
    was set aside, not deleted, and comes back."""
    import graphdim.experiments.node as node
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)

    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr(node, 'fit', fails)
    code = cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite'])
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 2)
    assert _snapshot(run) == before
    assert sorted(p.name for p in run.iterdir()) == ['.graphdim.lock', 'config.json',
                                                     'labels.pt', 'results.json', 'seed_0']
    monkeypatch.undo()
    assert cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite']) == 0
    assert not (run / '.previous').exists()  # the old run is gone once the new one finished
    assert json.loads((run / 'config.json').read_text())['config']['hidden_channels'] == 16


# --- cause 2: embed --out never replaces the run's own files --------------------------------
@pytest.mark.parametrize('inside', ['seed_0/embeddings', 'seed_0/model', 'labels', 'config',
                                    'seed_0/embeddings.npy'])
def test_cause2_embed_out_may_not_replace_the_runs_own_files(finished_run, tmp_path, capsys,
                                                             inside):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    assert cli.main(['embed', str(run), '--out', str(run / inside)]) == 2
    _one_error_line(capsys, '--out', 'outside')
    assert _snapshot(run) == before
    assert cli.main(['plot', str(run)]) == 0  # the run is as it was: plot does not object


# --- cause 3: one writer per run folder -----------------------------------------------------
def test_cause3_a_second_writer_is_refused_while_a_run_is_written(finished_run, tmp_path,
                                                                  capsys):
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


def test_cause3_a_stale_lock_of_a_dead_process_is_reported_and_taken_over(finished_run,
                                                                          tmp_path, capsys):
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


def test_cause3_a_live_writers_temporary_file_is_never_deleted(tmp_path):
    """Concurrent --resume: one deleted the other's live temporary checkpoint as stale."""
    from graphdim.runtime import atomic_save
    live = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    try:
        ours = tmp_path / f'.checkpoint.pt.{live.pid}-abc123.tmp'
        stale = tmp_path / f'.checkpoint.pt.{dead.pid}-def456.tmp'
        ours.write_bytes(b'half'), stale.write_bytes(b'left')
        atomic_save({'a': torch.zeros(2)}, tmp_path / 'checkpoint.pt')
        assert ours.exists() and not stale.exists()
    finally:
        live.kill()
        live.wait()


# --- cause 4: embed writes .npy through a temporary file ------------------------------------
def test_cause4_embed_leaves_no_torn_npy_on_a_full_disk(finished_run, tmp_path, capsys,
                                                        monkeypatch):
    run = copy_run(finished_run, tmp_path)
    out = tmp_path / 'z'
    real_save = np.save

    def full_disk(file, array, *args, **kwargs):  # half the bytes, then ENOSPC
        real_save(file, array[:len(array) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(np, 'save', full_disk)
    assert cli.main(['embed', str(run), '--out', str(out)]) == 2
    _one_error_line(capsys, 'z.npy', 'disk is full')
    assert sorted(os.listdir(tmp_path)) == ['run']  # no .pt, no torn .npy, no temporary
    monkeypatch.undo()
    assert cli.main(['embed', str(run), '--out', str(out)]) == 0
    assert np.load(tmp_path / 'z.npy').shape[0] == 34


# --- cause 9: hops read from a run folder are bounded ---------------------------------------
def test_cause9_tampered_hops_are_refused_not_run_for_ever(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    saved = json.loads((run / 'config.json').read_text())
    saved['config']['hops'] = [10 ** 12]
    (run / 'config.json').write_text(json.dumps(saved))
    with _deadline(60):
        assert cli.main(['embed', str(run), '--out', str(tmp_path / 'z')]) == 2
    _one_error_line(capsys, 'hops', '100')
    saved['config'].update(hops=[0, 1], reinforcement=['add'])  # K from results.json
    (run / 'config.json').write_text(json.dumps(saved))
    results = json.loads((run / 'results.json').read_text())
    results['runs'][0].update(hops=10 ** 12, reinforcement='add')
    (run / 'results.json').write_text(json.dumps(results))
    with _deadline(60):
        assert cli.main(['embed', str(run), '--out', str(tmp_path / 'z')]) == 2
    _one_error_line(capsys, 'results.json', '--hops K')
    with _deadline(60):
        assert cli.main(['embed', str(run), '--hops', str(10 ** 12),
                         '--out', str(tmp_path / 'z')]) == 2
    _one_error_line(capsys, '--hops', '100')


# --- cause 13: a full disk while saving is one line, nothing half-written -------------------
def test_cause13_full_disk_while_saving_the_model(tmp_path, capsys, monkeypatch):
    real_save = torch.save

    def full_disk(obj, file, *args, **kwargs):  # torch's own words for ENOSPC
        if isinstance(obj, OrderedDict):  # a state dict: model.pt
            file.write(b'PK\x03\x04 half a zip')
            raise RuntimeError('[enforce fail at inline_container.cc:778] . PytorchStreamWriter '
                               'failed writing file data/0: file write failed')
        return real_save(obj, file, *args, **kwargs)

    monkeypatch.setattr(torch, 'save', full_disk)
    out = tmp_path / 'run'
    assert cli.main([*TRAIN, '--out', str(out)]) == 2
    _one_error_line(capsys, str(out / 'seed_0' / 'model.pt'), 'space', 'half-written')
    files = [p.name for p in out.rglob('*')]
    assert not [name for name in files if name.endswith('.tmp')], files
    assert 'model.pt' not in files and 'results.json' not in files


def test_cause13_enospc_of_a_text_file_names_the_disk(tmp_path, monkeypatch):
    from graphdim.runtime import FileWriteError, atomic_write_text

    def fsync(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(FileWriteError, match='results.json.*the disk is full'):
        atomic_write_text('{}', tmp_path / 'results.json')
    assert os.listdir(tmp_path) == []


# --- cause 15: inconsistent run folders are one line naming the file -----------------------
def test_cause15_labels_shorter_than_the_embeddings(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    torch.save(torch.load(run / 'labels.pt')[:10], run / 'labels.pt')
    assert cli.main(['plot', str(run)]) == 2
    _one_error_line(capsys, 'labels.pt', '10 labels for 34')


@pytest.mark.parametrize('content', ['[]', '{"runs": 3}', '{"runs": [1]}', '{not json'])
def test_cause15_a_tampered_results_json_names_the_file(finished_run, tmp_path, capsys,
                                                        content):
    run = copy_run(finished_run, tmp_path)
    saved = json.loads((run / 'config.json').read_text())
    saved['config'].update(hops=[0, 1], reinforcement=['add'])  # embed reads results.json
    (run / 'config.json').write_text(json.dumps(saved))
    (run / 'results.json').write_text(content)
    assert cli.main(['embed', str(run), '--out', str(tmp_path / 'z')]) == 2
    _one_error_line(capsys, str(run / 'results.json'))
    with pytest.raises(ValueError, match='results.json'):
        RunFolder(run).read_results()


def test_runlock_loads_without_the_package():
    """The lock module is stdlib only (the cause-3 tests load it alone in a child)."""
    spec = importlib.util.spec_from_file_location('runlock_alone',
                                                  ROOT / 'graphdim' / 'runlock.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.LOCK_NAME == '.graphdim.lock'
