"""Graph-level DIM (InfoGraph) over seeds, fixed recipe: TU accuracy and OGB ROC-AUC.

The TU figures graphdim reports come from ``graph_level_nested.py`` (every setting chosen
inside each outer fold); this script runs one fixed recipe, and the README shows its OGB
table.

    python benchmarks/graph_level.py

Runs ``python -m graphdim train --level graph --dataset NAME --seeds N --json`` for each
dataset (one process per dataset, so peak memory and wall time are per dataset) with the
fixed recipe below and any extra CLI options given after ``--``, and prints one table with
InfoGraph's published figures beside ours. TU datasets: 10-fold CV accuracy of an SVM and of
logistic regression, ``C`` chosen by inner CV on the training folds only. OGB datasets:
ROC-AUC on the official scaffold split (probe chosen on valid), with the random-init
encoder's ROC-AUC beside it. The JSON summaries (config, seeds, versions, per-seed and
per-fold results) go to ``--out``.
"""
import argparse
import json
import os
import time

from cli_runs import run_cli_json
from tables import markdown_table, mean_std

TU = ['MUTAG', 'PTC_MR', 'IMDB-BINARY', 'IMDB-MULTI', 'PROTEINS']
OGB = ['ogbg-molbace', 'ogbg-molbbbp']
# InfoGraph (Sun et al., ICLR 2020), Table 2; PROTEINS from GraphCL's table.
PAPER = {'MUTAG': '89.01 ± 1.13', 'PTC_MR': '61.65 ± 1.43', 'IMDB-BINARY': '73.03 ± 0.87',
         'IMDB-MULTI': '49.69 ± 0.53', 'PROTEINS': '74.44 ± 0.31'}
TARGET = {'MUTAG': 89.0, 'PTC_MR': 61.6, 'IMDB-BINARY': 73.0, 'IMDB-MULTI': 49.7,
          'PROTEINS': 74.4}
# The recipe: InfoGraph's (GIN x5, 32 units, concatenated layers, sum readout, JSD, heads,
# batch 128, Adam 1e-2, 20 epochs); evaluation with 3 inner folds and 2 parallel fits to fit
# the time budget (2 cores).
RECIPE = ['--hidden', '32', '--layers', '5', '--estimator', 'jsd', '--batch-size', '128',
          '--lr', '0.01', '--epochs', '20', '--inner-folds', '3', '--jobs', '2']


def run(dataset, seeds, extra, threads):
    return run_cli_json(['train', '--level', 'graph', '--dataset', dataset, '--seeds',
                         str(seeds), '--json', '--quiet', *RECIPE, *extra], dataset,
                        env={'OMP_NUM_THREADS': str(threads)})


def tu_table(summaries) -> str:
    """README's TU table: SVM and logistic-regression CV accuracy (± over seeds) beside
    InfoGraph's published figures."""
    def row(s):
        name = s['dataset']
        met = 'yes' if s['test_acc_mean'] >= TARGET[name] else 'no'
        return [name, mean_std(s['test_acc_mean'], s['test_acc_seed_std']),
                mean_std(s['logreg_acc_mean'], s['logreg_acc_seed_std']),
                f"{s['val_acc_mean']:.2f}", PAPER[name], f"{TARGET[name]} ({met})",
                f"{s['wall_seconds']:.0f}"]
    return markdown_table(['dataset', 'SVM acc % (± seeds)', 'logreg acc %', 'inner-CV acc',
                           'InfoGraph paper', 'target (met)', 'wall s'], map(row, summaries))


def ogb_table(summaries) -> str:
    """README's OGB table: test ROC-AUC against the random-init encoder's."""
    def row(s):
        better = 'yes' if s['test_roc_auc_mean'] > s['random_init_test_roc_auc_mean'] else 'no'
        return [s['dataset'], mean_std(s['test_roc_auc_mean'], s['test_roc_auc_std'], 4),
                mean_std(s['random_init_test_roc_auc_mean'], s['random_init_test_roc_auc_std'], 4),
                better, f"{s['wall_seconds']:.0f}"]
    return markdown_table(['dataset', 'test ROC-AUC', 'random-init encoder', 'beats random',
                           'wall s'], map(row, summaries))


def tu_summaries(summaries):
    return [s for s in summaries if 'test_acc_mean' in s]


def ogb_summaries(summaries):
    return [s for s in summaries if 'test_roc_auc_mean' in s]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--datasets', nargs='+', default=TU + OGB)
    parser.add_argument('--seeds', type=int, default=5)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch / BLAS threads per run (default 1: the batches are small '
                             'and the machine is shared)')
    parser.add_argument('--out', default='benchmarks/results/graph_level.json')
    parser.add_argument('extra', nargs='*', help='extra graphdim train options (after --)')
    args = parser.parse_args()
    start = time.perf_counter()
    summaries = [run(name, args.seeds, args.extra, args.threads) for name in args.datasets]
    total = time.perf_counter() - start
    first = summaries[0]
    print(f"\nInfoGraph, {len(first['seeds'])} seeds ({first['seeds'][0]}..{first['seeds'][-1]}), "
          f"config {json.dumps({k: v for k, v in first['config'].items() if k != 'dataset'})}")
    for s in summaries:
        config = s['config']
        print(f"  {s['dataset']}: lr {config['lr']}, {config['num_layers']} GIN layers, "
              f"{config['epochs']} epochs")
    print(f"versions {json.dumps(first['versions'])}\n")
    tu, ogb = tu_summaries(summaries), ogb_summaries(summaries)
    if tu:
        print(tu_table(tu))
        print('std over all folds of all seeds: ' + ', '.join(
            f"{s['dataset']} {s['test_acc_std']:.2f}" for s in tu))
    if ogb:
        print(f"\n{ogb_table(ogb)}")
        print('valid ROC-AUC: ' + ', '.join(
            f"{s['dataset']} {s['valid_roc_auc_mean']:.4f}" for s in ogb))
    print(f"\nwhole table: {total:.0f} s ({total / 60:.1f} min)")
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as file:
        json.dump({'total_seconds': total, 'threads': args.threads, 'summaries': summaries},
                  file, indent=2)
    print(f"wrote {args.out}")


if __name__ == '__main__':
    main()
