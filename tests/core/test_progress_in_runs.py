"""Progress on every long phase of a run (issue 30): the header before loading, a line per seed
as it ends (and --quiet silencing everything), the training bar under early stopping, the
progress helpers' delay, bars that move during one long step, a line per cross-validation fold.

All in-process and small (karate, tiny epochs): seconds each."""
import io
import re
import sys
import time

import torch

import graphdim
from graphdim import cli, progress
from graphdim.eval.graph import cross_validate

# A short karate run: every phase of `graphdim train` in a few seconds.
KARATE = ['train', '--dataset', 'karate', '--epochs', '4', '--min-epochs', '0', '--hidden',
          '16']


class _Terminal(io.StringIO):
    """A standard error that says it is a terminal: where progress bars are drawn."""

    def isatty(self):
        return True


def _lines(text: str):
    """Lines of captured output, tqdm's carriage-return redraws split too and its cursor
    moves (between nested bars, off a terminal) dropped."""
    text = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', text)
    return [line.strip() for line in re.split(r'[\r\n]+', text) if line.strip()]



def test_header_comes_first_before_loading(monkeypatch, capsys):
    def failing_load(self):
        raise ValueError('loading stopped here')
    monkeypatch.setattr('graphdim.experiments.node.NodeExperiment.load', failing_load)
    assert cli.main(['train', '--dataset', 'karate', '--model', 'ggd', '--hops', '0', '1',
                     '--device', 'cpu']) == 2
    err = _lines(capsys.readouterr().err)
    assert err[0].startswith('graphdim: GGD on karate | ') and 'device cpu' in err[0]
    header = ' '.join(err[:-1])  # wrapped to 100 columns (tests/core/test_progress.py)
    assert 'reinforcement K in 0, 1' in header and 'at most 1000 epochs' in header
    assert err[-1] == 'graphdim: error: loading stopped here'


def test_each_seed_reports_as_it_ends_and_quiet_silences_everything(capsys):
    argv = [*KARATE, '--seeds', '2']
    assert cli.main(argv) == 0
    loud = capsys.readouterr()
    err = _lines(loud.err)
    assert err[0].startswith('graphdim: DGI on karate')
    assert any(line.startswith('seed 0: test ') for line in err)
    assert any(line.startswith('seed 1: test ') for line in err)
    assert cli.main([*argv, '--quiet']) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ''
    timings = re.compile(r'[\d.]+ ?(s|ms/epoch|MiB)\b')  # differ from run to run
    assert timings.sub('T', quiet.out) == timings.sub('T', loud.out)  # same summary


def test_training_bar_shows_no_eta_under_early_stopping(monkeypatch):
    data = graphdim.load_node_dataset('karate').data
    model = graphdim.build_node_model(graphdim.NodeConfig(hidden_channels=8), data.num_features)
    monkeypatch.setattr('sys.stderr', _Terminal())  # bars are drawn on a terminal only
    monkeypatch.setattr(progress, 'REDRAW', 0.0)  # every epoch drawn, however fast
    graphdim.fit(model, data, epochs=30, patience=5, min_epochs=0, desc='early')
    early = sys.stderr.getvalue()
    assert 'of at most 30' in early and 'no_gain=' in early
    assert '<' not in early  # tqdm writes the remaining time as "elapsed<remaining"
    monkeypatch.setattr('sys.stderr', _Terminal())
    graphdim.fit(model, data, epochs=3, patience=0, desc='fixed')
    assert '<' in sys.stderr.getvalue()  # a fixed number of epochs: an honest ETA


def test_progress_helpers_show_after_the_delay_and_obey_showing(monkeypatch, capsys):
    monkeypatch.setattr(progress, 'DELAY', 0.0)
    monkeypatch.setattr('sys.stderr', _Terminal())  # off a terminal: one line, no counter
    with progress.waiting('opaque call', interval=0.05):
        time.sleep(0.3)
    assert 'opaque call ... 00:00' in sys.stderr.getvalue()
    monkeypatch.undo()
    with progress.showing(False):
        with progress.showing(True):  # an inner block cannot turn progress back on
            assert not progress.enabled()
            progress.note('hidden')
            with progress.waiting('hidden too', interval=0.05):
                time.sleep(0.1)
            list(progress.steps(range(3), 'hidden bar'))
    assert capsys.readouterr().err == ''
    progress.note('shown')
    assert capsys.readouterr().err == 'shown\n'


def test_bars_keep_moving_during_one_long_step(monkeypatch):
    monkeypatch.setattr(progress, 'DELAY', 0.0)
    monkeypatch.setattr('sys.stderr', _Terminal())  # bars are drawn on a terminal only
    with progress.ticking(interval=0.05):
        for _ in progress.steps(range(2), 'slow step'):
            time.sleep(0.4)  # one step, no update(): only the ticker redraws the bar
    drawn = [line for line in _lines(sys.stderr.getvalue()) if 'slow step' in line]
    assert len(drawn) >= 4  # redrawn while the first step ran, not only at its end


def test_cross_validation_prints_each_fold_as_it_ends(capsys):
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(40) % 2
    embeddings = torch.randn(40, 4, generator=generator) + labels[:, None]
    result = cross_validate(embeddings, labels, 'svm', folds=4, inner_folds=2,
                            c_grid=(1.0, ), label='MUTAG seed 0')
    lines = [line for line in _lines(capsys.readouterr().err)
             if line.startswith('MUTAG seed 0 SVM fold')]
    assert [line.split(':')[0] for line in lines] == [
        f'MUTAG seed 0 SVM fold {k}/4' for k in range(1, 5)]
    for line, fold in zip(lines, result.folds):
        assert f'{100 * fold.test_score:.2f} %' in line


def test_graph_level_run_prints_a_line_per_fold(data_root, capsys):
    assert cli.main(['train', '--level', 'graph', '--dataset', 'MUTAG', '--root',
                     str(data_root), '--epochs', '1', '--hidden', '8', '--layers', '2',
                     '--folds', '3', '--inner-folds', '2']) == 0
    err = _lines(capsys.readouterr().err)
    assert err[0].startswith('graphdim: InfoGraph on MUTAG (graph level)')
    for classifier in ('SVM', 'logistic regression'):
        for fold in (1, 2, 3):
            assert any(f'seed 0 {classifier} fold {fold}/3: ' in line for line in err)
    # off a terminal a bar's last redraw can precede the line on the same line of the file
    assert any('seed 0: SVM ' in line for line in err)
