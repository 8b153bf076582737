"""How to choose the embedding reinforcement honestly: each rule's test accuracy on the same
embeddings.

    python benchmarks/reinforcement_choice.py --preset ggd-cora --seeds 10
    python benchmarks/reinforcement_choice.py --table

The preset runs once, as users run it (``graphdim train --preset P --out RUN``); its saved
per-seed embeddings (plain ``z``) are then probed under each rule, none of which reads a test
label:

* ``fixed``: the recipe's published ``z + Â^5 z`` (GGD's authors'), no choice at all;
* ``val``: form (``z + Â^K z`` or ``Â^K z``) and ``K`` in 0, 1, 2, 3, 5, 10 chosen by the
  probe's accuracy on the 500 validation nodes (graphdim's earlier preset rule);
* ``val-add``: the same with the form fixed to ``z + Â^K z`` (a smaller grid);
* ``cv-add``: as ``val-add``, each candidate scored by 3-fold cross-validation on the
  training and validation labels together (``--hops-cv 3``; 30 probe fits a candidate, so
  the form is fixed to keep the grid small).

Each preset is one line of ``--out`` (JSON lines); the test accuracy of each rule is the mean
and standard deviation over seeds, beside the forms and depths each rule chose.
"""
import argparse
import json
import os
import tempfile
from pathlib import Path

import torch

import graphdim as gd
from graphdim.experiments.config import mean_std as sample_mean_std
from cli_runs import run_cli_json
from tables import markdown_table, mean_std

RESULTS = Path(__file__).resolve().parent / 'results' / 'reinforcement_choice.jsonl'
GRID = (0, 1, 2, 3, 5, 10)
# name -> (K grid, forms, cross-validation folds: 0 = the validation split)
RULES = {'fixed': ((5, ), ('add', ), 0), 'val': (GRID, ('add', 'replace'), 0),
         'val-add': (GRID, ('add', ), 0), 'cv-add': (GRID, ('add', ), 3)}


def trained_preset(preset: str, seeds: int, root: str, runs_dir: Path) -> dict:
    """The summary of the preset trained into ``runs_dir/preset``, as users run it; a
    finished run there is reused (rules can be measured again without training again)."""
    run = runs_dir / preset
    if (run / 'results.json').is_file():
        return json.loads((run / 'results.json').read_text())
    return run_cli_json(['train', '--preset', preset, '--seeds', str(seeds), '--out',
                         str(run), '--root', root, '--json', '--quiet', '--overwrite'], preset)


def measure(preset: str, seeds: int, root: str, runs_dir: Path) -> dict:
    """Train the preset (:func:`trained_preset`), then probe its embeddings by each rule."""
    run = runs_dir / preset
    summary = trained_preset(preset, seeds, root, runs_dir)
    data = gd.load_node_dataset(summary['dataset'], root).data
    split = gd.public_split(data)
    rules = {name: [] for name in RULES}
    for seed in summary['seeds']:
        z = torch.load(run / f'seed_{seed}' / 'embeddings.pt', weights_only=True)
        for name, (grid, modes, folds) in RULES.items():
            chosen = gd.choose_hops(z, data, split, grid, modes, folds=folds)
            rules[name].append({'test_acc': 100 * chosen.test_score, 'hops': chosen.hops,
                                'reinforcement': chosen.mode})
            print(f"seed {seed} {name:>8}: {100 * chosen.test_score:.2f} "
                  f"({chosen.mode} {chosen.hops})", flush=True)
    figures = {key: summary[key] for key in summary if key.endswith(('_mean', '_std'))
               or key in ('epoch_seconds_median', 'train_seconds_total', 'peak_rss_mb')}
    return {'preset': preset, 'dataset': summary['dataset'], 'seeds': summary['seeds'],
            'preset_figures': figures,
            'rules': {name: dict(zip(('test_acc_mean', 'test_acc_std'),
                                     sample_mean_std(r['test_acc'] for r in runs)), runs=runs)
                      for name, runs in rules.items()},
            'config': summary['config'], 'device': summary['device'],  # resolved: not 'auto'
            'versions': summary['versions']}


def read_rows(path: Path = RESULTS) -> list:
    """The measured presets (empty before the first run)."""
    return [json.loads(line) for line in path.read_text().splitlines()] \
        if path.is_file() else []


def table(rows) -> str:
    """Each rule's test accuracy per preset; the preset's own figure, beside its untrained
    encoder, is in benchmarks/preset_results.py's table."""
    body = []
    for row in rows:
        cells = [row['preset'], str(len(row['seeds']))]
        for name in RULES:
            rule = row['rules'][name]
            cells.append(mean_std(rule['test_acc_mean'], rule['test_acc_std'],
                                  seeds=len(row['seeds'])))
        body.append(cells)
    return markdown_table(['preset', 'seeds', 'fixed z + Â^5 z', 'validation',
                           'validation, add only', '3-fold CV, add only'], body)


def preset_rules_main(description: str, results: Path, measure, table, default_preset: str,
                      default_seeds: int) -> None:
    """The command line of a benchmark that probes trained presets' embeddings by rules
    (this one, probe_penalty.py): measure the ``--preset`` list into ``--out`` (a JSON line
    each, replacing that preset's), then print ``table`` of every line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--preset', nargs='+', default=[default_preset])
    parser.add_argument('--seeds', type=int, default=default_seeds)
    parser.add_argument('--root', default=os.environ.get('GRAPHDIM_DATA', '../shared/data'))
    parser.add_argument('--out', type=Path, default=results)
    parser.add_argument('--runs', type=Path, default=Path(tempfile.gettempdir()) /
                        'graphdim-reinforcement-choice', help='where the trained runs are kept')
    parser.add_argument('--table', action='store_true', help='print the table and stop')
    args = parser.parse_args()
    rows = read_rows(args.out)
    if not args.table:
        for preset in args.preset:
            rows = [r for r in rows if r['preset'] != preset] + [
                measure(preset, args.seeds, args.root, args.runs)]
            args.out.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    print(table(rows))


def main() -> None:
    preset_rules_main(__doc__.splitlines()[0], RESULTS, measure, table, 'ggd-cora', 10)


if __name__ == '__main__':
    main()
