"""Helpers shared by test files in several folders (imported as ``from helpers import ...``):
the fuzz tests' Hypothesis settings, shared strategies and a sandbox that checks nothing is
written outside it; the karate club written as your own graph files."""
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import networkx as nx
import numpy as np

from hypothesis import HealthCheck, settings, strategies as st

FUZZ = settings(max_examples=int(os.environ.get('GRAPHDIM_FUZZ_EXAMPLES', 60)), deadline=None,
                database=None, suppress_health_check=[HealthCheck.too_slow])
FALLBACKS = st.sampled_from([None, 'degree', 'ones', 'identity'])

JSON_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 10 ** 12),
                               st.floats(allow_nan=False), st.text(max_size=8)),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


@contextmanager
def sandbox():
    """A temporary folder that is also the working directory; afterwards nothing may have
    appeared outside it (the parent folder lists the same entries)."""
    parent = Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory() as folder:
        before = set(os.listdir(parent))
        previous = os.getcwd()
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(previous)
        created = {name for name in set(os.listdir(parent)) - before
                   if not name.startswith(('tmp', 'pytest', 'graphdim-hypothesis'))}
        assert not created, f"files created outside the sandbox: {created}"


@contextmanager
def no_warnings():
    """Warnings silenced: the fuzz asks only whether a call works or names its problem."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


def karate_files(folder: Path, with_labels: bool = True):
    """Karate club as an edge list (with a comment, one duplicate and one self-loop) + features."""
    graph = nx.karate_club_graph()
    lines = ['# karate club, both clubs'] + [f'{u} {v}' for u, v in graph.edges()]
    lines += ['0 1', '5 5']  # a duplicate edge and a self-loop, cleaned up on reading
    (folder / 'edges.txt').write_text('\n'.join(lines) + '\n')
    np.save(folder / 'x.npy', np.eye(34, dtype=np.float32))
    if with_labels:
        clubs = [int(graph.nodes[n]['club'] == 'Officer') for n in graph.nodes]
        np.savetxt(folder / 'y.txt', clubs, fmt='%d')
    return folder / 'edges.txt', folder / 'x.npy', folder / 'y.txt'


def copy_run(run: Path, tmp_path: Path, name: str = 'run') -> Path:
    """A copy of the run folder ``run`` as ``tmp_path / name``, for a test to change."""
    shutil.copytree(run, tmp_path / name)
    return tmp_path / name


def run_snapshot(folder: Path) -> dict:
    """Every file of the run folder ``folder`` (relative path -> bytes), the lock file aside."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file() and p.name != '.graphdim.lock'}


def one_error_line(capsys, *needles) -> str:
    """The one ``graphdim: error:`` line a command wrote to stderr, with no traceback; it holds
    each of ``needles``."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('graphdim: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def truncate(path: Path, keep: int) -> None:
    """Cut the file ``path`` to its first ``keep`` bytes (a broken download)."""
    path.write_bytes(path.read_bytes()[:keep])


def train_graph_run(folder: Path):
    """A finished run, ``folder / 'run'``, on an edge list and a feature file of its own
    (``folder / 'ring.txt'``, ``folder / 'x.npy'``): ``(run, edges, features)``."""
    from graphdim import cli
    edges, features = folder / 'ring.txt', folder / 'x.npy'
    edges.write_text(''.join(f'{i} {(i + 1) % 12}\n' for i in range(12)))
    np.save(features, np.random.default_rng(0).random((12, 4), dtype=np.float32))
    run = folder / 'run'
    assert cli.main(['train', '--graph', str(edges), '--features', str(features), '--epochs',
                     '2', '--hidden', '8', '--out', str(run), '--quiet']) == 0
    return run, edges, features


def copy_changing_config(run: Path, tmp_path: Path, change=None) -> Path:
    """A copy of the run folder ``run`` as ``tmp_path / 'copy'``; ``change``, when given, edits
    its parsed ``config.json`` in place before it is written back."""
    copy = tmp_path / 'copy'
    shutil.copytree(run, copy)
    if change is not None:
        saved = json.loads((copy / 'config.json').read_text())
        change(saved)
        (copy / 'config.json').write_text(json.dumps(saved))
    return copy
