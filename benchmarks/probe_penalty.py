"""How strongly to regularise the linear probe, and how to choose it: each rule's test
accuracy on the same embeddings.

    python benchmarks/probe_penalty.py --preset ggd-citeseer --seeds 3
    python benchmarks/probe_penalty.py --table

The preset runs once, as users run it (:func:`reinforcement_choice.trained_preset`); its
saved per-seed embeddings are then probed with the preset's own reinforcement (its ``--hops``
and form, chosen on validation where it gives several) under each rule for the inverse L2
penalty ``C``, none of which reads a test label:

* ``default``: ``C`` in 0.01 .. 100 chosen per seed on the 500 validation nodes (graphdim's
  probe as the presets run it);
* ``wide``: ``C`` in 0.001 .. 1000, per seed on validation;
* ``strong``: ``C`` in 0.001 .. 0.1 (weight decay about 1e-2 on 140 training nodes, the
  CiteSeer probes of CCA-SSG, GraphACL and GraphMAE), per seed on validation;
* ``over seeds``: one ``C`` of the wide grid for every seed, the one with the highest mean
  validation accuracy over the seeds (what a recipe search fixes per recipe).

Each preset is one line of ``--out`` (JSON lines): each rule's test accuracy (mean and
standard deviation over seeds) and the ``C`` each rule chose.
"""
from pathlib import Path

import torch

import graphdim as gd
from graphdim.experiments.config import mean_std as sample_mean_std
from reinforcement_choice import preset_rules_main, trained_preset
from tables import markdown_table, mean_std

RESULTS = Path(__file__).resolve().parent / 'results' / 'probe_penalty.jsonl'
WIDE = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
GRIDS = {'default': (0.01, 0.1, 1.0, 10.0, 100.0), 'wide': WIDE, 'strong': (0.001, 0.01, 0.1)}


def _probe(z, data, split, config: dict, c_grid) -> dict:
    chosen = gd.choose_hops(z, data, split, config['hops'], config['reinforcement'],
                            c_grid=c_grid)
    return {'test_acc': 100 * chosen.test_score, 'val_acc': 100 * chosen.val_score,
            'c': chosen.result.c, 'hops': chosen.hops}


def measure(preset: str, seeds: int, root: str, runs_dir: Path) -> dict:
    summary = trained_preset(preset, seeds, root, runs_dir)
    config = summary['config']
    data = gd.load_node_dataset(summary['dataset'], root).data
    split = gd.public_split(data)
    per_grid = {name: [] for name in GRIDS}
    per_c = {c: [] for c in WIDE}  # each fixed C, for the choice over seeds
    for seed in summary['seeds']:
        z = torch.load(runs_dir / preset / f'seed_{seed}' / 'embeddings.pt', weights_only=True)
        for name, grid in GRIDS.items():
            per_grid[name].append(_probe(z, data, split, config, grid))
        for c in WIDE:
            per_c[c].append(_probe(z, data, split, config, (c, )))
        print(f"seed {seed}: " + ', '.join(f"{name} {runs[-1]['test_acc']:.2f} (C={runs[-1]['c']:g})"
                                           for name, runs in per_grid.items()), flush=True)
    best_c = max(WIDE, key=lambda c: sum(r['val_acc'] for r in per_c[c]))  # ties: smaller C
    per_grid['over seeds'] = per_c[best_c]
    rules = {name: dict(zip(('test_acc_mean', 'test_acc_std'),
                            sample_mean_std(r['test_acc'] for r in runs)), runs=runs)
             for name, runs in per_grid.items()}
    rules['over seeds']['c'] = best_c
    return {'preset': preset, 'dataset': summary['dataset'], 'seeds': summary['seeds'],
            'preset_test_acc_mean': summary['test_acc_mean'], 'rules': rules,
            'fixed_c': {str(c): sample_mean_std(r['test_acc'] for r in runs)
                        for c, runs in per_c.items()},
            'config': config, 'device': summary['device'], 'versions': summary['versions']}


def table(rows) -> str:
    body = []
    for row in rows:
        seeds = len(row['seeds'])
        cells = [row['preset'], str(seeds)]
        for name in (*GRIDS, 'over seeds'):
            rule = row['rules'][name]
            cells.append(mean_std(rule['test_acc_mean'], rule['test_acc_std'], seeds=seeds))
        cells.append(f"{row['rules']['over seeds']['c']:g}")
        body.append(cells)
    return markdown_table(['preset', 'seeds', 'C 0.01-100 (per seed)', 'C 0.001-1000 (per seed)',
                           'C 0.001-0.1 (per seed)', 'one C over seeds', 'its C'], body)


def main() -> None:
    preset_rules_main(__doc__.splitlines()[0], RESULTS, measure, table, 'ggd-citeseer', 3)


if __name__ == '__main__':
    main()
