"""Shared fixtures and helpers for the graphdim test suite.

* ``data_root``: the offline dataset folder ($GRAPHDIM_DATA, else ``<repo>/../shared/data``).
  Missing -> the test fails under CI (``CI=true``) and is skipped elsewhere.
* an autouse session fixture exports ``GRAPHDIM_DATA=<repo>/../shared/data`` when it is unset
  (and that folder exists), so every test that calls the CLI, in-process or in a subprocess,
  finds the datasets without ``--root``: the README's test command exports nothing.
* an autouse session fixture points ``GRAPHDIM_CACHE`` at a fresh temporary folder, so no
  test writes processed datasets into the repository (``datasets/``) or the home folder;
  Hypothesis's storage goes to a temporary folder as well.
* Hypothesis runs under the ``graphdim`` profile: the same examples every run, bounded, no
  shrinking (``--hypothesis-profile explore`` for a random, shrinking hunt).
* ``random_graph``: a small seeded PyG ``Data(x, edge_index)``.
"""
import importlib.util
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA_ROOT = REPO.parent / 'shared' / 'data'


def benchmark_module(name: str):
    """A script of benchmarks/ (not a package) as a module, e.g. ``render_readme``."""
    spec = importlib.util.spec_from_file_location(name, REPO / 'benchmarks' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def under_ci() -> bool:
    return os.environ.get('CI', '').lower() == 'true'


@pytest.fixture(scope='session', autouse=True)
def graphdim_cache(tmp_path_factory):
    """Every test of the session writes its caches into a fresh temporary folder."""
    cache = tmp_path_factory.mktemp('graphdim_cache')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('GRAPHDIM_CACHE', str(cache))
        yield cache


def default_data_root() -> Path:
    """$GRAPHDIM_DATA if set, else ``<repo>/../shared/data``."""
    return Path(os.environ['GRAPHDIM_DATA']) if os.environ.get('GRAPHDIM_DATA') \
        else DEFAULT_DATA_ROOT


@pytest.fixture(scope='session', autouse=True)
def graphdim_data():
    """The README's test command exports no GRAPHDIM_DATA: point it at ../shared/data for
    the whole session (the CLI, and subprocesses that inherit the environment, read it)."""
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get('GRAPHDIM_DATA') and DEFAULT_DATA_ROOT.is_dir():
            patch.setenv('GRAPHDIM_DATA', str(DEFAULT_DATA_ROOT))
        yield os.environ.get('GRAPHDIM_DATA')


_HYPOTHESIS_HOME = None


def _register_hypothesis_profiles() -> None:
    """Property tests that never fail by chance and never take minutes: every run tries the
    same examples (``derandomize``: a failure is the same failure on the next run, and on
    CI), a bounded number of them, and skips shrinking (shrinking a failing run-folder case
    took over 5 minutes; the failing example is printed as it was found). A slow machine's
    timing fails nothing: the deadline is generous and too_slow is off. ``pytest
    --hypothesis-profile explore`` hunts with random examples, more of them, and shrinks."""
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:
        return
    settings.register_profile(
        'graphdim', derandomize=True, database=None, max_examples=50,
        deadline=timedelta(seconds=30), suppress_health_check=[HealthCheck.too_slow],
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target])
    settings.register_profile('explore', max_examples=500, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile('graphdim')  # before the test modules build their settings


_register_hypothesis_profiles()


def pytest_configure(config):
    """Keep Hypothesis's storage (``.hypothesis/`` in the working directory by default; it
    is written at collection time) out of the checkout."""
    global _HYPOTHESIS_HOME
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:
        return
    _HYPOTHESIS_HOME = tempfile.mkdtemp(prefix='graphdim-hypothesis-')
    set_hypothesis_home_dir(_HYPOTHESIS_HOME)


def pytest_unconfigure(config):
    if _HYPOTHESIS_HOME is not None:
        from hypothesis.configuration import set_hypothesis_home_dir
        set_hypothesis_home_dir(None)
        shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)


@pytest.fixture(scope='session')
def data_root() -> Path:
    """The read-only offline dataset root (planetoid/, TUDataset/, ...)."""
    root = default_data_root()
    if not (root / 'planetoid').is_dir():
        message = (f"dataset root {root} not found (no planetoid/ folder in it); set "
                   f"GRAPHDIM_DATA to the offline data folder")
        if under_ci():
            pytest.fail(message)
        pytest.skip(message)
    return root


def random_graph(num_nodes: int = 20, num_features: int = 8, num_edges: int = 60,
                 seed: int = 0, undirected: bool = True) -> Data:
    """A seeded random graph without self loops: ``Data(x, edge_index)`` (float32 x)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(num_nodes, num_features, generator=generator)
    src = torch.randint(0, num_nodes, (num_edges,), generator=generator)
    dst = torch.randint(0, num_nodes, (num_edges,), generator=generator)
    keep = src != dst
    edge_index = torch.stack([src[keep], dst[keep]])
    if undirected:
        edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    edge_index = torch.unique(edge_index, dim=1)
    return Data(x=x, edge_index=edge_index)


@pytest.fixture
def small_graph() -> Data:
    return random_graph()


def lock_holder(folder, seconds: int = 120):
    """Another process holding run folder ``folder``'s lock (graphdim/runlock.py, loaded
    alone: no torch import) for ``seconds`` or until it is killed; started once it holds."""
    import subprocess
    import sys
    module = str(REPO / 'graphdim' / 'runlock.py')
    code = ("import importlib.util, time\n"
            f"spec = importlib.util.spec_from_file_location('runlock', {module!r})\n"
            "runlock = importlib.util.module_from_spec(spec); spec.loader.exec_module(runlock)\n"
            f"with runlock.run_lock({str(folder)!r}, 'graphdim train'):\n"
            f"    print('locked', flush=True); time.sleep({seconds})\n")
    holder = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == 'locked'
    return holder


# The run-folder tests' finished run: made once per test module, changed only on copies
# (helpers.copy_run).
FINISHED_RUN = ['train', '--dataset', 'karate', '--epochs', '2', '--hidden', '8', '--quiet']


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
    """A finished karate run (2 epochs, 8 units); tests work on copies (``helpers.copy_run``)."""
    from graphdim import cli
    out = tmp_path_factory.mktemp('finished') / 'fin'
    assert cli.main([*FINISHED_RUN, '--out', str(out)]) == 0
    return out
