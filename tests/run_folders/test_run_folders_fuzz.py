"""Issue 27: property-based fuzz of run folders and of concurrent writers.

Finished karate runs are tampered with (files deleted, truncated, overwritten with bytes,
swapped with another run's), then read or written by ``graphdim embed``, ``plot``,
``train --config RUN``, ``--resume`` and ``--overwrite``: each command works or fails with one
``graphdim: error:`` line (exit code 2), never a traceback; nothing appears outside the
folders a test works in; a folder a command refused is left as it was, and one that
``--overwrite`` rewrote is one consistent run. Two writers started together on one folder
(real processes) leave one consistent run and at most one refusal naming the lock.
"""
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from conftest import lock_holder
from graphdim import cli
from graphdim.experiments.reload import load_model
from graphdim.runs import RunFolder

EXAMPLES = int(os.environ.get('GRAPHDIM_FUZZ_EXAMPLES', 60))
FUZZ = settings(max_examples=max(5, EXAMPLES // 4), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])
# Two real processes per example (each imports torch): a few examples only.
CONCURRENT = settings(max_examples=max(2, EXAMPLES // 30), deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate],  # no shrinking: minutes each
                      suppress_health_check=[HealthCheck.too_slow,
                                             HealthCheck.function_scoped_fixture])
TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']


@pytest.fixture(scope='module')
def two_runs(tmp_path_factory):
    """Two finished runs of other shapes: A (hidden 8, one seed) and B (hidden 16, seeds 0
    and 1, K chosen on validation, checkpoints)."""
    base = tmp_path_factory.mktemp('fuzz_runs')
    a, b = base / 'A', base / 'B'
    assert cli.main([*TRAIN, '--hidden', '8', '--out', str(a)]) == 0
    assert cli.main([*TRAIN, '--hidden', '16', '--seeds', '2', '--hops', '0', '1',
                     '--checkpoint-every', '1', '--out', str(b)]) == 0
    return a, b


def _files(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*')
                  if p.is_file() and p.name != '.graphdim.lock')


def _snapshot(folder: Path) -> dict:
    return {name: (folder / name).read_bytes() for name in _files(folder)}


def _tamper(run: Path, other: Path, operations) -> None:
    """Apply ``(what, index, amount)`` operations to the files of ``run`` (and of the
    other run, for swaps)."""
    names = sorted(set(_files(run)) | set(_files(other)))
    for what, index, amount in operations:
        name = names[index % len(names)]
        target, source = run / name, other / name
        if what == 'delete':
            if target.exists():
                target.unlink()
        elif what == 'truncate':
            if target.exists():
                data = target.read_bytes()
                target.write_bytes(data[:int(len(data) * amount)])
        elif what == 'garbage':
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(os.urandom(int(64 * amount) + 1))
        elif what == 'swap' and source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


OPERATIONS = st.lists(st.tuples(st.sampled_from(['delete', 'truncate', 'garbage', 'swap']),
                                st.integers(0, 50), st.floats(0, 1)), min_size=1, max_size=4)
COMMANDS = st.sampled_from(['embed', 'embed_hops', 'plot', 'replay', 'resume', 'overwrite'])


def _argv(command: str, run: Path, work: Path):
    return {'embed': ['embed', str(run), '--out', str(work / 'z')],
            'embed_hops': ['embed', str(run), '--hops', '1', '--out', str(work / 'z')],
            'plot': ['plot', str(run), '--out', str(work / 'pictures')],
            'replay': ['train', '--config', str(run), '--epochs', '1', '--quiet',
                       '--out', str(work / 'replayed')],
            'resume': [*TRAIN, '--hidden', '8', '--out', str(run), '--resume'],
            'overwrite': [*TRAIN, '--hidden', '8', '--out', str(run), '--overwrite']}[command]


def _assert_one_line_or_success(code: int, err: str) -> None:
    assert 'Traceback' not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:  # (a progress line may precede it on the same line)
        assert err.count('graphdim: error:') == 1, err


def _assert_consistent(run: Path) -> None:
    """One finished run: config.json and results.json agree, the model fits its config, no
    temporary file is left and the lock is released."""
    folder = RunFolder(run)
    saved = folder.read_config()
    results = folder.read_results()
    assert results is not None and results['config']['hidden_channels'] == \
        saved['config']['hidden_channels']
    assert results['seeds'] == saved['seeds']
    for seed in saved['seeds']:
        load_model(run, seed)
        embeddings = folder.read_embeddings(seed)
        assert embeddings.size(1) == saved['config']['hidden_channels']
        folder.read_labels(embeddings.size(0))
    assert folder.foreign_files() == []
    assert not [p for p in run.rglob('*.tmp')]
    lock = run / '.graphdim.lock'
    assert not lock.exists() or lock.read_text() == ''


@FUZZ
@given(operations=OPERATIONS, command=COMMANDS, swap_whole_seed=st.booleans())
def test_tampered_run_folders_work_or_fail_in_one_line(two_runs, capsys, operations, command,
                                                       swap_whole_seed):
    a, b = two_runs
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        run = work / 'run'
        shutil.copytree(a, run)
        _tamper(run, b, operations)
        if swap_whole_seed:  # B's seed_1 beside A's seed_0: a seed config.json does not list
            shutil.copytree(b / 'seed_1', run / 'seed_1', dirs_exist_ok=True)
        before = _snapshot(run)
        capsys.readouterr()
        code = cli.main(_argv(command, run, work))
        err = capsys.readouterr().err
        _assert_one_line_or_success(code, err)
        if code == 2 or command in ('embed', 'embed_hops', 'plot', 'replay'):
            assert _snapshot(run) == before  # refused, or wrote elsewhere: untouched
        if code == 0 and command in ('overwrite', 'resume'):
            _assert_consistent(run)
        assert sorted(os.listdir(work)) in (
            ['run'], ['pictures', 'run'], ['replayed', 'run'],
            ['run', 'z.json', 'z.node_ids.npy', 'z.npy', 'z.pt'])
        if code != 0:
            assert sorted(os.listdir(work)) == ['run']  # nothing half-written beside it


def test_every_property_test_is_derandomized_bounded_and_never_shrinks():
    """The fast tier never fails by chance nor spends minutes shrinking (issue 36): every
    Hypothesis test of every test module runs under conftest's ``graphdim`` profile, or
    settings of its own that keep to it."""
    paths = sorted(path for path in Path(__file__).parents[1].rglob('test_*.py')
                   if 'from hypothesis import' in path.read_text())
    modules = [path.stem for path in paths]
    assert 'test_run_folders_fuzz' in modules and len(modules) >= 3, modules
    for folder in {str(path.parent) for path in paths} - set(sys.path):
        sys.path.append(folder)  # each tests/ subfolder, as pytest's rootdir import mode adds it
    tests = [getattr(module, name) for module in map(importlib.import_module, modules)
             for name in dir(module) if hasattr(getattr(module, name), 'hypothesis')]
    assert len(tests) >= 20
    for test in tests:
        chosen = getattr(test, '_hypothesis_internal_use_settings', settings.default)
        assert chosen.derandomize and chosen.max_examples <= max(200, EXAMPLES), test.__name__
        assert Phase.shrink not in chosen.phases, test.__name__


@pytest.fixture(scope='module')
def held_run(two_runs, tmp_path_factory):
    """A copy of run A whose lock another process holds (graphdim/runlock.py loaded alone,
    no torch import) for the whole module."""
    run = tmp_path_factory.mktemp('held') / 'run'
    shutil.copytree(two_runs[0], run)
    holder = lock_holder(run, seconds=600)
    yield run
    holder.kill()
    holder.wait()


WRITERS = st.sampled_from(['new', 'overwrite', 'resume', 'embed', 'plot', 'embed_elsewhere',
                           'plot_elsewhere'])


@FUZZ
@given(writer=WRITERS, hidden=st.sampled_from(['8', '16']))
def test_a_second_writer_of_a_held_run_folder_is_refused(held_run, capsys, writer, hidden):
    """Whatever the second command, it never writes into a folder another process holds:
    refused in one line naming the holder, the folder as it was; reading it to write
    elsewhere works."""
    before = _snapshot(held_run)
    with tempfile.TemporaryDirectory() as work:
        argv = {'new': [*TRAIN, '--hidden', hidden, '--out', str(held_run)],
                'overwrite': [*TRAIN, '--hidden', hidden, '--out', str(held_run),
                              '--overwrite'],
                'resume': [*TRAIN, '--hidden', hidden, '--out', str(held_run), '--resume'],
                'embed': ['embed', str(held_run)],
                'plot': ['plot', str(held_run)],
                'embed_elsewhere': ['embed', str(held_run), '--out', f'{work}/z'],
                'plot_elsewhere': ['plot', str(held_run), '--out', work]}[writer]
        capsys.readouterr()
        code = cli.main(argv)
        err = capsys.readouterr().err
        _assert_one_line_or_success(code, err)
        if writer.endswith('elsewhere'):
            assert code == 0, err
        elif writer == 'new' or writer == 'resume' and hidden == '16':
            assert code == 2  # refused as a folder holding a run (other settings), or locked
        else:
            assert code == 2 and 'being written by' in err, err
    assert _snapshot(held_run) == before


def _graphdim(*argv: str) -> subprocess.Popen:
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    return subprocess.Popen([sys.executable, '-m', 'graphdim', *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


SCENARIOS = {
    # two new runs into one empty --out
    'new': ([*TRAIN, '--hidden', '8'], [*TRAIN, '--hidden', '16']),
    # two --overwrite runs of other settings over a finished run
    'overwrite': ([*TRAIN, '--hidden', '8', '--overwrite'],
                  [*TRAIN, '--hidden', '16', '--overwrite']),
    # two --resume runs of one run with checkpoints
    'resume': ([*TRAIN, '--hidden', '8', '--checkpoint-every', '1', '--resume'],
               [*TRAIN, '--hidden', '8', '--checkpoint-every', '1', '--resume']),
    # a run replaced while embed writes into it
    'overwrite_and_embed': ([*TRAIN, '--hidden', '16', '--overwrite'], ['embed']),
}


@pytest.mark.slow
@CONCURRENT
@given(scenario=st.sampled_from(sorted(SCENARIOS)), delay=st.floats(0, 1.5))
def test_two_concurrent_writers_leave_one_consistent_run(two_runs, scenario, delay):
    a, _ = two_runs
    with tempfile.TemporaryDirectory() as work:
        run = Path(work) / 'run'
        if scenario != 'new':
            shutil.copytree(a, run)
        if scenario == 'resume':  # a finished run with checkpoints, to continue
            shutil.rmtree(run)
            assert cli.main([*TRAIN, '--hidden', '8', '--checkpoint-every', '1',
                             '--out', str(run)]) == 0
            (run / 'results.json').unlink()  # unfinished: --resume continues it
        first, second = SCENARIOS[scenario]
        place = lambda argv: [*argv, str(run)] if argv == ['embed'] \
            else [*argv, '--out', str(run)]  # noqa: E731
        one = _graphdim(*place(first))
        time.sleep(delay)
        two = _graphdim(*place(second))
        outcomes = [(p.wait(timeout=600), p.communicate()[1]) for p in (one, two)]
        for code, err in outcomes:
            _assert_one_line_or_success(code, err)
            if code == 2:  # refused: by the lock, or as a folder that holds a run
                assert 'being written by' in err or 'already holds' in err, err
        assert any(code == 0 for code, _ in outcomes), outcomes
        _assert_consistent(run)
