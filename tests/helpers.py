"""Helpers shared by test files in several folders (imported as ``from helpers import ...``):
the fuzz tests' Hypothesis settings, shared strategies and a sandbox that checks nothing is
written outside it; the karate club written as your own graph files."""
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
