"""Atomic writes of run files (graphdim.runtime: atomic_save, atomic_write_text,
FileWriteError): each file is written to a temporary file beside it and renamed, so a full disk
while saving a model or a text file is one error naming the file and the full disk, with no
half-written file or temporary left, and a live writer's temporary file is never deleted as a
stale one; karate runs of 2 epochs, in process."""
import errno
import os
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch

from helpers import one_error_line as _one_error_line
from graphdim import cli

TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']


def test_a_live_writers_temporary_file_is_never_deleted(tmp_path):
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


def test_full_disk_while_saving_the_model(tmp_path, capsys, monkeypatch):
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


def test_enospc_of_a_text_file_names_the_disk(tmp_path, monkeypatch):
    from graphdim.runtime import FileWriteError, atomic_write_text

    def fsync(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(FileWriteError, match='results.json.*the disk is full'):
        atomic_write_text('{}', tmp_path / 'results.json')
    assert os.listdir(tmp_path) == []
