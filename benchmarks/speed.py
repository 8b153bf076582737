"""Speed and memory of graphdim's node-level DIM against PyG's DeepGraphInfomax, same run.

    python benchmarks/speed.py                      # timing + memory table, all graphs
    python benchmarks/speed.py --accuracy-seeds 10  # also probe accuracy over 10 seeds
    python benchmarks/speed.py --probe              # also graphdim's probe vs scikit-learn's

Timing: both models in one process, the same data and threads, epochs alternating
(graphdim, PyG, graphdim, ...) after warm-up; an epoch is forward + backward + Adam step.
The reference is PyG's transductive example recipe: GCNConv(cached=True) 512 + PReLU,
sigmoid(mean) summary, row-shuffle corruption. graphdim runs its defaults (the same function,
computed by its fast path). Memory: each implementation trains in a fresh subprocess and
reports its peak RSS (VmHWM) on CPU, or torch.cuda.max_memory_allocated on GPU.
Accuracy: graphdim's default pipeline vs PyG's example recipe (300 epochs, raw features,
``model.test(..., max_iter=150)`` on the train / test masks), over the same seeds.
"""
import argparse
import inspect
import json
import math
import os
import statistics
import subprocess
import sys
import time

import torch

import graphdim
from graphdim.data import load_node_dataset
from graphdim.data.synthetic import parse_synthetic_name, synthetic_graph
from graphdim.eval import C_GRIDS, NORMALIZATIONS, normalize_embeddings
from graphdim.runtime import package_versions, resolve_device, tune_cpu_allocator
from tables import markdown_table, mean_std

DEFAULT_GRAPHS = ['Cora', 'CiteSeer', 'PubMed', 'synthetic:10000:10', 'synthetic:100000:10',
                  'synthetic:1000000:10']
HIDDEN = 512
# PyG materialises one message per edge and channel (plus its gradient and the softmax-free
# scatter buffers); above this estimate the reference is not run.
PYG_MESSAGE_BUDGET_GIB = 6.0


def pyg_reference(in_channels: int, hidden: int = HIDDEN):
    """PyG's examples/infomax_transductive.py model."""
    from torch_geometric.nn import DeepGraphInfomax, GCNConv

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = GCNConv(in_channels, hidden, cached=True)
            self.prelu = torch.nn.PReLU(hidden)

        def forward(self, x, edge_index):
            return self.prelu(self.conv(x, edge_index))

    return DeepGraphInfomax(
        hidden, encoder=Encoder(), summary=lambda z, *args, **kwargs: z.mean(dim=0).sigmoid(),
        corruption=lambda x, edge_index: (x[torch.randperm(x.size(0), device=x.device)],
                                          edge_index))


def graphdim_model(in_channels: int):
    return graphdim.DeepGraphInfomax.from_options(in_channels, HIDDEN)


def make_step(model, data, lr=1e-3):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model.loss(*model(data.x, data.edge_index))
        loss.backward()
        optimizer.step()
        return float(loss.detach())
    return step


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def pyg_message_gib(num_edges: int) -> float:
    """PyG's estimated message memory: float32 messages, their gradient, scatter buffers."""
    return num_edges * HIDDEN * 4 * 3 / 2**30


def pyg_fits(data) -> bool:
    return pyg_message_gib(data.num_edges) <= PYG_MESSAGE_BUDGET_GIB


def time_epochs(name, device, epochs, warmup):
    data = load_node_dataset(name).data.to(device)
    torch.manual_seed(0)
    steps = {'graphdim': make_step(graphdim_model(data.num_features).to(device), data)}
    if pyg_fits(data):
        steps['pyg'] = make_step(pyg_reference(data.num_features).to(device), data)
    times = {key: [] for key in steps}
    for epoch in range(warmup + epochs):
        for key, step in steps.items():
            _sync(device)
            start = time.perf_counter()
            step()
            _sync(device)
            if epoch >= warmup:
                times[key].append(time.perf_counter() - start)
    return data, times


def peak_memory_mb(impl, name, device, epochs):
    """Train ``impl`` alone in a fresh process for a few epochs; its peak memory in MiB."""
    done = subprocess.run([sys.executable, __file__, '--memory-probe', impl, name,
                           '--device', str(device), '--epochs', str(epochs)],
                          capture_output=True, text=True)
    if done.returncode:  # a negative code is the signal that ended it (-9: out of memory)
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''
        return f"failed (exit {done.returncode}) {last}".strip()
    last = done.stdout.strip().splitlines()[-1]
    return last if last == 'skipped' else float(last)


