"""The probe's fit as a lever: each preset probed by L-BFGS to convergence (graphdim's
default) and by Adam stopped early (``--probe-optimizer adam``, the step chosen on
validation with ``C``: the probe of GraphACL's, GGD's and CCA-SSG's papers), with its
untrained encoder and the training-free baseline beside it, probed the same way.

    python benchmarks/probe_fit.py                               # graphacl-citeseer, 10 seeds
    python benchmarks/probe_fit.py --presets graphacl-citeseer ggd-citeseer --seeds 3
    python benchmarks/probe_fit.py --table

Each run is ``graphdim train --preset P --random-baseline --probe-optimizer FIT --json`` in
its own process; training does not depend on the probe, so both fits score the same
embeddings. Adam's validation score is the best of ``--probe-epochs`` steps, optimistic
against L-BFGS's one solution: compare the fits by their test figures (docs: Evaluation).
Each finished (preset, fit) is one line of ``--out``; a line at fewer seeds is run again.
"""
import argparse
import json
from pathlib import Path

from cli_runs import run_cli_json
from tables import markdown_table, mean_std

FITS = ('lbfgs', 'adam')
RESULTS = Path(__file__).resolve().parent / 'results' / 'probe_fit.jsonl'


def read_rows(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] \
        if path.is_file() else []


def run(preset: str, fit: str, seeds: int) -> dict:
    summary = run_cli_json(['train', '--preset', preset, '--seeds', str(seeds),
                            '--random-baseline', '--probe-optimizer', fit, '--quiet',
                            '--json'], f'{preset} with the {fit} probe')
    return {'preset': preset, 'fit': fit, **summary}


def table(rows: list) -> str:
    def figure(row, prefix=''):
        return mean_std(row[f'{prefix}test_acc_mean'], row[f'{prefix}test_acc_std'])
    return markdown_table(
        ['preset', 'probe fit', 'seeds', 'test accuracy', 'validation', 'untrained encoder',
         'training-free'],
        [[f"`{r['preset']}`", r['fit'], str(len(r['seeds'])), figure(r),
          f"{r['val_acc_mean']:.2f}", figure(r, 'random_init_'), figure(r, 'training_free_')]
         for r in rows])


def measure_missing(rows: list, presets: list, seeds: int, out: Path) -> list:
    """Run every (preset, fit) that ``rows`` lacks at ``seeds`` seeds, writing ``out`` after
    each, so that an interrupted run continues where it stopped."""
    for preset in presets:
        for fit in FITS:
            done = [r for r in rows if (r['preset'], r['fit']) == (preset, fit)]
            if done and len(done[-1]['seeds']) >= seeds:
                continue
            rows = [r for r in rows if (r['preset'], r['fit']) != (preset, fit)] + [
                run(preset, fit, seeds)]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--presets', nargs='+', default=['graphacl-citeseer'])
    parser.add_argument('--seeds', type=int, default=10)
    parser.add_argument('--out', type=Path, default=RESULTS)
    parser.add_argument('--table', action='store_true', help='print the table and stop')
    args = parser.parse_args()
    rows = read_rows(args.out)
    print(table(rows if args.table else measure_missing(rows, args.presets, args.seeds,
                                                        args.out)))
    print(f"\nresults: {args.out}")


if __name__ == '__main__':
    main()
