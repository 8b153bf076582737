"""Graph-level DIM under a strictly nested protocol: every setting chosen inside each outer fold.

    python benchmarks/graph_level_nested.py                 # all datasets, both models
    python benchmarks/graph_level_nested.py --table         # print the table from the results

For each TU dataset, model (InfoGraph, graph-level MVGRL) and seed, the encoder is trained
once per depth of the grid below, without labels, on all graphs (the transductive protocol
of InfoGraph and MVGRL), and its embeddings are kept after each of ``EPOCHS`` epochs; the
same encoder untrained (random init) gives one candidate per depth too. Then
``graphdim.nested_cross_validate`` runs 10 outer stratified folds; inside each, a 3-fold
inner CV on that fold's training part alone chooses the candidate (depth, epochs) and the
SVM's C, which is refitted there and scores the held-out fold once. No outer test fold takes
part in any choice, and no label is seen by the encoders. One JSON row per (dataset, model,
seed) is appended to ``--out``; a row already there is not rerun.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

import graphdim as gd
from graphdim.experiments.graph import (GraphConfig, build_graph_model, graph_embeddings,
                                        load_config_dataset, training_loader)
from graphdim.runtime import package_versions, peak_rss_mb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from published import graph_paper, graph_reproduced  # noqa: E402
from tables import markdown_table  # noqa: E402

TU = ['MUTAG', 'PTC_MR', 'IMDB-BINARY', 'IMDB-MULTI', 'PROTEINS']
# Per model the fixed part of its paper's recipe and the depths to choose among
# (InfoGraph: GIN 32 units, batch 128, Adam 1e-2; MVGRL, DGL's example: GCN 32 units per
# view, batch 64, Adam 1e-3).
RECIPES = {'infograph': {'hidden_channels': 32, 'batch_size': 128, 'lr': 0.01},
           'mvgrl': {'hidden_channels': 32, 'batch_size': 64, 'lr': 0.001}}
DEPTHS = {'infograph': (3, 5), 'mvgrl': (2, 4)}
EPOCHS = (20, 50)
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
FOLDS, INNER_FOLDS = 10, 3


def candidates(name, dataset, model_name, seed):
    """``(trained, untrained)``: name -> embeddings of every graph, per grid setting."""
    trained, untrained = {}, {}
    for depth in DEPTHS[model_name]:
        config = GraphConfig(model=model_name, dataset=name, num_layers=depth,
                             **RECIPES[model_name])
        gd.seed_everything(seed)
        model = build_graph_model(config, dataset.num_features)
        untrained[f'layers={depth}'] = graph_embeddings(model, dataset)

        def keep(epoch, model):
            if epoch in EPOCHS:
                trained[f'layers={depth} epochs={epoch}'] = graph_embeddings(model, dataset)
                model.train()
        gd.fit(model, training_loader(config, dataset), epochs=max(EPOCHS), lr=config.lr, patience=0, min_epochs=0,
               progress=False, on_epoch=keep)
    return trained, untrained


def evaluate(embeddings, labels, seed):
    result = gd.nested_cross_validate(embeddings, labels, 'svm', FOLDS, INNER_FOLDS, C_GRID,
                                      seed=seed)
    return {'test_acc': 100 * result.test_score, 'inner_acc': 100 * result.val_score,
            'fold_accs': [100 * f.test_score for f in result.folds],
            'chosen': [f'{f.chosen_candidate} C={f.c:g}' for f in result.folds]}


def run(name, model_name, seed):
    dataset = load_config_dataset(GraphConfig(model=model_name, dataset=name))
    start = time.perf_counter()
    trained, untrained = candidates(name, dataset, model_name, seed)
    train_seconds = time.perf_counter() - start
    return {'dataset': name, 'model': model_name, 'seed': seed,
            'trained': evaluate(trained, dataset.labels, seed),
            'random_init': evaluate(untrained, dataset.labels, seed),
            'train_seconds': train_seconds, 'seconds': time.perf_counter() - start,
            'recipe': RECIPES[model_name], 'depths': DEPTHS[model_name], 'epochs': EPOCHS,
            'c_grid': C_GRID, 'folds': FOLDS, 'inner_folds': INNER_FOLDS,
            'torch_threads': torch.get_num_threads(), 'peak_rss_mb': peak_rss_mb(),
            'versions': package_versions()}


def read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _mean_std(values):
    values = list(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), std


def table(rows) -> str:
    """Per dataset: both models trained and at random init (mean ± std over seeds), the
    gains, and the published figures."""
    by = {}
    for row in rows:
        by.setdefault((row['dataset'], row['model']), []).append(row)
    lines = []
    for name in TU:
        cells = [name]
        figures = {}
        for model_name in ('infograph', 'mvgrl'):
            group = by.get((name, model_name), [])
            if not group:
                cells += ['-', '-']
                continue
            for part in ('trained', 'random_init'):
                mean, std = _mean_std(r[part]['test_acc'] for r in group)
                figures[model_name, part] = mean
                cells.append(f'{mean:.2f} ± {std:.2f} ({len(group)})')
        gain = figures.get(('mvgrl', 'trained'), float('nan')) - \
            figures.get(('mvgrl', 'random_init'), float('nan'))
        versus = figures.get(('mvgrl', 'trained'), float('nan')) - \
            figures.get(('infograph', 'trained'), float('nan'))
        # the papers' figures and reproductions by others, apart (benchmarks/published.py)
        cells += [f'{gain:+.2f}', f'{versus:+.2f}',
                  *(f(model, name) for model in ('infograph', 'mvgrl')
                    for f in (graph_paper, graph_reproduced))]
        lines.append(cells)
    return markdown_table(['dataset', 'InfoGraph', 'InfoGraph random init', 'MVGRL',
                           'MVGRL random init', 'MVGRL - its random init',
                           'MVGRL - InfoGraph', 'InfoGraph paper', 'InfoGraph reproduced (by)',
                           'MVGRL paper', 'MVGRL reproduced (by)'], lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--datasets', nargs='+', default=TU)
    parser.add_argument('--models', nargs='+', default=['infograph', 'mvgrl'])
    parser.add_argument('--seeds', type=int, default=5)
    parser.add_argument('--out', default='benchmarks/results/graph_level_nested.jsonl')
    parser.add_argument('--table', action='store_true', help='print the table and stop')
    args = parser.parse_args()
    if not args.table:
        done = {(r['dataset'], r['model'], r['seed']) for r in read_rows(args.out)}
        for seed in range(args.seeds):  # seed outermost: a cut-short run covers every dataset
            for name in args.datasets:
                for model_name in args.models:
                    if (name, model_name, seed) in done:
                        continue
                    row = run(name, model_name, seed)
                    with open(args.out, 'a') as f:
                        f.write(json.dumps(row) + '\n')
                    print(f"{name} {model_name} seed {seed}: trained "
                          f"{row['trained']['test_acc']:.2f}, random init "
                          f"{row['random_init']['test_acc']:.2f} ({row['seconds']:.0f} s)",
                          flush=True)
    print('Strictly nested 10-fold CV (SVM; depth, epochs and C chosen by 3-fold inner CV '
          'on each outer training part), mean ± std over seeds (number of seeds):')
    print(table(read_rows(args.out)))


if __name__ == '__main__':
    main()
