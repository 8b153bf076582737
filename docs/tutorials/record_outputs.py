"""Record what the tutorials' examples print, for the tutorials to show as expected output.

    python docs/tutorials/record_outputs.py                  # every example listed below
    python docs/tutorials/record_outputs.py dgi_cora ggd_cora

Each ``examples/NAME.py`` runs as a user runs it (full setting, datasets read from
``$GRAPHDIM_DATA``, default ``../shared/data``); its standard output is written to
``docs/tutorials/output/NAME.txt``, which the tutorial includes. Progress bars go to standard
error and are not recorded. Figures and timings differ from machine to machine; these were
recorded on the project's 2-core CPU.
"""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / 'output'
EXAMPLES = ['dgi_cora', 'ggd_cora', 'your_own_graph', 'losses_in_your_model', 'graph_level',
            'multiview', 'image_dim', 'minibatch', 'your_own_model']


def record(name: str) -> str:
    env = {**os.environ, 'GRAPHDIM_DATA': os.environ.get('GRAPHDIM_DATA',
                                                         str(REPO.parent / 'shared' / 'data'))}
    env.pop('GRAPHDIM_EXAMPLE_SMOKE', None)  # the full setting, as the tutorial shows it
    run = subprocess.run([sys.executable, str(REPO / 'examples' / f'{name}.py')], cwd=REPO,
                         env=env, stdout=subprocess.PIPE, text=True, check=True)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / f'{name}.txt').write_text(run.stdout)
    return run.stdout


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or EXAMPLES
    unknown = [name for name in names if name not in EXAMPLES]
    if unknown:
        raise SystemExit(f"unknown examples {unknown}; known: {', '.join(EXAMPLES)}")
    for name in names:
        print(f'== examples/{name}.py', flush=True)
        print(record(name), end='', flush=True)


if __name__ == '__main__':
    main()
