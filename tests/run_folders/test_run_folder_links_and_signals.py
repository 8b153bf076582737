"""Issue 37: property tests of run folders with links and signals.

Links: files of a run folder (and names that ``embed`` and ``plot`` write there) are replaced
by symbolic or hard links to a file of the user's outside the run, then ``embed``, ``plot``,
``--resume`` or ``--overwrite`` runs on the folder: the linked file is never modified, and a
refusal is one ``graphdim: error:`` line.

Signals: Ctrl-C (SIGINT) or ``kill`` (SIGTERM) arrives at a point chosen among every rename,
the training and the probe of an ``--overwrite``: the folder then holds either the old run,
as it was, or the new one, finished; nothing is left aside, half-written or locked.
"""
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from graphdim import cli
from graphdim.experiments.reload import load_model
from graphdim.runs import PREVIOUS, RunFolder

EXAMPLES = int(os.environ.get('GRAPHDIM_FUZZ_EXAMPLES', 60))
# Each example runs a command (a few train a model): a few examples, the same every run.
PROPERTY = settings(max_examples=max(4, EXAMPLES // 6), deadline=None, database=None,
                    derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--quiet']
PRECIOUS = b'export PATH=precious\n'


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
    """A finished karate run (hidden 8) with checkpoints, so --resume has something to
    continue once results.json is gone."""
    out = tmp_path_factory.mktemp('links_signals') / 'fin'
    assert cli.main([*TRAIN, '--hidden', '8', '--checkpoint-every', '1', '--out',
                     str(out)]) == 0
    return out


def _files(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*')
                  if p.is_file() and p.name != '.graphdim.lock')


def _snapshot(folder: Path) -> dict:
    return {name: (folder / name).read_bytes() for name in _files(folder)}


def _one_line_or_success(code: int, err: str) -> None:
    assert 'Traceback' not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.count('graphdim: error:') == 1, err


# --- links --------------------------------------------------------------------------------
# Run files, the lock, and what embed and plot write into the run by default.
LINKABLE = ('config.json', 'results.json', 'labels.pt', 'seed_0/model.pt',
            'seed_0/embeddings.pt', 'seed_0/log.jsonl', 'seed_0/checkpoint.pt',
            '.graphdim.lock', 'embeddings_karate.pt', 'embeddings_karate.npy',
            'tsne_seed0.png', 'loss.png')
LINKS = st.lists(st.tuples(st.sampled_from(LINKABLE), st.sampled_from(['symlink', 'hardlink']),
                           st.booleans()),
                 min_size=1, max_size=3, unique_by=lambda link: link[0])


def _link(run: Path, name: str, how: str, victim: Path) -> None:
    target = run / name
    if target.exists() or target.is_symlink():
        target.unlink()
    (os.symlink if how == 'symlink' else os.link)(victim, target)


def _argv(command: str, run: Path):
    return {'embed': ['embed', str(run)], 'plot': ['plot', str(run)],
            'resume': [*TRAIN, '--hidden', '8', '--checkpoint-every', '1', '--out', str(run),
                       '--resume'],
            'overwrite': [*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite']}[command]


@PROPERTY
@given(links=LINKS, command=st.sampled_from(['embed', 'plot', 'resume', 'overwrite']),
       unfinished=st.booleans())
def test_no_command_writes_through_a_link_in_a_run_folder(finished_run, capsys, links, command,
                                                          unfinished):
    """Each link points at a file of its own outside the run: a plain text file, or a copy
    of the run file it replaces (which reads as valid)."""
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        run = work / 'run'
        shutil.copytree(finished_run, run)
        if unfinished:  # what a killed run leaves: --resume continues it
            (run / 'results.json').unlink()
        victims = {}
        for index, (name, how, valid_copy) in enumerate(links):
            victim = work / f'victim_{index}'
            original = finished_run / name
            victim.write_bytes(original.read_bytes() if valid_copy and original.is_file()
                               and name != '.graphdim.lock' else PRECIOUS)
            victims[victim] = (victim.read_bytes(), victim.stat().st_mtime_ns)
            _link(run, name, how, victim)
        capsys.readouterr()
        code = cli.main(_argv(command, run))
        _one_line_or_success(code, capsys.readouterr().err)
        for victim, (content, mtime) in victims.items():
            assert victim.read_bytes() == content, victim
            assert victim.stat().st_mtime_ns == mtime, victim
        assert sorted(p.name for p in work.iterdir()) == ['run', *sorted(
            v.name for v in victims)]


# --- signals ------------------------------------------------------------------------------
class _SignalAt:
    """Raise ``signum`` at the ``point``-th event of a run: a rename (``os.replace``: every
    file written, every file moved aside or back), the training, or the probe; ``before``
    or after the event itself."""

    def __init__(self, signum: int, point: int, before: bool):
        self.signum, self.point, self.before, self.events = signum, point, before, 0

    def wrap(self, function):
        def hooked(*args, **kwargs):
            self.events += 1
            fire = self.events == self.point
            if fire and self.before:
                self.fire()
            result = function(*args, **kwargs)
            if fire and not self.before:
                self.fire()
            return result
        return hooked

    def fire(self) -> None:
        if self.signum == signal.SIGTERM:  # at its default action it would end the tests
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL, \
                'SIGTERM has its default action during an --overwrite'
        signal.raise_signal(self.signum)


def _is_new_finished_run(run: Path) -> bool:
    folder = RunFolder(run)
    results = folder.read_results()
    if results is None:
        return False
    saved = folder.read_config()
    assert saved['config']['hidden_channels'] == 16
    assert results['config']['hidden_channels'] == 16
    model = load_model(run, 0)
    assert folder.read_embeddings(0).size(1) == 16 and model is not None
    return True


# A karate --overwrite has 12 events: 4 moves aside, 2 writes, training, probe, 4 writes.
@settings(PROPERTY, max_examples=max(6, EXAMPLES // 4))
@given(signum=st.sampled_from([signal.SIGINT, signal.SIGTERM]), point=st.integers(1, 13),
       before=st.booleans())
def test_a_signal_during_an_overwrite_leaves_the_old_run_or_the_new_one(
        finished_run, capsys, signum, point, before):
    import graphdim.experiments.node as node
    with tempfile.TemporaryDirectory() as work, pytest.MonkeyPatch.context() as patch:
        run = Path(work) / 'run'
        shutil.copytree(finished_run, run)
        old = _snapshot(run)
        handler = signal.getsignal(signal.SIGTERM)
        hook = _SignalAt(signum, point, before)
        for module, name in ((os, 'replace'), (node, 'fit'), (node, 'choose_hops')):
            patch.setattr(module, name, hook.wrap(getattr(module, name)))
        code = cli.main([*TRAIN, '--hidden', '16', '--out', str(run), '--overwrite'])
        patch.undo()
        err = capsys.readouterr().err
        assert 'Traceback' not in err, err
        assert code in (0, 128 + signum), (code, err)
        assert signal.getsignal(signal.SIGTERM) is handler  # given back
        if code == 0 or not _snapshot(run) == old:
            assert _is_new_finished_run(run), (code, point, err)
        assert not (run / PREVIOUS).exists()
        assert not list(run.rglob('*.tmp'))
        assert (run / '.graphdim.lock').read_text() == ''
