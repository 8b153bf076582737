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

PAPER = {'Cora': '82.3 ± 0.6', 'CiteSeer': '71.8 ± 0.7', 'PubMed': '76.8 ± 0.6'}
TARGET = {'Cora': 82.0, 'CiteSeer': 71.5, 'PubMed': 76.5}


def run(dataset, seeds, extra):
    return run_cli_json(['train', '--dataset', dataset, '--seeds', str(seeds), '--json',
                         '--quiet', *extra], dataset)


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
    print('| dataset | test acc (%) | DGI paper | target | epochs (mean) | ms/epoch (median) '
          '| train s (all seeds) | peak RSS MiB |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for s in summaries:
        name = s['dataset']
        print(f"| {name} | {s['test_acc_mean']:.2f} ± {s['test_acc_std']:.2f} | "
              f"{PAPER.get(name, '-')} | {TARGET.get(name, '-')} | {s['epochs_mean']:.0f} | "
              f"{1000 * s['epoch_seconds_median']:.1f} | {s['train_seconds_total']:.0f} | "
              f"{s['peak_rss_mb']:.0f} |")
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as file:
        json.dump(summaries, file, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == '__main__':
    main()
