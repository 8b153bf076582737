"""The command line's errors (issue 24): Ctrl-C, out of memory, impossible devices and image
units that cannot fit are one line each (fit's and image DIM's own refusals:
tests/core/test_train.py, tests/image/test_image_dim_settings.py)."""
import pytest
import torch

import graphdim.cli as cli
import graphdim.runtime as runtime


def _raise(error):
    def run(args):
        raise error
    return run


def _main_with(monkeypatch, capsys, error, argv=('train', '--quiet')):
    from graphdim.cli import train
    monkeypatch.setattr(train, 'run', _raise(error))
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    code, err = _main_with(monkeypatch, capsys, KeyboardInterrupt())
    assert code == 130 and err.startswith('graphdim: interrupted') and err.count('\n') == 1
    assert 'Traceback' not in err


@pytest.mark.parametrize('error', [
    RuntimeError('[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: can\'t allocate '
                 'memory: you tried to allocate 4000000000000 bytes. Error code 12'),
    torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 20.00 GiB'),
    MemoryError(),
])
def test_out_of_memory_is_one_line_naming_what_to_lower(monkeypatch, capsys, error):
    code, err = _main_with(monkeypatch, capsys, error)
    assert code == 2 and err.startswith('graphdim: error: out of memory') and \
        err.count('\n') == 1 and '--hidden' in err, err


def test_other_runtime_errors_keep_their_traceback(monkeypatch, capsys):
    with pytest.raises(RuntimeError, match='a bug'):
        _main_with(monkeypatch, capsys, RuntimeError('a bug'))


def test_debug_shows_the_interrupt(monkeypatch, capsys):
    with pytest.raises(KeyboardInterrupt):
        _main_with(monkeypatch, capsys, KeyboardInterrupt(), ('train', '--debug'))


def test_device_meta_is_one_line(capsys):
    code = cli.main(['train', '--device', 'meta', '--epochs', '1', '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and "device 'meta' cannot train" in err and err.count('\n') == 1


def test_image_mi_units_is_one_cli_line(data_root, capsys):
    code = cli.main(['image', '--root', str(data_root), '--mi-units', '1000000000',
                     '--epochs', '1', '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and 'lower --mi-units' in err and err.count('\n') == 1, err


def test_a_tu_dataset_degree_cap_that_cannot_fit_names_max_degree(data_root, monkeypatch,
                                                                 capsys):
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 10 ** 8)
    code = cli.main(['train', '--level', 'graph', '--dataset', 'IMDB-BINARY', '--root',
                     str(data_root), '--max-degree', '100000', '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and 'lower --max-degree' in err and err.count('\n') == 1, err
