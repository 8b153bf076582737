"""torch.distributed: a 2-process gloo run on CPU, launched by torchrun, against one process."""
import json
import os
import subprocess
import sys

import pytest
import torch

TRAIN = ['-m', 'graphdim', 'train', '--dataset', 'Cora', '--hidden', '128', '--batch-size',
         '256', '--epochs', '12', '--patience', '0', '--device', 'cpu', '--no-download',
         '--quiet', '--json']


def _env(data_root):
    env = dict(os.environ, GRAPHDIM_DATA=str(data_root), OMP_NUM_THREADS='1')
    return env


def _summaries(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{')]


@pytest.mark.slow  # three training processes on Cora
def test_two_gloo_processes_match_one_process(data_root, tmp_path):
    """Each rank trains on half the seeds (DDP averages the gradients); only rank 0 reports
    and writes; accuracy equals the single-process run's within noise."""
    single = subprocess.run([sys.executable, *TRAIN], capture_output=True, text=True,
                            env=_env(data_root), timeout=600)
    assert single.returncode == 0, single.stderr
    out = tmp_path / 'ddp'
    ddp = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone',
                          '--nproc_per_node=2', *TRAIN, '--distributed', '--out', str(out)],
                         capture_output=True, text=True, env=_env(data_root), timeout=600)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    [summary] = _summaries(ddp.stdout)  # one report: rank 0's
    [reference] = _summaries(single.stdout)
    assert summary['world_size'] == 2 and summary['rank'] == 0
    assert reference['world_size'] == 1
    assert summary['runs'][0]['epochs'] == 12
    assert json.loads((out / 'results.json').read_text())['world_size'] == 2
    assert (out / 'seed_0' / 'model.pt').exists()
    assert summary['test_acc_mean'] > 70.0 and reference['test_acc_mean'] > 70.0
    assert abs(summary['test_acc_mean'] - reference['test_acc_mean']) < 3.0


def test_distributed_outside_torchrun_says_how_to_launch(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE')}
    proc = subprocess.run([sys.executable, '-m', 'graphdim', 'train', '--dataset', 'karate',
                           '--batch-size', '8', '--distributed', '--quiet'],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert 'torchrun --nproc_per_node=N -m graphdim train' in proc.stderr


@pytest.mark.parametrize('args,message', [
    (['--distributed'], '--distributed splits seed nodes between processes'),
    (['--num-neighbors', '10'], '--num-neighbors samples mini-batches'),
    (['--batch-size', '8', '--num-neighbors', '10,10'], 'one fan-out per layer'),
    (['--checkpoint-every', '2'], 'need --out DIR'),
    (['--resume'], 'need --out DIR'),
    (['--batch-size', '-3'], 'batch_size (--batch-size) must be >= 0'),
])
def test_bad_scaling_options_are_rejected(args, message, capsys):
    from graphdim import cli
    assert cli.main(['train', '--dataset', 'karate', '--quiet', *args]) == 2
    assert message in capsys.readouterr().err


class _OppositeLosses(torch.nn.Module):
    """``loss = w * batch`` with rank 0's batch +1 and rank 1's -3: the averaged loss falls
    every epoch while rank 0's own loss rises."""
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(1.0))

    def training_loss(self, batch):
        return (self.w * batch).sum()

    def embed(self, batch):
        return batch


def _fit_one_full_batch(rank, port, results):
    import torch.distributed as dist
    from graphdim import fit
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    try:
        model = _OppositeLosses()
        fit(model, torch.tensor([1.0 if rank == 0 else -3.0]), epochs=4, lr=0.1, patience=0,
            progress=False, distributed=True)
        results[rank] = float(model.w)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow  # two gloo processes, each starting torch
def test_distributed_full_batch_keeps_the_best_state_on_every_rank():
    """Rank 0's own loss never improves after epoch 1 while the averaged one does: the best
    state must still be taken from the averaged loss (it once ended as None on rank 0)."""
    import socket
    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    results = mp.Manager().dict()
    mp.spawn(_fit_one_full_batch, args=(port, results), nprocs=2, join=True)
    # Averaged loss -w falls as w rises: the best is the state before the last step (w after
    # three Adam steps of lr 0.1, each +0.1), the same on both ranks.
    assert results[0] == pytest.approx(1.3, abs=1e-5) and results[1] == results[0]
