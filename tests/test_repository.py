"""The repository's promises: the README's commands are the ones CI and users run."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _readme_commands():
    readme = (REPO / 'README.md').read_text()
    setup = readme.split('## Set-up on a fresh machine', 1)[1].split('\n## ', 1)[0]
    return re.findall(r'```bash\n(.+?)\n```', setup)


def test_readme_gives_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2, commands
    train, test = commands
    assert 'graphdim train --dataset Cora' in train and 'GRAPHDIM_DATA=../shared/data' in train
    assert 'pytest' in test
    for command in commands:  # a CPU build of torch, never an unpinned CUDA download
        assert 'torch==2.13.0' in command


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = _readme_commands()
    ci_lines = (REPO / '.ci' / 'run').read_text().splitlines()
    assert test in ci_lines
    assert 'set -euo pipefail' in ci_lines and 'export CI=true' in ci_lines


def test_no_module_over_400_lines():
    paths = [path for folder in ('graphdim', 'benchmarks', 'examples', 'tests')
             for path in (REPO / folder).rglob('*.py')]
    assert len(paths) > 50, paths  # the folders were found
    too_long = {str(path.relative_to(REPO)): n for path in paths
                if (n := len(path.read_text().splitlines())) > 400}
    assert not too_long, too_long
