"""Plots and embeddings through the command line (issue 30): ``train --plot`` without
matplotlib fails before training, ``graphdim plot`` draws plots fit for a paper, and ``graphdim
embed`` says which embeddings it writes (the rest of issue 30: --version and the line before
torch loads in tests/cli/test_cli_startup.py, the namespace-package trap and clean docstrings
in tests/repo/test_repository.py, progress on every long phase in
tests/core/test_progress_in_runs.py).

All in-process and small (karate, tiny epochs): seconds each."""
import errno
import json
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import copy_run, one_error_line as _one_error_line, run_snapshot as _snapshot
import graphdim
from graphdim import cli
from graphdim.graph.reinforcement import reinforce
from graphdim.runs import RunFolder

# A short karate run: every phase of `graphdim train` in a few seconds.
KARATE = ['train', '--dataset', 'karate', '--epochs', '4', '--min-epochs', '0', '--hidden',
          '16']


@pytest.fixture(scope='module')
def reinforced_run(tmp_path_factory):
    """A karate run probed on z + A^2 z (one K: reinforced whatever validation says)."""
    out = tmp_path_factory.mktemp('first_contact') / 'run'
    assert cli.main([*KARATE, '--hops', '2', '--quiet', '--out', str(out)]) == 0
    return out


# --plot without matplotlib ---------------------------------------------------------------------
@pytest.mark.parametrize('argv', [
    ['train', '--dataset', 'Cora', '--plot'],  # the command: no --out either
    [*KARATE, '--plot', '--out', 'unused'],
    ['train', '--level', 'graph', '--dataset', 'MUTAG', '--plot', '--out', 'unused'],
])
def test_plot_without_matplotlib_fails_before_training_in_one_line(argv, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'matplotlib', None)  # `import matplotlib` now fails

    def must_not_run(*args, **kwargs):
        raise AssertionError('training started although --plot cannot work')
    monkeypatch.setattr('graphdim.cli.train.node_run_summary', must_not_run)
    monkeypatch.setattr('graphdim.cli.train_graph.graph_run_summary', must_not_run)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('graphdim: error: ')
    assert "pip install 'graphdim[plot]'" in err[0]


# plots -------------------------------------------------------------------------------------------
def test_tsne_plots_the_headline_embeddings_with_legend_and_title(reinforced_run, monkeypatch,
                                                                  tmp_path):
    pytest.importorskip('matplotlib')
    from graphdim import plots
    figures = []
    monkeypatch.setattr(plots, 'save_figures', lambda drawn, *args: figures.extend(
        figure for figure, _ in drawn) or [])
    drawn = {}
    original = plots.tsne_figure

    def spy(embeddings, labels, title='', **kwargs):
        drawn.update(embeddings=embeddings, title=title)
        return original(embeddings, labels, title, **kwargs)
    monkeypatch.setattr(plots, 'tsne_figure', spy)
    plots.plot_run(reinforced_run, tmp_path)
    folder = RunFolder(reinforced_run)
    plain = folder.read_embeddings(0)
    data = graphdim.load_node_dataset('karate').data
    assert torch.allclose(drawn['embeddings'], reinforce(plain, data.edge_index, 2))
    run = json.loads(folder.results_path.read_text())['runs'][0]
    tsne, loss = figures
    title = tsne.axes[0].get_title()
    assert 'DGI on karate' in title and r'reinforced ($z + \hat{A}^{K} z$, K=2)' in title
    assert f"test accuracy {run['test_acc']:.2f} %" in title
    legend = [text.get_text() for text in tsne.axes[0].get_legend().get_texts()]
    assert legend == ['Mr. Hi', 'Officer']  # networkx's names of the two clubs
    assert loss.axes[0].get_title() == 'DGI on karate: training loss (bce estimator)'
    loss_legend = [text.get_text() for text in loss.axes[0].get_legend().get_texts()]
    assert f"best epoch {run['best_epoch']} (kept)" in loss_legend


def test_plot_command_writes_pngs_and_is_quiet_on_request(reinforced_run, tmp_path, capsys):
    pytest.importorskip('matplotlib')
    assert cli.main(['plot', str(reinforced_run), '--out', str(tmp_path), '--quiet']) == 0
    captured = capsys.readouterr()
    assert captured.err == ''
    assert (tmp_path / 'tsne_seed0.png').is_file() and (tmp_path / 'loss.png').is_file()


# graphdim embed ----------------------------------------------------------------------------------
def test_embed_says_which_embeddings_it_writes(reinforced_run, tmp_path, capsys):
    out = tmp_path / 'emb'
    assert cli.main(['embed', str(reinforced_run), '--out', str(out), '--quiet']) == 0
    printed = capsys.readouterr().out
    assert 'reinforced (z + A^K z, K=2) embeddings' in printed and f'{out}.json' in printed
    info = json.loads(Path(f'{out}.json').read_text())
    assert info['embeddings'] == 'reinforced' and info['hops'] == 2
    assert info['form'] == 'z + A^K z' and info['count'] == 34 and info['dim'] == 16
    plain = RunFolder(reinforced_run).read_embeddings(0)
    written = torch.load(f'{out}.pt', weights_only=True)['embeddings']
    data = graphdim.load_node_dataset('karate').data
    assert torch.allclose(written, reinforce(plain, data.edge_index, 2), atol=1e-6)
    assert not list(tmp_path.glob('*.tmp')) and not list(tmp_path.glob('.*'))

    assert cli.main(['embed', str(reinforced_run), '--hops', '0', '--quiet']) == 0
    assert 'plain embeddings' in capsys.readouterr().out
    info = json.loads((reinforced_run / 'embeddings_karate.json').read_text())
    assert info['embeddings'] == 'plain' and info['hops'] == 0 and info['form'] == 'z'
    # The JSON is one of the run's own files: --overwrite may still replace the folder.
    assert RunFolder(reinforced_run).foreign_files() == []


# embed on a finished run's folder: --out, a full disk, tampered hops ------------------------------
class Hung(BaseException):
    """Raised by :func:`_deadline`: not an error the CLI turns into one line."""


@contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (tampered hops once hung for ever)."""
    def expire(*_):
        raise Hung(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize('inside', ['seed_0/embeddings', 'seed_0/model', 'labels', 'config',
                                    'seed_0/embeddings.npy'])
def test_embed_out_may_not_replace_the_runs_own_files(finished_run, tmp_path, capsys, inside):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    assert cli.main(['embed', str(run), '--out', str(run / inside)]) == 2
    _one_error_line(capsys, '--out', 'outside')
    assert _snapshot(run) == before
    assert cli.main(['plot', str(run)]) == 0  # the run is as it was: plot does not object


def test_embed_leaves_no_torn_npy_on_a_full_disk(finished_run, tmp_path, capsys, monkeypatch):
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


def test_tampered_hops_are_refused_not_run_for_ever(finished_run, tmp_path, capsys):
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
