"""Choose InfoGraph's recipe per TU dataset by inner-CV accuracy, never by the test folds.

    python benchmarks/graph_level_sweep.py --workers 2

Runs ``benchmarks/graph_level.py``'s recipe with each combination of the grid below
(learning rate, GIN layers, epochs) on each dataset, ``--workers`` runs at a time, one
thread each, with the random-init encoder beside every run. Prints, per dataset, every
setting's inner-CV accuracy (the training folds only: the number to choose on), the 10-fold
test accuracy and the random-init encoder's test accuracy, best inner-CV first. The chosen
settings go into ``graph_level.py``'s per-dataset recipe; this script only shows the choice.
"""
import argparse
import itertools
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_level import CHOSEN, TU, run  # noqa: E402

GRID = {'--lr': ['0.001', '0.01'], '--layers': ['3', '5'], '--epochs': ['20', '100']}


def settings_for(name, probe_scaling):
    """The grid's settings, or (``--probe-scaling``) the chosen one with and without
    standardised probe features."""
    if not probe_scaling:
        return [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    chosen = dict(zip(CHOSEN[name][::2], CHOSEN[name][1::2]))
    return [{**chosen, '--standardize': 'yes'}, {**chosen, '--no-standardize': ''}]


def as_options(setting):
    return [part for key, value in setting.items() if key != '--standardize'
            for part in ((key, ) if value == '' else (key, value))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--datasets', nargs='+', default=TU)
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--probe-scaling', action='store_true',
                        help="instead of the grid: each dataset's chosen setting (graph_level."
                             "CHOSEN) with standardised and with raw probe features")
    parser.add_argument('--out', default='benchmarks/results/graph_level_sweep.jsonl')
    args = parser.parse_args()
    jobs = [(name, setting) for name in args.datasets
            for setting in settings_for(name, args.probe_scaling)]
    rows = []
    with ThreadPoolExecutor(args.workers) as pool, open(args.out, 'w') as out:
        futures = {pool.submit(run, name, args.seeds,
                               [*as_options(setting), '--random-baseline', '--jobs', '1'], 1):
                   (name, setting)
                   for name, setting in jobs}
        for future in as_completed(futures):
            name, setting = futures[future]
            s = future.result()
            row = {'dataset': name, 'setting': setting, 'inner_cv': s['val_acc_mean'],
                   'test': s['test_acc_mean'], 'test_seed_std': s['test_acc_seed_std'],
                   'random_init_test': s['random_init_test_acc_mean'],
                   'wall_seconds': s['wall_seconds']}
            rows.append(row)
            out.write(json.dumps(row) + '\n')
            out.flush()
    for name in args.datasets:
        print(f"\n{name}: setting | inner-CV acc | test acc (± seeds) | random-init test | s")
        for r in sorted((r for r in rows if r['dataset'] == name), key=lambda r: -r['inner_cv']):
            print(f"  {' '.join(f'{k} {v}' for k, v in r['setting'].items())} | "
                  f"{r['inner_cv']:.2f} | {r['test']:.2f} ± {r['test_seed_std']:.2f} | "
                  f"{r['random_init_test']:.2f} | {r['wall_seconds']:.0f}")


if __name__ == '__main__':
    main()
