"""torch.distributed: a 2-process gloo run on CPU, launched by torchrun, against one process."""
import json
import os
import subprocess
import sys

import pytest

TRAIN = ['-m', 'graphdim', 'train', '--dataset', 'Cora', '--hidden', '128', '--batch-size',
         '256', '--epochs', '12', '--patience', '0', '--device', 'cpu', '--no-download',
         '--quiet', '--json']


def _env(data_root):
    env = dict(os.environ, GRAPHDIM_DATA=str(data_root), OMP_NUM_THREADS='1')
    return env


def _summaries(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{')]


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
    (['--batch-size', '-3'], '--batch-size must be >= 0'),
])
def test_bad_scaling_options_are_rejected(args, message, capsys):
    from graphdim import cli
    assert cli.main(['train', '--dataset', 'karate', '--quiet', *args]) == 2
    assert message in capsys.readouterr().err
