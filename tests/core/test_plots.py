"""``graphdim plot``: all pictures or none, figures for papers (pdf / svg, dpi, a seed or all
of them, class names in the legend), and no crash or cryptic line on degenerate input
(issue 36 item 5; issue 37 causes 5, 11 and 12). Karate and tiny graphs: the file runs in
well under 30 s."""
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from graphdim import cli, plots
from graphdim.data import karate_club

pytest.importorskip('matplotlib')
pytest.importorskip('sklearn')
TRAIN = ['train', '--epochs', '2', '--hidden', '8', '--quiet']


@pytest.fixture(scope='module')
def karate_run(tmp_path_factory):
    """A finished karate run of two seeds."""
    run = tmp_path_factory.mktemp('plots') / 'run'
    assert cli.main([*TRAIN, '--dataset', 'karate', '--seeds', '2', '--out', str(run)]) == 0
    return run


@pytest.fixture
def run_copy(karate_run, tmp_path):
    copy = tmp_path / 'run'
    shutil.copytree(karate_run, copy)
    return copy


def _plot(argv, capsys):
    capsys.readouterr()
    code = cli.main(['plot', *map(str, argv)])
    return code, capsys.readouterr().err


def _one_error_line(err: str) -> str:
    assert 'Traceback' not in err and err.count('graphdim: error:') == 1, err
    return err[err.index('graphdim: error:'):]


def test_a_plot_that_fails_writes_no_picture(run_copy, tmp_path, capsys):
    """Issue 36: seed 1's log unreadable after seed 0's t-SNE was written left
    tsne_seed0.png behind. Everything is read before anything is written."""
    (run_copy / 'seed_1' / 'log.jsonl').write_bytes(b'\x93\x00 not json')
    code, err = _plot([run_copy, '--out', tmp_path / 'pictures'], capsys)
    assert code == 2 and 'log.jsonl' in _one_error_line(err)
    assert not (tmp_path / 'pictures').exists()


def test_a_group_whose_last_figure_fails_to_render_leaves_none(run_copy, tmp_path,
                                                                monkeypatch):
    """The pictures are written as one group: a failure while rendering the last one
    leaves neither it nor those rendered before it, nor the folder made for them."""
    def broken_loss_figure(*args, **kwargs):
        figure = original(*args, **kwargs)
        figure.savefig = lambda *a, **k: (_ for _ in ()).throw(OSError('disk full'))
        return figure
    original = plots.loss_figure
    monkeypatch.setattr(plots, 'loss_figure', broken_loss_figure)  # after tsne_seed0.png
    with pytest.raises(OSError, match='disk full'):
        plots.plot_run(run_copy, tmp_path / 'new' / 'pictures')
    assert not (tmp_path / 'new').exists()


def test_pdf_and_svg_are_vector_and_every_seed_can_be_mapped(karate_run, tmp_path, capsys):
    code, err = _plot([karate_run, '--out', tmp_path, '--format', 'pdf', '--seed', 'all'],
                      capsys)
    assert code == 0, err
    assert sorted(os.listdir(tmp_path)) == ['loss.pdf', 'tsne_seed0.pdf', 'tsne_seed1.pdf']
    for name in os.listdir(tmp_path):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b'%PDF') and b'/Subtype /Image' not in data  # no raster
    code, err = _plot([karate_run, '--out', tmp_path / 'svg', '--format', 'svg', '--seed',
                       '1', '--max-points', '2'], capsys)  # 2 points: perplexity adapted
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / 'svg')) == ['loss.svg', 'tsne_seed1.svg']
    assert b'<image' not in (tmp_path / 'svg' / 'tsne_seed1.svg').read_bytes()
    code, err = _plot([karate_run, '--out', tmp_path / 'x', '--seed', '7'], capsys)
    assert code == 2 and "--seed must be a seed of the run (0, 1) or all" in err


def test_dpi_sets_the_png_resolution(run_copy, tmp_path, capsys):
    os.remove(run_copy / 'seed_0' / 'embeddings.pt')  # the loss curve alone: quick
    code, err = _plot([run_copy, '--out', tmp_path, '--dpi', '50'], capsys)
    assert code == 0, err
    header = (tmp_path / 'loss.png').read_bytes()[:24]
    assert header[:8] == b'\x89PNG\r\n\x1a\n'
    assert struct.unpack('>II', header[16:24]) == (320, 200)  # 6.4 x 4 inches at 50 dpi
    code, err = _plot([run_copy, '--out', tmp_path, '--dpi', '0'], capsys)
    assert code == 2 and '--dpi must be a whole number from 20 to 1200' in err


def test_the_legend_names_the_classes_of_a_run_given_label_names(tmp_path, monkeypatch):
    """``train --labels lab.txt --label-names names.txt``: the run keeps the names and the
    t-SNE legend shows them as written ('$' and a leading '_' included); karate's clubs
    are named from networkx's data."""
    n = 24
    (tmp_path / 'g.txt').write_text(''.join(f'{i} {(i + 1) % n}\n{i} {(i + 5) % n}\n'
                                            for i in range(n)))
    np.save(tmp_path / 'x.npy', np.random.default_rng(0).random((n, 6), dtype=np.float32))
    (tmp_path / 'lab.txt').write_text(''.join(f'{i % 3}\n' for i in range(n)))
    (tmp_path / 'names.txt').write_text('2\t_gamma\n0\tcats & dogs\n1\t$5 birds\n')
    run = tmp_path / 'run'
    assert cli.main([*TRAIN, '--graph', str(tmp_path / 'g.txt'), '--features',
                     str(tmp_path / 'x.npy'), '--labels', str(tmp_path / 'lab.txt'),
                     '--label-names', str(tmp_path / 'names.txt'), '--out', str(run)]) == 0
    drawn = []
    monkeypatch.setattr(plots, 'save_figures', lambda figures, *a: drawn.extend(figures) or [])
    plots.plot_run(run, tmp_path / 'pictures')
    legend = [t.get_text() for t in drawn[0][0].axes[0].get_legend().get_texts()]
    assert [name.lstrip('\u200b').replace(r'\$', '$') for name in legend] == \
        ['cats & dogs', '$5 birds', '_gamma']
    clubs = plots.dataset_class_names('karate')
    y = karate_club().y
    assert (clubs[y[0]], clubs[y[33]]) == ('Mr. Hi', 'Officer')  # the two leaders