def memory_probe(impl, name, device, epochs):
    device = torch.device(device)
    data = load_node_dataset(name).data.to(device)
    if impl == 'pyg' and not pyg_fits(data):
        print('skipped')
        return
    model = (graphdim_model if impl == 'graphdim' else pyg_reference)(data.num_features)
    step = make_step(model.to(device), data)
    for _ in range(epochs):
        step()
    if device.type == 'cuda':
        print(torch.cuda.max_memory_allocated(device) / 2**20)
    else:
        with open('/proc/self/status') as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith('VmHWM'))
        print(peak_kb / 1024)


def pyg_recipe_accuracy(name, seed, device):
    """PyG's example end to end: raw features, 300 epochs, sklearn probe on train -> test."""
    data = load_node_dataset(name, normalize_features=False).data.to(device)
    graphdim.seed_everything(seed)
    model = pyg_reference(data.num_features).to(device)
    step = make_step(model, data)
    for _ in range(300):
        step()
    return pyg_example_test(model, data)


def pyg_example_test(model, data) -> float:
    """The reference recipe's own probe (PyG's ``DeepGraphInfomax.test`` on the train and
    test masks), as its example runs it; test accuracy in percent."""
    model.eval()
    with torch.no_grad():
        z, _, _ = model(data.x, data.edge_index)
    return 100 * model.test(z[data.train_mask], data.y[data.train_mask], z[data.test_mask],
                            data.y[data.test_mask], max_iter=150)


def sklearn_probe(embeddings, labels, split, c_grid, normalizations):
    """scikit-learn's LogisticRegression(lbfgs) with the same validation-chosen grid."""
    from sklearn.linear_model import LogisticRegression
    y = labels.numpy()
    train, val, test = (m.numpy() for m in (split.train, split.val, split.test))
    best = None
    for normalization in normalizations:
        x = normalize_embeddings(embeddings.float(), normalization).numpy()
        for c in sorted(c_grid):
            clf = LogisticRegression(C=c, solver='lbfgs', max_iter=1000).fit(x[train], y[train])
            val_acc = clf.score(x[val], y[val])
            if best is None or val_acc > best[0]:
                best = (val_acc, clf, x)
    val_acc, clf, x = best
    return clf.score(x[test], y[test])


