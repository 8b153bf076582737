"""The command line: ``graphdim train`` / ``python -m graphdim train``."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import graphdim
from graphdim import NodeConfig, build_node_model, cli, embed, load_node_dataset

from conftest import under_ci

SUMMARY_KEYS = {'dataset', 'seeds', 'test_acc_mean', 'test_acc_std', 'epochs_mean',
                'epoch_seconds_median', 'train_seconds_total', 'peak_rss_mb'}
KARATE = ['train', '--dataset', 'karate', '--epochs', '30', '--json', '--quiet']


def _env():
    env = dict(os.environ)
    env.pop('GRAPHDIM_DATA', None)
    assert env.get('GRAPHDIM_CACHE'), 'the session fixture sets the cache'
    return env


def _check_summary(stdout: str):
    lines = [line for line in stdout.splitlines() if line.strip()]
    summary = json.loads(lines[-1])
    assert SUMMARY_KEYS <= set(summary)
    assert summary['dataset'] == 'karate' and summary['seeds'] == [0]
    assert 0.0 <= summary['test_acc_mean'] <= 100.0 and summary['test_acc_std'] == 0.0
    assert summary['epochs_mean'] == 30  # min_epochs 50 > 30: no early stop
    assert summary['epoch_seconds_median'] > 0 and summary['train_seconds_total'] > 0
    assert summary['peak_rss_mb'] > 10
    return summary


def test_python_dash_m_train_prints_json_summary_last():
    proc = subprocess.run([sys.executable, '-m', 'graphdim', *KARATE], capture_output=True,
                          text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    _check_summary(proc.stdout)
    assert 'test accuracy' in proc.stdout  # the human-readable report comes first


def test_console_script_train():
    script = shutil.which('graphdim') or (
        str(Path(sys.executable).parent / 'graphdim')
        if (Path(sys.executable).parent / 'graphdim').exists() else None)
    if script is None:
        if under_ci():
            pytest.fail('the graphdim console script is not installed')
        pytest.skip('the graphdim console script is not installed')
    proc = subprocess.run([script, 'train', '--epochs', '3', '--min-epochs', '1', '--hidden',
                           '16', '--json', '--quiet'], capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert SUMMARY_KEYS <= set(summary)
    assert summary['dataset'] == 'karate' and summary['epochs_mean'] == 3


def test_main_in_process_json(capsys):
    assert cli.main(['train', '--dataset', 'karate', '--epochs', '3', '--min-epochs', '1',
                     '--hidden', '8', '--json', '--quiet', '--estimator', 'jsd']) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary['config']['estimator'] == 'jsd' and summary['config']['hidden_channels'] == 8
    assert summary['epochs_mean'] == 3


def test_out_dir_writes_reloadable_artifacts(tmp_path, capsys):
    out = tmp_path / 'run'
    argv = ['train', '--dataset', 'karate', '--epochs', '5', '--min-epochs', '1', '--hidden',
            '16', '--seeds', '2', '--quiet', '--out', str(out)]
    assert cli.main(argv) == 0
    assert str(out) in capsys.readouterr().out
    config = json.loads((out / 'config.json').read_text())
    assert config['seeds'] == [0, 1]
    assert {'torch', 'torch_geometric', 'graphdim', 'python'} <= set(config['versions'])
    assert config['versions']['graphdim'] == graphdim.__version__
    results = json.loads((out / 'results.json').read_text())
    assert results['seeds'] == [0, 1] and len(results['runs']) == 2
    data = load_node_dataset('karate').data
    for seed in (0, 1):
        state = torch.load(out / f'seed_{seed}' / 'model.pt', weights_only=True)
        saved = torch.load(out / f'seed_{seed}' / 'embeddings.pt', weights_only=True)
        model = build_node_model(NodeConfig.from_dict(config['config']), config['in_channels'])
        model.load_state_dict(state)  # strict: every key matches
        assert saved.shape == (34, 16)
        assert torch.allclose(embed(model, data), saved, atol=1e-6)
    assert not list(out.rglob('*.tmp')), 'temporary files left behind'


@pytest.mark.parametrize('option', ['--encoder', '--estimator', '--readout', '--corruption',
                                    '--activation'])
def test_unknown_option_value_exits_nonzero_naming_it(option, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(['train', option, 'nope_value'])
    assert info.value.code != 0
    assert 'nope_value' in capsys.readouterr().err


def test_unknown_dataset_exits_2_naming_it(capsys):
    assert cli.main(['train', '--dataset', 'nope_data', '--quiet']) == 2
    err = capsys.readouterr().err
    assert 'nope_data' in err and 'karate' in err


def test_missing_dataset_exits_2_with_clear_message(tmp_path, capsys):
    code = cli.main(['train', '--dataset', 'Cora', '--root', str(tmp_path), '--no-download',
                     '--quiet'])
    assert code == 2
    captured = capsys.readouterr()
    assert 'Traceback' not in captured.err
    assert 'ind.cora.x' in captured.err and str(tmp_path) in captured.err
    assert '--root' in captured.err and 'GRAPHDIM_DATA' in captured.err


def test_missing_dataset_process_exit_code_is_2(tmp_path):
    proc = subprocess.run([sys.executable, '-m', 'graphdim', 'train', '--dataset', 'Cora',
                           '--root', str(tmp_path), '--no-download', '--quiet'],
                          capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 2
    assert 'ind.cora.x' in proc.stderr and 'Traceback' not in proc.stderr


def test_absent_gpu_is_a_clear_error(capsys):
    if torch.cuda.is_available():
        pytest.skip('a CUDA device is present')
    assert cli.main(['train', '--device', 'cuda', '--epochs', '1', '--quiet']) == 2
    assert 'cuda' in capsys.readouterr().err


# The command's own THP_MEM_ALLOC_ENABLE, set before torch loads: tests/cli/test_cli_startup.py


def test_cpu_allocator_tuning_is_idempotent_and_can_be_turned_off():
    import platform
    tuned = graphdim.tune_cpu_allocator()
    assert graphdim.tune_cpu_allocator() is tuned  # set once per process
    if sys.platform.startswith('linux') and platform.libc_ver()[0] == 'glibc':
        assert tuned is True
    code = 'import graphdim; print(graphdim.tune_cpu_allocator())'
    off = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env=dict(os.environ, GRAPHDIM_CPU_ALLOCATOR='default'), check=True)
    assert off.stdout.strip() == 'False'
