"""Node-level DGI accuracy over seeds, one dataset per process (so peak memory is per dataset).

    python benchmarks/accuracy.py --datasets Cora CiteSeer PubMed --seeds 10

Runs ``python -m graphdim train --dataset NAME --seeds N --json`` for each dataset with the
defaults (DGI's recipe) plus any extra CLI options given after ``--``, and prints one table.
The full JSON summaries (config, seeds, versions, per-seed results) go to ``--out``.
"""
import argparse
import json
import os

from cli_runs import run_cli_json
from tables import markdown_table, mean_std

PAPER = {'Cora': '82.3 ± 0.6', 'CiteSeer': '71.8 ± 0.7', 'PubMed': '76.8 ± 0.6'}
TARGET = {'Cora': 82.0, 'CiteSeer': 71.5, 'PubMed': 76.5}


def run(dataset, seeds, extra):
    return run_cli_json(['train', '--dataset', dataset, '--seeds', str(seeds), '--json',
                         '--quiet', *extra], dataset)


def table(summaries) -> str:
    """DGI's accuracy table, from the summaries this benchmark writes (``--out``)."""
    return markdown_table(
        ['dataset', 'test acc (%)', 'DGI paper', 'target', 'epochs (mean)', 'peak RSS MiB'],
        ([s['dataset'], mean_std(s['test_acc_mean'], s['test_acc_std']),
          PAPER.get(s['dataset'], '-'), TARGET.get(s['dataset'], '-'), f"{s['epochs_mean']:.0f}",
          f"{s['peak_rss_mb']:.0f}"] for s in summaries))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--datasets', nargs='+', default=['Cora', 'CiteSeer', 'PubMed'])
    parser.add_argument('--seeds', type=int, default=10)
    parser.add_argument('--out', default='benchmarks/results/accuracy.json')
    parser.add_argument('extra', nargs='*', help='extra graphdim train options (after --)')
    args = parser.parse_args()
    summaries = [run(name, args.seeds, args.extra) for name in args.datasets]
    first = summaries[0]
    print(f"\nDGI, {len(first['seeds'])} seeds ({first['seeds'][0]}..{first['seeds'][-1]}), "
          f"config {json.dumps({k: v for k, v in first['config'].items() if k != 'dataset'})}")
    print(f"versions {json.dumps(first['versions'])}\n")
    print(table(summaries))
    for s in summaries:
        print(f"{s['dataset']}: {1000 * s['epoch_seconds_median']:.1f} ms/epoch (median), "
              f"{s['train_seconds_total']:.0f} s training (all seeds)")
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as file:
        json.dump(summaries, file, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == '__main__':
    main()
