"""Image DIM on MNIST (CPU): DIM(L) and DIM(G) beside raw pixels and the random-init encoder.

    python benchmarks/image_dim.py

Runs ``python -m graphdim image --mode local`` and ``--mode global`` with the same recipe
(plus any extra CLI options given after ``--``), prints one table of the linear and 200-unit
MLP probes on the conv / fc / Y features, checks the acceptance criteria of issue 6 and saves
the JSON summaries to ``--out``.
"""
import argparse
import json
import os
import time

from cli_runs import run_cli_json
from tables import markdown_table, mean_std

# DIM trains on 32,000 of the 55,000 non-validation training images (2 epochs, 1000 steps)
# so that both modes and all probes fit in 30 minutes on 2 cores.
RECIPE = ['--dataset', 'mnist', '--estimator', 'jsd', '--epochs', '2', '--train-size', '32000',
          '--batch-size', '64', '--lr', '1e-3', '--mi-units', '256', '--probes', 'linear', 'mlp',
          '--features', 'conv', 'fc', 'y']
BUDGET_SECONDS = 30 * 60


def run(mode, seeds, extra):
    arguments = ['image', '--mode', mode, *RECIPE, '--seeds', str(seeds), '--json', '--quiet',
                 *extra]
    if mode != 'local':
        arguments.append('--no-baselines')  # the same baselines as the DIM(L) run
    return run_cli_json(arguments, mode)


def _cell(summary, probes, key):
    """Test accuracy of one probe (± over seeds where there are several)."""
    if key not in probes:
        return '-'
    figure = probes[key]
    if len(summary['seeds']) == 1:
        return f"{figure['test_acc_mean']:.2f}"
    return mean_std(figure['test_acc_mean'], figure['test_acc_std'])


def table(runs) -> str:
    """README's image table, from ``{'local': summary, 'global': summary}`` (the ``runs`` of
    ``benchmarks/results/image_dim.json``); the headline, DIM(L)'s linear probe on Y, bold."""
    local, global_ = runs['local'], runs['global']
    raw = local['baselines']['raw_pixels']['probes']
    rand = local['baselines']['random_encoder']['probes']
    rows = []
    for probe, probe_name in (('linear', 'linear'), ('mlp', 'MLP')):
        for kind, kind_name in (('conv', 'conv'), ('fc', 'fc'), ('y', 'Y')):
            key = f'{probe}/{kind}'
            headline = _cell(local, local['probes'], key)
            rows.append([f'{probe_name} / {kind_name}',
                         f'**{headline}**' if key == 'linear/y' else headline,
                         _cell(global_, global_['probes'], key), _cell(local, rand, key),
                         _cell(local, raw, f'{probe}/pixels') if kind == 'y' else '-'])
    return markdown_table(['probe / features', 'DIM(L)', 'DIM(G)', 'random-init encoder',
                           'raw pixels'], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, default=1)
    parser.add_argument('--out', default='benchmarks/results/image_dim.json')
    parser.add_argument('extra', nargs='*', help='extra graphdim image options (after --)')
    args = parser.parse_args()
    start = time.perf_counter()
    local = run('local', args.seeds, args.extra)
    global_ = run('global', args.seeds, args.extra)
    wall = time.perf_counter() - start
    print(f"\nimage DIM on MNIST, seeds {local['seeds']}, config "
          f"{json.dumps({k: v for k, v in local['config'].items() if k != 'mode'})}")
    print(f"versions {json.dumps(local['versions'])}")
    print(f"DIM trained on {local['train_images']} images; probes: {local['split']}\n")
    print(table({'local': local, 'global': global_}))
    print(f"\ntraining: DIM(L) {local['train_seconds_total']:.0f} s "
          f"({local['epoch_seconds_median']:.0f} s/epoch), DIM(G) "
          f"{global_['train_seconds_total']:.0f} s ({global_['epoch_seconds_median']:.0f} s/epoch);"
          f" peak RSS {max(local['peak_rss_mb'], global_['peak_rss_mb']):.0f} MiB")
    y_local, y_global = local['test_acc_mean'], global_['test_acc_mean']
    y_raw = local['baselines']['raw_pixels']['test_acc_mean']
    y_rand = local['baselines']['random_encoder']['test_acc_mean']
    checks = [(f"DIM(L) linear/y {y_local:.2f} >= raw pixels {y_raw:.2f} + 2",
               y_local >= y_raw + 2),
              (f"DIM(L) linear/y {y_local:.2f} >= random-init encoder {y_rand:.2f} + 2",
               y_local >= y_rand + 2),
              (f"DIM(L) linear/y {y_local:.2f} > DIM(G) linear/y {y_global:.2f}",
               y_local > y_global),
              (f"wall time {wall / 60:.1f} min <= 30 min", wall <= BUDGET_SECONDS)]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    print(f"wall time {wall:.0f} s")
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as file:
        json.dump({'wall_seconds': wall, 'checks': {t: ok for t, ok in checks},
                   'runs': {'local': local, 'global': global_}}, file, indent=2)
    print(f"wrote {args.out}")


if __name__ == '__main__':
    main()
