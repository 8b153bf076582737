"""Mini-batch node DIM: accuracy against full-batch, and a 2M-node graph on a small machine.

1. Cora and PubMed: DGI's transductive recipe full-batch and in mini-batches of
   ``--batch-size`` seed nodes (full neighbourhoods, per-batch corruption and summary, then
   layer-wise whole-graph inference), same seeds, same probe. Acceptance: mini-batch within
   1 point of full-batch.
2. Scale (in a fresh process, so its peak memory is its own): ``synthetic:NODES:DEGREE:128``
   (2,000,000 nodes, about 20,000,000 directed edges), trained in mini-batches on
   ``--scale-train-nodes`` seed nodes, then embedded whole, layer by layer. Reports training
   and inference nodes/second and the peak resident memory.

    python benchmarks/minibatch.py

Writes benchmarks/results/minibatch.json; the printout ends with one table.
"""
import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

import graphdim as gd
from graphdim.graph.minibatch import MiniBatchDGI, layerwise_embed, uses_gcn
from graphdim.loaders import node_loader
from graphdim.runtime import atomic_write_text, package_versions, peak_rss_mb
from tables import markdown_table, mean_std

RESULTS = Path(__file__).resolve().parent / 'results' / 'minibatch.json'


def accuracy_rows(args):
    rows = []
    for dataset, seeds in (('Cora', args.cora_seeds), ('PubMed', args.pubmed_seeds)):
        if seeds < 1:
            continue
        for mode, batch_size in (('full-batch', 0), ('mini-batch', args.batch_size)):
            config = gd.NodeConfig(dataset=dataset, seeds=seeds, seed=0, device='cpu',
                                   batch_size=batch_size, download=False)
            print(f"[{dataset} {mode}] {json.dumps(asdict(config))}", flush=True)
            summary = gd.run_node_experiment(config, progress=not args.quiet)
            rows.append({'dataset': dataset, 'mode': mode, 'batch_size': batch_size,
                         'seeds': summary['seeds'], 'test_acc_mean': summary['test_acc_mean'],
                         'test_acc_std': summary['test_acc_std'],
                         'per_seed': [r['test_acc'] for r in summary['runs']],
                         'epochs_mean': summary['epochs_mean'],
                         'train_seconds_total': summary['train_seconds_total'],
                         'config': summary['config']})
            print(f"  -> {summary['test_acc_mean']:.2f} ± {summary['test_acc_std']:.2f} "
                  f"({summary['train_seconds_total']:.0f} s training)", flush=True)
    return rows


def scale_run(args):
    """The large-graph measurement (run in its own process)."""
    start = time.perf_counter()
    name = f"synthetic:{args.scale_nodes}:{args.scale_degree}:128"
    data = gd.load_node_dataset(name).data
    build_seconds = time.perf_counter() - start
    gd.seed_everything(0)
    model = gd.DeepGraphInfomax.from_options(128, args.scale_hidden)
    seeds = torch.randperm(data.num_nodes, generator=torch.Generator().manual_seed(0))
    loader = node_loader(data, args.batch_size, input_nodes=seeds[:args.scale_train_nodes],
                         gcn_normalized=uses_gcn(model), seed=0)
    start = time.perf_counter()
    result = gd.fit(MiniBatchDGI(model), loader, epochs=1, patience=0, min_epochs=1,
                    progress=not args.quiet, device='cpu', desc='train')
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    embeddings = layerwise_embed(model.encoder, data, args.inference_batch_size,
                                 progress=not args.quiet)
    embed_seconds = time.perf_counter() - start
    split = gd.random_split(data.y, 0, train_fraction=0.01, val_fraction=0.01)
    probe = gd.linear_probe(embeddings, data.y, split, c_grid=(1.0, ), normalizations=('l2', ))
    return {'dataset': name, 'num_nodes': data.num_nodes, 'num_edges': data.num_edges,
            'hidden': args.scale_hidden, 'batch_size': args.batch_size,
            'train_seed_nodes': args.scale_train_nodes, 'train_steps': len(loader),
            'train_loss': result.losses[-1], 'graph_build_seconds': build_seconds,
            'train_seconds': train_seconds,
            'train_nodes_per_second': args.scale_train_nodes / train_seconds,
            'inference_seconds': embed_seconds,
            'inference_nodes_per_second': data.num_nodes / embed_seconds,
            'embedding_shape': list(embeddings.shape),
            'probe_test_acc_1pct_labels': 100 * probe.test_acc,
            'peak_rss_gib': peak_rss_mb() / 1024, 'threads': torch.get_num_threads()}


