"""Every script in examples/ runs, in its tiny setting (GRAPHDIM_EXAMPLE_SMOKE=1)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / 'examples').glob('*.py'))


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.slow  # each example is a subprocess that trains
@pytest.mark.parametrize('script', EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, data_root):
    env = dict(os.environ, GRAPHDIM_EXAMPLE_SMOKE='1', GRAPHDIM_DATA=str(data_root))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=300, cwd=script.parent.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), 'an example prints its result'


def test_examples_use_only_the_public_api():
    for script in EXAMPLES:
        text = script.read_text()
        assert 'from graphdim.' not in text and 'import graphdim.' not in text, script.name
