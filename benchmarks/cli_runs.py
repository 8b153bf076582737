"""One ``python -m graphdim ... --json`` run in a fresh process, for the benchmark scripts."""
import json
import os
import subprocess
import sys
import time


def run_cli_json(arguments, label, env=None):
    """Run ``python -m graphdim *arguments`` (which must end its output with the ``--json``
    line), echo its readable summary, exit naming ``label`` if it fails; return the JSON
    summary with ``wall_seconds`` added."""
    command = [sys.executable, '-m', 'graphdim', *arguments]
    print('$ graphdim', ' '.join(arguments), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))
    if done.returncode:
        sys.exit(f"{label} failed:\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    summary['wall_seconds'] = time.perf_counter() - start
    print('\n'.join(lines[:-1]), flush=True)
    return summary
