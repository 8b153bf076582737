"""Issue 37, causes 2, 6 and 12 (--resume): SIGTERM is Ctrl-C for a run folder being
replaced, `.previous` is looked into and mentioned, worker pools end with their parent, and
--resume of a finished run touches nothing.

The subprocess tests start Python with SIGTERM at its default action (no command-line
handler): what a script using the Python API gets.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from graphdim import cli
from helpers import copy_run
from graphdim.runs import PREVIOUS, RunFolder

TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']


def _snapshot(folder: Path) -> dict:
    """Every file but the lock: its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob('*')) if p.is_file() and p.name != '.graphdim.lock'}


def _error_lines(err: str):
    return [line for line in err.splitlines() if line.startswith('graphdim: error:')]


def _python(code: str, **kwargs) -> subprocess.Popen:
    """A Python process of its own session (its pool workers share its process group)."""
    return subprocess.Popen([sys.executable, '-c', textwrap.dedent(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def _group_members(pgid: int):
    """The live processes (not zombies) of process group ``pgid``, from /proc."""
    members = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f'/proc/{entry}/stat').read_text()
        except OSError:
            continue
        fields = stat.rsplit(')', 1)[1].split()
        if fields[0] != 'Z' and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def _terminate_and_check_the_group_ends(proc: subprocess.Popen) -> None:
    """SIGTERM to ``proc``; its output ends and no process of its group outlives it."""
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)  # returns only once every holder of the pipes ended
    deadline = time.time() + 10
    while _group_members(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert _group_members(proc.pid) == []


def _end_group(pgid: int) -> None:
    """Kill what is left of a test's own process group (a failed test's leftovers)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --- cause 2: SIGTERM during an --overwrite puts the old run back -------------------------
def _sigterm(*args, **kwargs):
    """A real SIGTERM to this process, where a handler makes it an exception (at its default
    action it would end the test run: then this test fails instead)."""
    handler = signal.getsignal(signal.SIGTERM)
    assert handler is not signal.SIG_DFL and not getattr(handler, 'default_action', False), \
        'SIGTERM ends the process here: the old run would be left aside'
    signal.raise_signal(signal.SIGTERM)
    raise AssertionError('SIGTERM was ignored')


@pytest.mark.parametrize('phase', ['fit', 'choose_hops'])
def test_sigterm_in_an_api_overwrite_puts_the_old_run_back(finished_run, tmp_path,
                                                           monkeypatch, phase):
    """Python API, no handler of the command's: SIGTERM while the new run trains (or
    probes) is a KeyboardInterrupt, the old run comes back, and SIGTERM's default action
    is restored afterwards."""
    import graphdim.experiments.node as node
    from graphdim import NodeConfig, run_node_experiment
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    handler = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        monkeypatch.setattr(node, phase, _sigterm)
        config = NodeConfig(dataset='karate', hidden_channels=16, epochs=2)
        with pytest.raises(KeyboardInterrupt):
            run_node_experiment(config, progress=False, out_dir=str(run), overwrite=True)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, handler)
    assert _snapshot(run) == before
    assert not (run / PREVIOUS).exists()


def test_sigterm_in_an_overwrite_after_a_parallel_probe_is_still_an_interrupt(
        finished_run, tmp_path, monkeypatch):
    """After a parallel cross-validation, SIGTERM's handler ends the pool's workers before
    the default action; an --overwrite in the same process still makes SIGTERM an
    interrupt that puts the old run back, then gives that handler back."""
    import torch
    import graphdim.experiments.node as node
    from graphdim import NodeConfig, cross_validate, run_node_experiment
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    handler = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        x, y = torch.randn(20, 3), torch.arange(20) % 2
        monkeypatch.setattr('graphdim.runtime.usable_cpus', lambda: 2)
        cross_validate(x, y, 'logreg', folds=2, inner_folds=2, c_grid=(1.0, ), jobs=2)
        pool_handler = signal.getsignal(signal.SIGTERM)
        assert getattr(pool_handler, 'default_action', False)
        monkeypatch.setattr(node, 'fit', _sigterm)
        config = NodeConfig(dataset='karate', hidden_channels=16, epochs=2)
        with pytest.raises(KeyboardInterrupt):
            run_node_experiment(config, progress=False, out_dir=str(run), overwrite=True)
        assert signal.getsignal(signal.SIGTERM) is pool_handler
    finally:
        signal.signal(signal.SIGTERM, handler)
    assert _snapshot(run) == before


@pytest.mark.slow  # a Python process, killed (real asynchronous delivery)
@pytest.mark.parametrize('phase', ['fit', 'probe'])
def test_sigterm_during_an_api_overwrite_puts_the_old_run_back(finished_run, tmp_path, phase):
    """``run_node_experiment(overwrite=True)`` killed with SIGTERM while it trains (or
    probes): the old run is back, no ``.previous`` is left, the process ends by the
    interrupt, not silently by the signal."""
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    ready = tmp_path / 'ready'
    target = 'fit' if phase == 'fit' else 'choose_hops'
    proc = _python(f"""
        import time
        import graphdim.experiments.node as node
        from graphdim import NodeConfig, run_node_experiment

        def stuck(*args, **kwargs):
            open({str(ready)!r}, 'w').close()
            while True:
                time.sleep(0.05)

        node.{target} = stuck
        config = NodeConfig(dataset='karate', hidden_channels=16, epochs=2)
        run_node_experiment(config, progress=False, out_dir={str(run)!r}, overwrite=True)
        """)
    try:
        _wait_for(ready, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        _end_group(proc.pid)
    assert 'Terminated' in err  # the KeyboardInterrupt SIGTERM became
    assert _snapshot(run) == before
    assert not (run / PREVIOUS).exists()


@pytest.mark.slow  # a real command, killed
def test_sigterm_during_a_cli_overwrite_puts_the_old_run_back(finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    proc = subprocess.Popen([sys.executable, '-m', 'graphdim', 'train', '--dataset', 'karate',
                             '--epochs', '1000000', '--patience', '0', '--hidden', '16',
                             '--quiet', '--out', str(run), '--overwrite'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(run / PREVIOUS, proc)  # the old run is set aside: training starts
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0 and 'Traceback' not in err, err
    assert _snapshot(run) == before
    assert not (run / PREVIOUS).exists()


def test_overwrite_refuses_a_previous_holding_a_users_file(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    (run / PREVIOUS).mkdir()
    (run / PREVIOUS / 'notes.txt').write_text('mine\n')
    before = _snapshot(run)
    assert cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite']) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and 'notes.txt' in lines[0] and 'not a graphdim run file' in \
        lines[0], lines
    assert _snapshot(run) == before


def _killed_overwrite(finished_run: Path, tmp_path: Path) -> Path:
    """What ``kill -9`` during an ``--overwrite`` leaves: the old, finished run in
    ``.previous/`` and the new run's first files beside it."""
    run = copy_run(finished_run, tmp_path)
    (run / PREVIOUS).mkdir()
    for entry in list(run.iterdir()):
        if entry.name not in (PREVIOUS, '.graphdim.lock'):
            os.replace(entry, run / PREVIOUS / entry.name)
    shutil.copy(run / PREVIOUS / 'config.json', run / 'config.json')
    shutil.copy(run / PREVIOUS / 'labels.pt', run / 'labels.pt')
    return run


@pytest.mark.parametrize('command', ['plot', 'embed', 'new_run'])
def test_a_finished_run_left_in_previous_is_mentioned(finished_run, tmp_path, capsys, command):
    run = _killed_overwrite(finished_run, tmp_path)
    argv = {'plot': ['plot', str(run), '--out', str(tmp_path / 'pictures')],
            'embed': ['embed', str(run), '--out', str(tmp_path / 'z')],
            'new_run': [*TRAIN, '--hidden', '8', '--out', str(run)]}[command]
    cli.main(argv)
    err = capsys.readouterr().err
    mentions = [line for line in err.splitlines() if f'{PREVIOUS} holds the finished run'
                in line]
    assert len(mentions) == 1 and 'restore' in mentions[0] and 'delete' in mentions[0], err


def test_a_failed_overwrite_after_a_killed_one_puts_the_finished_run_back(
        finished_run, tmp_path, monkeypatch):
    """The next --overwrite no longer deletes the finished run a killed one set aside: if
    it fails, that run is what comes back."""
    import graphdim.experiments.node as node
    run = _killed_overwrite(finished_run, tmp_path)
    previous = _snapshot(run / PREVIOUS)

    def fails(*args, **kwargs):
        raise FloatingPointError('the training loss became nan')

    monkeypatch.setattr(node, 'fit', fails)
    assert cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite']) == 2
    assert _snapshot(run) == previous
    assert not (run / PREVIOUS).exists()


# --- cause 12 (part): --resume of a finished run ------------------------------------------
def test_resume_of_a_finished_run_says_so_and_touches_nothing(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    before = _snapshot(run)
    assert cli.main([*TRAIN, '--hidden', '8', '--out', str(run), '--resume']) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and 'finished run' in lines[0] and 'nothing to resume' in \
        lines[0] and '--overwrite' in lines[0], lines
    assert _snapshot(run) == before


# --- cause 6: worker pools end with their parent ------------------------------------------
@pytest.mark.slow  # a Python process with two workers, killed
def test_pool_workers_end_with_a_script_killed_between_searches(tmp_path):
    """A script that ran a parallel cross-validation (``jobs=2``) and is killed later: none
    of its processes outlives it, and its output ends (nothing holds the pipes)."""
    ready = tmp_path / 'ready'
    proc = _python(f"""
        import time, torch
        from graphdim.eval.graph import cross_validate
        x, y = torch.randn(40, 4), torch.arange(40) % 2
        cross_validate(x, y, 'svm', folds=2, inner_folds=2, c_grid=[1.0, 10.0], jobs=2)
        open({str(ready)!r}, 'w').close()
        while True:
            time.sleep(0.05)
        """)
    try:
        _wait_for(ready, proc)
        assert len(_group_members(proc.pid)) > 1  # the pool's workers are there
        _terminate_and_check_the_group_ends(proc)
    finally:
        _end_group(proc.pid)


@pytest.mark.slow  # a graph-level command with two workers, killed
def test_pool_workers_end_with_a_killed_graph_level_command(tmp_path):
    proc = subprocess.Popen([sys.executable, '-m', 'graphdim', 'train', '--level', 'graph',
                             '--dataset', 'MUTAG', '--jobs', '2', '--epochs', '1',
                             '--hidden', '8', '--folds', '2', '--inner-folds', '2',
                             '--seeds', '50', '--quiet', '--out', str(tmp_path / 'run')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 240
        while len(_group_members(proc.pid)) < 3:  # the command and its two workers
            assert proc.poll() is None and time.time() < deadline, proc.communicate()
            time.sleep(0.1)
        time.sleep(1)
        _terminate_and_check_the_group_ends(proc)
    finally:
        _end_group(proc.pid)
    assert not (tmp_path / 'run' / 'results.json').exists()
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['kind'] == 'graph'
