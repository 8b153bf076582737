"""graphdim's CLI against PyG's transductive DGI example, as users run them: separate processes.

    python benchmarks/cli_speed.py                          # Cora, CiteSeer, PubMed, 40 epochs
    python benchmarks/cli_speed.py --graphs PubMed --repeats 3

Each graph, ``--repeats`` times, alternating: ``graphdim train --dataset G --epochs E --json``
(its median epoch time and peak RSS from the ``--json`` line), and a fresh process that does
what PyG's ``examples/infomax_transductive.py`` does: ``Planetoid`` reads the raw files (a
temporary copy of the data root's, since Planetoid writes its processed files beside them),
PyG's ``DeepGraphInfomax`` with its example encoder (``speed.pyg_reference``) trains ``E``
epochs with Adam 1e-3, then ``model.test`` probes once; it reports its median epoch time and
peak RSS the same way. Neither process is tuned by the other: the CLI applies its own
allocator setting, PyG's example runs with the machine's defaults. The figures are ratios
within one run; the CPU model is printed and saved with them (``versions['cpu']``).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_runs import run_cli_json
from tables import markdown_table

PLANETOID = ['Cora', 'CiteSeer', 'PubMed']


def pyg_example(name: str, epochs: int, root: str) -> dict:
    """PyG's example in this process (the ``--pyg-example`` mode): returns its figures."""
    import torch
    from torch_geometric.datasets import Planetoid

    from graphdim.runtime import peak_rss_mb
    from speed import make_step, pyg_example_test, pyg_reference
    dataset = Planetoid(root, name)
    data = dataset[0]
    torch.manual_seed(0)
    model = pyg_reference(dataset.num_features)
    step = make_step(model, data)  # Adam 1e-3: zero_grad, loss, backward, step
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return {'epoch_seconds_median': statistics.median(seconds), 'peak_rss_mb': peak_rss_mb(),
            'test_acc': pyg_example_test(model, data)}


def run_pyg_example(name: str, epochs: int, data_root: Path) -> dict:
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / name / 'raw'
        shutil.copytree(data_root / 'planetoid' / name / 'raw', raw)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, '--pyg-example', name, '--epochs',
                               str(epochs), '--root', root], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"PyG's example on {name} failed:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result['wall_seconds'] = time.perf_counter() - start
        return result


def summary(row) -> dict:
    """One graph's figures: the median over repeats of each process's median epoch (ms), and
    each one's peak RSS, the largest over repeats (MiB)."""
    def median_ms(runs):
        return 1000 * statistics.median(r['epoch_seconds_median'] for r in runs)
    return {'graphdim_ms': median_ms(row['graphdim']), 'pyg_ms': median_ms(row['pyg']),
            'graphdim_mb': max(r['peak_rss_mb'] for r in row['graphdim']),
            'pyg_mb': max(r['peak_rss_mb'] for r in row['pyg']), 'repeats': len(row['pyg']),
            'speed_up': median_ms(row['pyg']) / median_ms(row['graphdim'])}


def table(rows) -> str:
    lines = []
    for row in rows:
        s = summary(row)
        lines.append([row['graph'], s['repeats'], f"{s['graphdim_ms']:.1f}", f"{s['pyg_ms']:.1f}",
                      f"{s['speed_up']:.1f}x", f"{s['pyg_mb'] / s['graphdim_mb']:.2f}x"])
    # Peak memory as a ratio: each model's own peak RSS has one source, node_models.jsonl.
    return markdown_table(['graph', 'runs', 'graphdim CLI ms/epoch', "PyG example ms/epoch",
                           'speed-up', 'peak RSS, PyG example / CLI'], lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--graphs', nargs='+', default=PLANETOID)
    parser.add_argument('--epochs', type=int, default=40)
    parser.add_argument('--repeats', type=int, default=2)
    parser.add_argument('--out', default='benchmarks/results/cli_speed.json')
    parser.add_argument('--pyg-example', metavar='GRAPH', help=argparse.SUPPRESS)
    parser.add_argument('--root', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyg_example:
        print(json.dumps(pyg_example(args.pyg_example, args.epochs, args.root)))
        return
    from graphdim.data.roots import resolve_root
    from graphdim.runtime import cpu_model, package_versions
    data_root = resolve_root()  # --root is not an option here: GRAPHDIM_DATA
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores", flush=True)
    rows = []
    for name in args.graphs:
        row = {'graph': name, 'graphdim': [], 'pyg': []}
        for _ in range(args.repeats):
            row['graphdim'].append(run_cli_json(
                ['train', '--dataset', name, '--epochs', str(args.epochs), '--seeds', '1',
                 '--device', 'cpu', '--json'], f'graphdim on {name}'))
            row['pyg'].append(run_pyg_example(name, args.epochs, data_root))
            print(f"  PyG example: {1000 * row['pyg'][-1]['epoch_seconds_median']:.1f} ms/epoch, "
                  f"peak RSS {row['pyg'][-1]['peak_rss_mb']:.0f} MiB", flush=True)
        rows.append(row)
    print(table(rows))
    report = {'rows': rows, 'epochs': args.epochs, 'versions': package_versions(),
              'device': 'cpu'}  # versions['cpu']: the CPU model
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == '__main__':
    main()