def _guard_tsne(monkeypatch):
    """scikit-learn's t-SNE, failing the test (not crashing the process) where it is given
    what crashed it: identical rows, or a spread near float32's smallest numbers."""
    from sklearn.manifold import TSNE
    original = TSNE.fit_transform

    def guarded(self, rows, *args, **kwargs):
        spread = float(np.abs(rows - rows.mean(0)).max())
        assert np.isfinite(rows).all() and 1e-3 < spread < 1e3, f'spread {spread:g}'
        return original(self, rows, *args, **kwargs)
    monkeypatch.setattr(TSNE, 'fit_transform', guarded)


def test_collapsed_embeddings_are_not_given_to_tsne(run_copy, tmp_path, capsys, monkeypatch):
    """Issue 37 cause 5: identical rows (a collapsed encoder), or a spread near float32's
    smallest numbers, crashed the process inside scikit-learn's t-SNE (exit 139). Now: one
    warning and the loss curve for the first; the second is scaled before t-SNE."""
    _guard_tsne(monkeypatch)
    rows = torch.load(run_copy / 'seed_0' / 'embeddings.pt', weights_only=True)
    torch.save(torch.ones_like(rows), run_copy / 'seed_0' / 'embeddings.pt')
    code, err = _plot([run_copy, '--out', tmp_path / 'collapsed'], capsys)
    assert code == 0 and err.count('graphdim: warning: no t-SNE map drawn (seed 0: all 34 '
                                   'embeddings are the same (up to rounding)') == 1, err
    assert os.listdir(tmp_path / 'collapsed') == ['loss.png']
    torch.save(torch.randn(rows.shape) * 1e-30, run_copy / 'seed_0' / 'embeddings.pt')
    code, err = _plot([run_copy, '--out', tmp_path / 'tiny'], capsys)
    assert code == 0 and 'warning' not in err, err
    assert sorted(os.listdir(tmp_path / 'tiny')) == ['loss.png', 'tsne_seed0.png']


@pytest.mark.slow
def test_train_plot_of_a_collapsing_encoder_ends_with_a_warning(tmp_path):
    """Issue 37 cause 5 as reported, in a subprocess (a crash fails this test alone): a
    ring with constant features, relu, two dimensions: every seed segfaulted in t-SNE."""
    n = 30
    (tmp_path / 'ring.txt').write_text(''.join(f'{i} {(i + 1) % n}\n' for i in range(n)))
    (tmp_path / 'lab.txt').write_text(''.join(f'{i % 2}\n' for i in range(n)))
    done = subprocess.run(
        [sys.executable, '-m', 'graphdim', *TRAIN, '--graph', 'ring.txt', '--labels',
         'lab.txt', '--missing-features', 'ones', '--activation', 'relu', '--hidden', '2',
         '--seeds', '2', '--plot', '--out', 'run'], cwd=tmp_path, capture_output=True,
        text=True, timeout=300)
    assert done.returncode == 0, done
    assert 'graphdim: warning: no t-SNE map drawn (seed 0: all 30 embeddings' in done.stderr
    assert (tmp_path / 'run' / 'loss.png').is_file()
    assert not (tmp_path / 'run' / '.graphdim.lock').exists() or \
        (tmp_path / 'run' / '.graphdim.lock').read_text() == ''


@pytest.mark.parametrize('points', ['-5', '0', '1'])
def test_max_points_below_two_is_refused(karate_run, tmp_path, capsys, points):
    """Issue 37 causes 11 and 12: -5 plotted all but 5 points (a slice), 0 to 2 failed
    with a t-SNE perplexity message."""
    code, err = _plot([karate_run, '--out', tmp_path, '--max-points', points], capsys)
    assert code == 2
    assert '--max-points must be a whole number of at least 2' in _one_error_line(err)
    assert os.listdir(tmp_path) == []


def test_out_naming_a_file_is_one_clear_line(karate_run, tmp_path, capsys):
    """Issue 37 cause 12: ``--out`` an existing file gave "[Errno 17] File exists"."""
    (tmp_path / 'notes.txt').write_text('mine')
    for out in (tmp_path / 'notes.txt', tmp_path / 'notes.txt' / 'pictures'):
        code, err = _plot([karate_run, '--out', out], capsys)
        line = _one_error_line(err)
        assert code == 2 and 'a file, not a folder' in line and 'Errno' not in line, line
    assert (tmp_path / 'notes.txt').read_text() == 'mine'


def test_plot_without_matplotlib_is_one_line(karate_run, tmp_path, capsys, monkeypatch):
    """Issue 36: ``graphdim plot`` without matplotlib printed a traceback."""
    monkeypatch.setitem(sys.modules, 'matplotlib', None)  # import matplotlib: ImportError
    code, err = _plot([karate_run, '--out', tmp_path / 'pictures'], capsys)
    assert code == 2 and "graphdim plot needs matplotlib, which is not installed: pip " \
        "install 'graphdim[plot]'" in _one_error_line(err)
    assert not (tmp_path / 'pictures').exists()
