"""Issue 24, the command line and the training loop: Ctrl-C, out of memory and impossible
devices are one line each; fit and image DIM refuse NaN and negative settings."""
import math

import pytest
import torch

import graphdim.cli as cli
from graphdim import fit
from graphdim.image.dim import ImageDIM
from graphdim.image.encoders import ConvEncoder
from graphdim.prior import PriorMatching
from graphdim.runtime import NotEnoughMemoryError


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


@pytest.mark.parametrize('option, value', [
    ('patience', -1), ('min_epochs', -5), ('epochs', 0), ('lr', math.nan), ('lr', 0.0),
    ('lr', math.inf), ('weight_decay', math.nan), ('weight_decay', -1.0), ('patience', 2.5),
])
def test_fit_refuses_impossible_settings(option, value):
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=option):
        fit(model, torch.zeros(1), **{option: value}, progress=False)


@pytest.mark.parametrize('name', ['alpha', 'beta', 'gamma'])
@pytest.mark.parametrize('value', [math.nan, math.inf, -1.0])
def test_image_dim_weights_refuse_nan_and_negatives(name, value):
    with pytest.raises(ValueError, match=f'{name} must be a finite number'):
        ImageDIM.from_options(32, 3, mi_units=8, **{name: value})


def test_a_billion_mi_units_are_refused_before_allocating():
    with pytest.raises(NotEnoughMemoryError, match='lower --mi-units'):
        ImageDIM.from_options(32, 3, mi_units=1_000_000_000)


def test_image_mi_units_is_one_cli_line(data_root, capsys):
    code = cli.main(['image', '--root', str(data_root), '--mi-units', '1000000000',
                     '--epochs', '1', '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and 'lower --mi-units' in err and err.count('\n') == 1, err


def test_prior_lr_must_be_finite():
    with pytest.raises(ValueError, match="discriminator's lr"):
        PriorMatching(4, lr=math.nan)


def test_image_training_stops_on_a_non_finite_loss():
    from graphdim.data.images import ImageBatches
    model = ImageDIM(ConvEncoder.for_image_size(32, 1, fc_units=8, out_dim=4),
                     *_local(32), 4, mi_units=4)
    images = torch.randint(0, 255, (8, 1, 32, 32), dtype=torch.uint8)
    with pytest.raises(FloatingPointError, match='loss became'):
        fit(model, ImageBatches(images, 4), epochs=3, lr=1e30, progress=False, patience=0)


def _local(size):
    encoder = ConvEncoder.for_image_size(size, 1, fc_units=8, out_dim=4)
    return encoder.local_channels, encoder.local_size