def accuracy_table(rows) -> str:
    """README's full-batch against mini-batch table, from the report's ``accuracy`` rows."""
    return markdown_table(
        ['dataset', 'mode', 'seeds', 'test accuracy (%)', 'epochs (mean)',
         'training s (all seeds)'],
        ([r['dataset'], f"{r['mode']} ({r['batch_size']})" if r['batch_size'] else r['mode'],
          len(r['seeds']), mean_std(r['test_acc_mean'], r['test_acc_std']),
          f"{r['epochs_mean']:.0f}", f"{r['train_seconds_total']:.0f}"] for r in rows))


def _scale_run_name(scale) -> str:
    if scale['train_seed_nodes'] == scale['num_nodes']:
        return (f"one whole epoch, all {scale['num_nodes']:,} seed nodes "
                f"({scale['train_steps']:,} steps), then all nodes embedded")
    return (f"{scale['train_seed_nodes']:,} training seed nodes ({scale['train_steps']:,} "
            f"steps), then all {scale['num_nodes']:,} nodes embedded")


def scale_table(scales) -> str:
    """README's large-graph table, one row per report's ``scale``."""
    return markdown_table(
        ['run', 'training nodes/s', 'inference nodes/s (whole graph, layer-wise)', 'peak RSS'],
        ([_scale_run_name(s), f"{s['train_nodes_per_second']:,.0f}",
          f"{s['inference_nodes_per_second']:,.0f}", f"{s['peak_rss_gib']:.1f} GiB"]
         for s in scales))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cora-seeds', type=int, default=5)
    parser.add_argument('--pubmed-seeds', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=512)
    parser.add_argument('--scale-nodes', type=int, default=2_000_000)
    parser.add_argument('--scale-degree', type=int, default=10)
    parser.add_argument('--scale-hidden', type=int, default=512)
    parser.add_argument('--scale-train-nodes', type=int, default=200_000)
    parser.add_argument('--inference-batch-size', type=int, default=8192)
    parser.add_argument('--skip-scale', action='store_true')
    parser.add_argument('--scale-only', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--quiet', action='store_true')
    parser.add_argument('--out', default=str(RESULTS))
    args = parser.parse_args()
    args.allocator_tuned = gd.tune_cpu_allocator()  # as the CLI does
    if args.scale_only:
        print(json.dumps(scale_run(args)))
        return
    print(f"settings: {json.dumps(vars(args))}")
    print(f"versions: {json.dumps(package_versions())}", flush=True)
    scale = None
    if not args.skip_scale:
        child = [sys.executable, __file__, '--scale-only', *sys.argv[1:]]
        proc = subprocess.run(child, stdout=subprocess.PIPE, text=True, check=True)
        scale = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = accuracy_rows(args)
    report = {'settings': vars(args), 'versions': package_versions(), 'accuracy': rows,
              'scale': scale}
    atomic_write_text(json.dumps(report, indent=2), args.out)
    if rows:
        print(f"\n{accuracy_table(rows)}")
    if scale:
        print(f"\n{scale['dataset']}: {scale['num_nodes']:,} nodes, {scale['num_edges']:,} edges, "
              f"hidden {scale['hidden']}, batches of {scale['batch_size']} seed nodes")
        print(scale_table([scale]))
    print(f"wrote {args.out}")


if __name__ == '__main__':
    main()