def probe_comparison(name, device, repeats=3):
    """Train graphdim's default model once (seed 0), then probe its frozen embeddings with
    graphdim's torch L-BFGS probe and with scikit-learn, same grid, same split; best of
    ``repeats`` wall times each."""
    data = load_node_dataset(name).data
    graphdim.seed_everything(0)
    model = graphdim_model(data.num_features)
    graphdim.fit(model, data, device=device, progress=False)
    z = graphdim.embed(model, data)
    split = graphdim.public_split(data)
    ours, theirs, ours_s, theirs_s = None, None, [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours = graphdim.linear_probe(z, data.y, split, device=device).test_acc
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        # scikit-learn: the reference this benchmark measures the library's probe against
        theirs = sklearn_probe(z, data.y, split, C_GRIDS['node'], NORMALIZATIONS)
        theirs_s.append(time.perf_counter() - start)
    return {'graph': name, 'graphdim_acc': 100 * ours, 'sklearn_acc': 100 * theirs,
            'graphdim_s': min(ours_s), 'sklearn_s': min(theirs_s)}


def planetoid(graphs):
    return [g for g in graphs if not g.startswith('synthetic')]


def _median_range(ms, digits=1):
    return f"{statistics.median(ms):.{digits}f} ({min(ms):.{digits}f}-{max(ms):.{digits}f})"


def graph_label(name):
    """``'synthetic:10000:10'`` -> ``'synthetic, 128-d'``; other names as they are."""
    options = parse_synthetic_name(name)
    if options is None:
        return name
    default = inspect.signature(synthetic_graph).parameters['num_features'].default
    return f"synthetic, {options.get('num_features', default)}-d"


def _memory(value):
    """MiB (with GiB from 10 GiB on); ``'skipped'`` -> ``'-'``; a failure as reported."""
    if isinstance(value, str):
        return '-' if value == 'skipped' else value
    return f"{value:.0f}" + (f" ({value / 1024:.1f} GiB)" if value >= 10 * 1024 else '')


def timing_table(rows) -> str:
    """README's speed and memory table, from the report's ``rows``."""
    def row(r):
        g, p = r['graphdim_ms'], r['pyg_ms']
        digits = 1 if statistics.median(g) < 10_000 else 0  # whole ms from 10 s an epoch on
        not_run = f"not run (messages: about {pyg_message_gib(r['edges']):.0f} GiB)"
        return [graph_label(r['graph']), f"{r['nodes']:,}", f"{r['edges']:,}",
                _median_range(g, digits), _median_range(p, digits) if p else not_run,
                f"{statistics.median(p) / statistics.median(g):.1f}x" if p else '-',
                _memory_ratio(r['graphdim_mem_mb'], r['pyg_mem_mb'])]
    return markdown_table(['graph', 'nodes', 'edges', 'graphdim ms/epoch (min-max)',
                           'PyG ms/epoch (min-max)', 'speed-up',
                           'peak RSS, PyG / graphdim'], map(row, rows))


def _memory_ratio(graphdim_mb, pyg_mb):
    """PyG's peak RSS over graphdim's (a ratio: each model's own peak memory on the Planetoid
    graphs has one source, node_models.jsonl); graphdim's own where PyG did not run."""
    if isinstance(graphdim_mb, str) or isinstance(pyg_mb, str) or not pyg_mb:
        return f"graphdim alone: {graphdim_mb / 1024:.1f} GiB" \
            if not isinstance(graphdim_mb, str) else _memory(graphdim_mb)
    return f"{pyg_mb / graphdim_mb:.2f}x"


def probe_table(probes) -> str:
    """graphdim's probe against scikit-learn's, from the report's ``probes``."""
    return markdown_table(
        ['graph', 'graphdim probe acc (%)', 'scikit-learn lbfgs acc (%)', 'graphdim s',
         'scikit-learn s', 'speed-up'],
        ([r['graph'], f"{r['graphdim_acc']:.2f}", f"{r['sklearn_acc']:.2f}",
          f"{r['graphdim_s']:.2f}", f"{r['sklearn_s']:.2f}",
          f"{r['sklearn_s'] / r['graphdim_s']:.1f}x"] for r in probes))


def accuracy_table(report) -> str:
    """README's accuracy against PyG's recipe, with each graph's median epoch times."""
    times = {r['graph']: r for r in report['rows']}

    def epoch_ms(graph):
        r = times.get(graph)
        if r is None or not r['pyg_ms']:
            return '-'
        return f"{statistics.median(r['graphdim_ms']):.1f} / {statistics.median(r['pyg_ms']):.1f}"
    unit = 'GPU' if report['device'].startswith('cuda') else 'CPU'
    return markdown_table(
        ['graph', 'graphdim (%)', 'PyG example recipe (%)', 'difference',
         f'{unit} ms/epoch graphdim / PyG'],
        ([a['graph'], mean_std(a['graphdim'], a['graphdim_std']), mean_std(a['pyg'], a['pyg_std']),
          f"{a['graphdim'] - a['pyg']:+.2f}", epoch_ms(a['graph'])] for a in report['accuracy']))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--graphs', nargs='+', default=DEFAULT_GRAPHS)
    parser.add_argument('--epochs', type=int, default=20, help='timed epochs per model')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--memory-epochs', type=int, default=5)
    parser.add_argument('--accuracy-seeds', type=int, default=0,
                        help='seeds for the accuracy comparison on Planetoid graphs (0: skip)')
    parser.add_argument('--reference-seeds', type=int, default=None,
                        help="seeds for PyG's recipe in the accuracy comparison "
                             "(default: --accuracy-seeds)")
    parser.add_argument('--ours-from', metavar='JSON',
                        help="take graphdim's accuracy from benchmarks/accuracy.py's output "
                             "(same defaults and seeds) instead of training again")
    parser.add_argument('--probe', action='store_true',
                        help="compare graphdim's probe with scikit-learn's on Planetoid graphs")
    parser.add_argument('--device', default='auto')
    parser.add_argument('--out', default='benchmarks/results/speed.json')
    parser.add_argument('--memory-probe', nargs=2, metavar=('IMPL', 'GRAPH'))
    return parser.parse_args()


def timing_row(name, device, args):
    """One graph: peak memory of each implementation alone, then alternating epoch times."""
    # Peak memory first, each implementation alone in a fresh process, while this process
    # holds no graph (at 10^6 nodes both together would not fit in 24 GiB).
    memory = {impl: peak_memory_mb(impl, name, device, args.memory_epochs)
              for impl in ('graphdim', 'pyg')}
    data, times = time_epochs(name, device, args.epochs, args.warmup)
    row = {'graph': name, 'nodes': data.num_nodes, 'edges': data.num_edges,
           'graphdim_ms': [1000 * t for t in times['graphdim']],
           'pyg_ms': [1000 * t for t in times.get('pyg', [])],
           'graphdim_mem_mb': memory['graphdim'], 'pyg_mem_mb': memory['pyg']}
    g, p = row['graphdim_ms'], row['pyg_ms']
    speedup = statistics.median(p) / statistics.median(g) if p else float('nan')
    print(f"{name}: graphdim {_median_range(g)} ms, pyg "
          f"{_median_range(p) if p else 'skipped'} ms, x{speedup:.1f}", flush=True)
    return row


def print_growth(rows):
    """The log-log slope of graphdim's epoch time against the edges of the synthetic graphs."""
    growth = [r for r in rows if r['graph'].startswith('synthetic')]
    if len(growth) < 2:
        return
    first, last = growth[0], growth[-1]
    slope = (math.log(statistics.median(last['graphdim_ms']))
             - math.log(statistics.median(first['graphdim_ms']))) / (
                 math.log(last['edges']) - math.log(first['edges']))
    print(f"\nlog-log slope of graphdim epoch time vs edges, {first['graph']} -> "
          f"{last['graph']}: {slope:.2f}")


def probe_rows(graphs, device):
    print('\nprobe on frozen embeddings (graphdim defaults, seed 0): C in '
          '{0.01..100} x {none, l2} chosen on validation, best of 3 wall times', flush=True)
    probes = []
    for name in graphs:
        probes.append(probe_comparison(name, device))
        print(f"  {name} done", flush=True)
    print(probe_table(probes))
    return probes


def accuracy_row(name, seeds, reference_seeds, saved, device):
    ours = saved.get(name)
    if ours is None or ours['seeds'] != seeds:
        ours = graphdim.run_node_experiment(
            graphdim.NodeConfig(dataset=name, seeds=len(seeds), device=str(device)),
            progress=False)
    theirs = [pyg_recipe_accuracy(name, seed, device) for seed in reference_seeds]
    std = statistics.stdev(theirs) if len(theirs) > 1 else 0.0
    print(f"  {name} done", flush=True)
    return {'graph': name, 'graphdim': ours['test_acc_mean'], 'graphdim_std': ours['test_acc_std'],
            'pyg': statistics.fmean(theirs), 'pyg_std': std, 'pyg_runs': theirs}


def accuracy_rows(args, device):
    seeds = list(range(args.accuracy_seeds))
    reference_seeds = list(range(args.reference_seeds or args.accuracy_seeds))
    saved = {}
    if args.ours_from:  # graphdim's 10-seed results from benchmarks/accuracy.py
        with open(args.ours_from) as file:
            saved = {s['dataset']: s for s in json.load(file)}
    print(f"\naccuracy: graphdim over seeds {seeds[0]}..{seeds[-1]}"
          f"{' (from ' + args.ours_from + ')' if saved else ''}, PyG's recipe over "
          f"seeds {reference_seeds[0]}..{reference_seeds[-1]}", flush=True)
    return [accuracy_row(name, seeds, reference_seeds, saved, device)
            for name in planetoid(args.graphs)]


def main():
    args = parse_args()
    # Both models run under the same allocator setting (the CLI's; see tune_cpu_allocator);
    # GRAPHDIM_CPU_ALLOCATOR=default measures both without it. Memory probes inherit it.
    allocator_tuned = tune_cpu_allocator()
    device = resolve_device(args.device)
    if args.memory_probe:
        return memory_probe(*args.memory_probe, device, args.epochs)
    print(f"device {device}, threads {torch.get_num_threads()}, hidden {HIDDEN}, "
          f"{args.epochs} timed epochs after {args.warmup} warm-up, alternating; glibc "
          f"allocator tuned for both: {allocator_tuned}")
    versions = package_versions()
    print(f"hardware: {versions.get('gpu', 'no GPU') if device.type == 'cuda' else 'CPU'}; "
          f"CPU {versions['cpu']}", flush=True)
    print(f"versions {json.dumps(versions)}", flush=True)
    rows = [timing_row(name, device, args) for name in args.graphs]
    print(f"\n{timing_table(rows)}")
    print_growth(rows)
    probes = probe_rows(planetoid(args.graphs), device) if args.probe else []
    accuracy = accuracy_rows(args, device) if args.accuracy_seeds else []
    report = {'rows': rows, 'probes': probes, 'accuracy': accuracy,
              'versions': package_versions(), 'device': str(device), 'epochs': args.epochs}
    if accuracy:
        print(accuracy_table(report))
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as file:
        json.dump(report, file, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == '__main__':
    main()
