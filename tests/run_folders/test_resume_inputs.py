"""--resume checks the checkpoint against the model before loading anything (issue 37, causes
7 and 12): a changed input or a crafted checkpoint is one ValueError naming the file and what
differs, never torch's size-mismatch RuntimeError or a KeyError from the random states."""
import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim import cli

from conftest import random_graph


def _fit(path, in_channels=4, hidden=8, resume=False):
    gd.seed_everything(0)
    model = gd.DeepGraphInfomax.from_options(in_channels, hidden)
    return gd.fit(model, random_graph(20, in_channels, 40), epochs=4, patience=0,
                  progress=False, checkpoint=path, checkpoint_every=2, resume=resume)


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / 'checkpoint.pt'
    _fit(path)
    return path


def test_another_models_checkpoint_names_the_file_and_the_shapes(checkpoint):
    with pytest.raises(ValueError, match=r'checkpoint\.pt does not fit this run: its model '
                                         r'state holds .*\[8, 4\] where this model has .*'
                                         r'\[8, 6\]'):
        _fit(checkpoint, in_channels=6, resume=True)
    with pytest.raises(ValueError, match=r'checkpoint\.pt does not fit this run'):
        _fit(checkpoint, hidden=16, resume=True)


def _crafted(path, change):
    saved = torch.load(path, weights_only=True)
    if change == 'extra result key':
        saved['result']['extra'] = 1
    elif change == 'foreign model':
        saved['model'] = {'weight': torch.zeros(3)}
    elif change == 'foreign best_state':
        saved['best_state'] = dict(saved['best_state'], unexpected=torch.zeros(1))
    elif change == 'foreign optimizer':
        saved['optimizer'] = {'state': {}, 'param_groups': [{'params': [0]}]}
    elif change == 'optimizer moments of another shape':
        saved['optimizer']['state'][0]['exp_avg'] = torch.zeros(2, 2)
    elif change == 'optimizer of another lr':
        saved['optimizer']['param_groups'][0]['lr'] = 1e38
    elif change == 'waited is text':
        saved['waited'] = 'ten'
    torch.save(saved, path)


@pytest.mark.parametrize('change, what', [
    ('extra result key', r'training record has the fields .*extra'),
    ('foreign model', r'model state lacks entries this model has'),
    ('foreign best_state', r"best model state has entries this model lacks \('unexpected'\)"),
    ('foreign optimizer', r'optimizer state covers 1 parameter tensors where this model has 4'),
    ('optimizer moments of another shape', r"optimizer state holds 'exp_avg' of shape \[2, 2\]"),
    ('optimizer of another lr', r"optimizer state has 'lr' 1e\+38 where this run has 0\.001"),
    ('waited is text', r'training record .* other types'),
])
def test_a_crafted_checkpoint_is_refused_before_loading(checkpoint, change, what):
    _crafted(checkpoint, change)
    with pytest.raises(ValueError, match=r'checkpoint\.pt does not fit this run: its ' + what):
        _fit(checkpoint, resume=True)


def test_a_bad_random_state_names_the_checkpoint(checkpoint):
    saved = torch.load(checkpoint, weights_only=True)
    saved['rng'][0]['python'] = (1, 2)
    torch.save(saved, checkpoint)
    with pytest.raises(ValueError, match=r'checkpoint\.pt holds random-number states graphdim '
                                         r'did not write'):
        _fit(checkpoint, resume=True)
    saved['rng'] = [saved['rng'][0]] * 2
    torch.save(saved, checkpoint)
    with pytest.raises(ValueError, match=r'checkpoint .*checkpoint\.pt was written by 2 '
                                         r'process'):
        _fit(checkpoint, resume=True)


def test_cli_resume_after_the_feature_file_changed_is_one_error_line(tmp_path, capsys):
    edges = tmp_path / 'ring.txt'
    edges.write_text(''.join(f'{i} {(i + 1) % 12}\n' for i in range(12)))
    features = tmp_path / 'x.npy'
    np.save(features, np.random.default_rng(0).random((12, 4), dtype=np.float32))
    run = tmp_path / 'run'
    args = ['train', '--graph', str(edges), '--features', str(features), '--epochs', '4',
            '--hidden', '8', '--patience', '0', '--checkpoint-every', '2', '--out', str(run),
            '--quiet']
    assert cli.main(args) == 0
    (run / 'results.json').unlink()  # as a run killed after its last checkpoint leaves it
    np.save(features, np.random.default_rng(0).random((12, 6), dtype=np.float32))
    capsys.readouterr()
    assert cli.main([*args, '--resume']) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and 'checkpoint.pt does not fit this run' in error[0], error
