"""Progress that fits where it goes (issue 36, item 3): bars only on a terminal, one plain line
per phase elsewhere (no carriage returns, no escape sequences), nested bars below the phase
they belong to, rates in words, headers within 100 columns, and no line about a choice that
was not made. In-process and small (karate, a few epochs): seconds in all."""
import io
import json
import re
import time

import pytest

import graphdim
from graphdim import cli, progress

KARATE = ['train', '--dataset', 'karate', '--epochs', '3', '--min-epochs', '0', '--hidden',
          '8', '--device', 'cpu']


class Terminal(io.StringIO):
    """Standard error as a terminal would be: what tqdm is told it may redraw."""

    def isatty(self):
        return True


def _terminal(monkeypatch) -> Terminal:
    """sys.stderr a terminal for the rest of the test (set in the test's body: pytest's own
    capture replaces sys.stderr again after the fixtures have run)."""
    screen = Terminal()
    monkeypatch.setattr('sys.stderr', screen)
    return screen


def _karate_fit(**options):
    data = graphdim.load_node_dataset('karate').data
    model = graphdim.build_node_model(graphdim.NodeConfig(hidden_channels=8), data.num_features)
    return graphdim.fit(model, data, **options)


def test_off_a_terminal_each_phase_is_one_plain_line(capsys, monkeypatch):
    assert cli.main([*KARATE, '--random-baseline', '--json']) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert '\r' not in err and '\x1b' not in err  # no redraws, no cursor moves
    lines = err.splitlines()
    assert lines[0].startswith('graphdim: DGI on karate | device cpu')
    assert all(len(line) <= 100 for line in lines)  # the header wrapped, not 158 columns
    assert 'at most 3 epochs' in lines[1] or 'at most 3 epochs' in lines[2]
    assert 'early stop' not in err  # 3 epochs, patience 20: no stop can come, none promised
    phases = ['loading karate and building the model ...',
              'seed 0: baselines before training (the untrained encoder and the training-free '
              'baseline) ...',
              'seed 0: training-free baseline (raw features, multi-scale, K = ',
              'karate seed 0: up to 3 epochs of training ...',
              'seed 0: probe of the trained embeddings ...']
    named = [phase for line in lines for phase in phases if line.startswith(phase)]
    assert named == phases  # each once, in run order
    assert any(line.strip().startswith('seed 0: test ') for line in lines)
    # The summary says how the training-free K was chosen and which: no "chosen as above"
    # where nothing above chose one (no --hops).
    out = captured.out
    assert 'chosen as above' not in out and 'reinforcement:' not in out
    summary = json.loads(out.splitlines()[-1])
    run = summary['runs'][0]
    chosen = 'X' if run['training_free_hops'] == 0 else f"K={run['training_free_hops']}"
    line = re.search(r'^training-free baseline.*(\n  .*)*', out, re.M).group()
    assert 'chosen on validation' in line and chosen in line
    assert all(len(line) <= 100 for line in out.splitlines()[:3])  # the summary's header
    assert cli.main([*KARATE, '--quiet']) == 0  # --quiet still silences all of it
    assert capsys.readouterr().err == ''


def test_fit_off_a_terminal_writes_one_line_and_no_redraws(capsys, tmp_path, monkeypatch):
    # stderr a file, as with `python script.py 2>err.txt`
    with open(tmp_path / 'err.txt', 'w') as err:
        monkeypatch.setattr('sys.stderr', err)
        _karate_fit(epochs=5, patience=2, min_epochs=0)
        _karate_fit(epochs=3, patience=0, desc='fixed')
    written = (tmp_path / 'err.txt').read_text()
    assert written == ('train: up to 5 epochs of training, stopping after 2 epochs without a '
                       'lower loss ...\nfixed: up to 3 epochs of training ...\n')


def test_on_a_terminal_the_bars_are_drawn_in_words(monkeypatch):
    terminal = _terminal(monkeypatch)
    monkeypatch.setattr(progress, 'DELAY', 0.0)
    monkeypatch.setattr(progress, 'REDRAW', 0.0)  # every epoch drawn, however fast
    _karate_fit(epochs=30, patience=5, min_epochs=0, desc='early')
    early = terminal.getvalue()
    assert '\r' in early and 'early: epoch ' in early and 'of at most 30' in early
    assert 'no_gain=' in early and '<' not in early  # early stopping: elapsed, no ETA
    assert re.search(r'[\d.]+ (epochs/s|s/epoch)', early) and 'it/s' not in early
    terminal = _terminal(monkeypatch)
    _karate_fit(epochs=3, patience=0, desc='fixed')
    fixed = terminal.getvalue()
    assert re.search(r'fixed: +\d+%\|.*\| \d/3 epochs \[\d\d:\d\d<', fixed)  # an ETA


def test_a_rate_reads_in_words():
    assert progress.pace(1680, 1.0, None, 'epoch') == '1680.0 epochs/s'  # not "1.68K/s"
    assert progress.pace(2, 5.0, None, 'fit') == '2.5 s/fit'
    assert progress.pace(0, 0.0, None, 'batch') == '? batches/s'


def test_a_nested_bar_is_drawn_below_the_phase_it_belongs_to(monkeypatch):
    terminal = _terminal(monkeypatch)
    monkeypatch.setattr(progress, 'DELAY', 0.2)
    with progress.waiting('outer phase', interval=0.05):
        for _ in progress.steps(range(6), 'inner grid'):
            time.sleep(0.1)
    drawn = terminal.getvalue()
    # tqdm draws a bar of line p as p newlines, '\r', its text: the phase on the first line,
    # its grid (made after it, shown after the same delay) on the one below.
    assert re.search(r'(^|[^\n])\router phase \.\.\. ', drawn)
    assert re.search(r'\n\rinner grid: ', drawn)
    assert not re.search(r'\n\router phase', drawn)
    assert '<' not in drawn  # no ETA for a grid of unlike steps ("<00:02" while time climbs)


def test_bars_keep_moving_during_one_long_step_through_public_api_only(monkeypatch):
    terminal = _terminal(monkeypatch)
    monkeypatch.setattr(progress, 'DELAY', 0.0)
    with progress.ticking(interval=0.05):
        for _ in progress.steps(range(2), 'slow step'):
            time.sleep(0.4)  # one step, no update(): only the ticker redraws the bar
    drawn = [line for line in re.split(r'[\r\n]', terminal.getvalue()) if 'slow step' in line]
    assert len(drawn) >= 4  # redrawn while the first step ran, not only at its end
    source = open(progress.__file__).read()
    assert '_instances' not in source  # tqdm's private list of bars


def test_headers_are_packed_into_lines_of_100_columns():
    header = ("graphdim: GGD on ogbn-products | device cuda:0 | 10 seed(s) | gcn x1 512, "
              "sigmoid_mean, row_shuffle, bce, lr 0.001 | at most 1000 epochs, early stop "
              "after 20 epochs without a lower loss | reinforcement K in 0, 1, 2, 3, 5, 10")
    lines = progress.fit_width(header).splitlines()
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines)
    assert lines[0] == 'graphdim: GGD on ogbn-products | device cuda:0 | 10 seed(s)'
    assert all(line.startswith('  ') for line in lines[1:])
    assert ' '.join(line.strip() for line in lines).replace(' | ', ' ') == \
        header.replace(' | ', ' ')  # nothing lost
    assert progress.fit_width('short | line') == 'short | line'
