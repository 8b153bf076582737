"""The training-free baseline of every node table: the raw features propagated over the graph.

    python benchmarks/training_free.py                      # Cora, CiteSeer, PubMed
    python benchmarks/training_free.py --table

No encoder, no training: the linear probe on ``X`` or S²GC's ``α X + (1-α)/K Σ_{k<=K} Â^k X``
(``Â`` GCN-normalised with self-loops, ``X`` the row-normalised features graphdim trains on),
``K`` in 2, 4, 8, 16 and ``α`` in 0, 0.05, 0.15 chosen on the validation split, ``C`` and the
row normalisation on validation too, the test split read once (SGC's, S²GC's and GGCM's kind of
baseline). It is what ``graphdim train --random-baseline`` reports as
``training_free_test_acc``; on a public split it is the same for every seed and every model, so
it is measured once per graph here and stands beside every node row of the README.
"""
import argparse
import json
import os
import time
from pathlib import Path

import graphdim as gd
from graphdim.eval.reinforced import training_free_probe
from graphdim.runtime import package_versions
from tables import markdown_table

RESULTS = Path(__file__).resolve().parent / 'results' / 'training_free.json'
DATASETS = ['Cora', 'CiteSeer', 'PubMed']


def measure(dataset: str, root: str) -> dict:
    data = gd.load_node_dataset(dataset, root).data
    start = time.perf_counter()
    chosen = training_free_probe(data, gd.public_split(data))  # what --random-baseline runs
    return {'dataset': dataset, 'test_acc': 100 * chosen.test_score,
            'val_acc': 100 * chosen.val_score, 'hops': chosen.hops,
            'reinforcement': chosen.mode, 'alpha': chosen.alpha, 'probe_c': chosen.result.c,
            'probe_normalization': chosen.result.normalization,
            'val_scores': {' '.join(map(str, key)): 100 * v
                           for key, v in chosen.val_scores.items()},
            'seconds': time.perf_counter() - start}


def read_results(path: Path = RESULTS) -> dict:
    """``{dataset: row}`` of the measured graphs (empty before the first run)."""
    return json.loads(path.read_text())['datasets'] if path.is_file() else {}


def table(rows: dict) -> str:
    return markdown_table(
        ['dataset', 'test acc %', 'form and K chosen on validation', 'val acc %'],
        [[name, f"{row['test_acc']:.2f}",
          _form(row),
          f"{row['val_acc']:.2f}"] for name, row in rows.items()])


def _form(row: dict) -> str:
    if row['reinforcement'] == 'multiscale':  # S²GC's: alpha X + (1 - alpha) mean of Â^k X
        return f"α X + (1-α)/K Σ Â^k X, K = {row['hops']}, α = {row['alpha']:g}"
    if row['hops'] == 0:
        return 'X'
    return f"{'X + Â^K X' if row['reinforcement'] == 'add' else 'Â^K X'}, K = {row['hops']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--datasets', nargs='+', default=DATASETS)
    parser.add_argument('--root', default=os.environ.get('GRAPHDIM_DATA', '../shared/data'))
    parser.add_argument('--out', type=Path, default=RESULTS)
    parser.add_argument('--table', action='store_true', help='print the table and stop')
    args = parser.parse_args()
    rows = read_results(args.out)
    if not args.table:
        for dataset in args.datasets:
            rows[dataset] = measure(dataset, args.root)
            print(f"{dataset}: {rows[dataset]['test_acc']:.2f}", flush=True)
        args.out.write_text(json.dumps({'datasets': rows, 'versions': package_versions()},
                                       indent=1) + '\n')
    print(table(rows))


if __name__ == '__main__':
    main()
