"""Checkpoint and resume: an interrupted run, resumed, ends where an uninterrupted one ends."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import graphdim as gd
from graphdim.checkpoints import load_checkpoint
from graphdim.data.synthetic import synthetic_graph
from graphdim.graph.minibatch import MiniBatchDGI
from graphdim.loaders import node_loader

from conftest import random_graph


class Interrupted(Exception):
    pass


def stops_after(trainee, calls):
    """``trainee``, made to raise once ``calls`` losses have been computed (a crash)."""
    loss_of, left = trainee.training_loss, [calls]

    def training_loss(batch):
        if left[0] == 0:
            raise Interrupted
        left[0] -= 1
        return loss_of(batch)
    trainee.training_loss = training_loss
    return trainee


def _states_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('mode', ['minibatch', 'full'])
def test_interrupted_run_resumes_to_the_same_final_state(tmp_path, mode):
    data = synthetic_graph(200, 6, 16) if mode == 'minibatch' else random_graph(60, 16, 200)
    batches_per_epoch = 4 if mode == 'minibatch' else 1
    options = dict(epochs=9, patience=3, min_epochs=1, lr=0.01, progress=False)

    def setup(init_seed):
        gd.seed_everything(init_seed)
        model = gd.DeepGraphInfomax.from_options(16, 24)
        if mode == 'full':
            return model, model, data
        return model, MiniBatchDGI(model), node_loader(data, 50, gcn_normalized=True, seed=0)

    model, trainee, train_data = setup(0)
    gd.seed_everything(1)
    reference = gd.fit(trainee, train_data, **options)

    path = tmp_path / 'checkpoint.pt'
    model, trainee, train_data = setup(0)
    gd.seed_everything(1)
    with pytest.raises(Interrupted):  # crash in the middle of epoch 6
        gd.fit(stops_after(trainee, 5 * batches_per_epoch + batches_per_epoch // 2), train_data,
               checkpoint=path, checkpoint_every=2, **options)
    saved = load_checkpoint(path)
    assert len(saved['result']['losses']) == 4 and not saved['done']  # lost <= 2 epochs

    resumed_model, trainee, train_data = setup(123)  # other weights: all come from the file
    gd.seed_everything(99)  # other RNG state: restored from the file
    resumed = gd.fit(trainee, train_data, checkpoint=path, checkpoint_every=2, resume=True,
                     **options)
    assert resumed.losses == pytest.approx(reference.losses, rel=1e-6)
    assert (resumed.best_epoch, resumed.stopped_early) == (reference.best_epoch,
                                                           reference.stopped_early)
    _states_equal(resumed_model.state_dict(), _reference_state(reference, setup, options))
    assert load_checkpoint(path)['done']


def _reference_state(reference, setup, options):
    model, trainee, train_data = setup(0)
    gd.seed_everything(1)
    again = gd.fit(trainee, train_data, **options)
    assert again.losses == reference.losses  # the reference itself repeats exactly
    return model.state_dict()


def test_resume_of_a_finished_run_trains_no_more(tmp_path):
    data = random_graph(40, 8, 120)
    gd.seed_everything(0)
    model = gd.DeepGraphInfomax.from_options(8, 16)
    first = gd.fit(model, data, epochs=3, min_epochs=1, progress=False,
                   checkpoint=tmp_path / 'c.pt', checkpoint_every=5)
    assert load_checkpoint(tmp_path / 'c.pt')['done']  # the last epoch is always saved
    other = gd.DeepGraphInfomax.from_options(8, 16)
    again = gd.fit(other, data, epochs=3, min_epochs=1, progress=False,
                   checkpoint=tmp_path / 'c.pt', checkpoint_every=5, resume=True)
    assert again.losses == first.losses
    _states_equal(other.state_dict(), model.state_dict())


def test_checkpoint_options_are_checked(tmp_path):
    model, data = gd.DeepGraphInfomax.from_options(8, 8), random_graph(20, 8)
    with pytest.raises(ValueError, match='need a checkpoint path'):
        gd.fit(model, data, epochs=2, checkpoint_every=1)
    with pytest.raises(ValueError, match='checkpoint_every must be an integer >= 0'):
        gd.fit(model, data, epochs=2, checkpoint=tmp_path / 'c.pt', checkpoint_every=-1)
    (tmp_path / 'bad.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(Exception):
        gd.fit(model, data, epochs=2, checkpoint=tmp_path / 'bad.pt', resume=True)


CLI = ['-m', 'graphdim', 'train', '--dataset', 'synthetic:3000:8:32', '--hidden', '32',
       '--batch-size', '250', '--epochs', '8', '--patience', '0', '--quiet', '--json',
       '--device', 'cpu']


def _cli(args, **kwargs):
    return subprocess.run([sys.executable, *CLI, *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


@pytest.mark.slow  # three CLI processes, one killed: a long round trip
def test_killed_cli_run_resumes_to_the_uninterrupted_result(tmp_path):
    """A real SIGKILL after a checkpoint; ``--resume`` then ends with the same model."""
    reference = _cli(['--out', str(tmp_path / 'ref')])
    assert reference.returncode == 0, reference.stderr
    killed_dir = tmp_path / 'killed'
    checkpoint = killed_dir / 'seed_0' / 'checkpoint.pt'
    proc = subprocess.Popen([sys.executable, *CLI, '--out', str(killed_dir),
                             '--checkpoint-every', '1'], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if checkpoint.exists() and len(load_checkpoint(checkpoint)['result']['losses']) >= 2:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    saved = load_checkpoint(checkpoint)
    assert not saved['done'], 'the run finished before it could be killed'
    assert not (killed_dir / 'results.json').exists()
    resumed = _cli(['--out', str(killed_dir), '--checkpoint-every', '1', '--resume'])
    assert resumed.returncode == 0, resumed.stderr
    ref_summary = json.loads(reference.stdout.strip().splitlines()[-1])
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary['runs'][0]['test_acc'] == pytest.approx(ref_summary['runs'][0]['test_acc'])
    _states_equal(torch.load(killed_dir / 'seed_0' / 'model.pt', weights_only=True),
                  torch.load(tmp_path / 'ref' / 'seed_0' / 'model.pt', weights_only=True))
    # a different setting cannot resume this run
    changed = _cli(['--out', str(killed_dir), '--resume', '--lr', '0.01'])
    assert changed.returncode == 2 and 'lr (was 0.001, now 0.01)' in changed.stderr
