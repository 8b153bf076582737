"""GGD at scale on weak-feature synthetic graphs: time, memory and accuracy from 10^4 to
2.4 x 10^6 nodes (ogbn-products' size, 6 x 10^7 directed edges) on one CPU machine.

    python benchmarks/scale.py                                  # every size, then the fits
    python benchmarks/scale.py --sizes 10000:10 100000:10      # some sizes (NODES:DEGREE)
    python benchmarks/scale.py --sizes 2400000:25 --append     # add a size to the results

The graphs are ``synthetic-weak:NODES:DEGREE`` (:mod:`graphdim.data.synthetic`: 8 planted
classes, 128 Gaussian features that alone probe at about 40%, homophily 0.4, power-law
degrees). Each size runs in a fresh process, so its peak resident memory (VmHWM, the
high-water mark of the whole process: graph, operator, training and inference) is its own.
Per size:

1. the graph is generated (seconds, and the peak so far);
2. the probe subset: ``min(N, --probe-nodes)`` random labelled nodes, split 40/20/40 into
   train / validation / test (stratified; 20,000 / 10,000 / 20,000 from 50,000 nodes up);
   every probe below is :func:`graphdim.linear_probe` on those rows (``C`` and the row
   normalisation chosen on validation);
3. raw features: the probe on ``X``;
4. GGD (:class:`graphdim.GGD`, one GCN layer + PReLU, ``--hidden``) at initialisation: its
   embedding of the whole graph (the first call also builds the cached sparse operator),
   then the reinforcement ``z + Â^k z`` with ``k`` chosen on the validation rows from
   ``--hops-grid`` (:func:`graphdim.eval.choose_hops`'s rule, probing only the subset's rows;
   the powers come from :func:`graphdim.graph.reinforcement.propagated_powers`);
5. the same model trained full-batch (``--epochs`` steps of Adam, ``--lr``, no early stopping:
   the authors' few-epoch large-graph recipe), embedded whole again (timed), reinforced with
   the authors' ``k = 10`` once (timed: :func:`graphdim.reinforce`), and probed with the
   validation-chosen ``k``;
6. DGI (:class:`graphdim.DeepGraphInfomax`, its default recipe at the same hidden size,
   ``--dgi-epochs`` full-batch epochs, the same probe and ``k`` choice) up to
   ``--dgi-max-nodes`` nodes.

Afterwards the growth of time and peak memory with the number of nodes (and edges) is fitted
on a log-log scale (least squares on ``log t = a + b log N``; ``b`` is the slope printed) and
plotted to ``benchmarks/results/scale.png``. Writes ``benchmarks/results/scale.json`` (and
the printed table to ``scale.txt``).
"""
import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import torch

import graphdim as gd
from graphdim.data.synthetic import estimated_bytes, parse_synthetic_name, synthetic_graph
from graphdim.graph.reinforcement import propagated_powers
from graphdim.runtime import atomic_write_text, package_versions, peak_rss_mb
from tables import markdown_table

RESULTS = Path(__file__).resolve().parent / 'results'
DEFAULT_SIZES = ('10000:10', '30000:10', '100000:10', '300000:10', '1000000:10', '2400000:25')
HOPS_GRID = (0, 1, 2, 3, 5, 10)


def _gib() -> float:
    return peak_rss_mb() / 1024


def probe_subset(y: torch.Tensor, probe_nodes: int, seed: int):
    """``(nodes, split)``: ``min(N, probe_nodes)`` random nodes, split 40/20/40 stratified."""
    generator = torch.Generator().manual_seed(seed)
    nodes = torch.randperm(y.numel(), generator=generator)[:min(y.numel(), probe_nodes)]
    nodes = nodes.sort().values
    return nodes, gd.random_split(y[nodes], seed, train_fraction=0.4, val_fraction=0.2)


def probe(features: torch.Tensor, y: torch.Tensor, split) -> dict:
    result = gd.linear_probe(features, y, split)
    return {'test_acc': 100 * result.test_score, 'val_acc': 100 * result.val_score}


def reinforced_probe(z: torch.Tensor, data, nodes: torch.Tensor, split, grid, modes) -> dict:
    """The probe of ``z + Â^k z`` (``'add'``) or ``Â^k z`` (``'replace'``) on the subset's rows,
    ``k`` and the mode chosen on validation (ties: the smaller ``k``, then the earlier mode);
    every candidate's validation accuracy is kept, only the chosen one's test accuracy."""
    y, best, val = data.y[nodes], None, {}
    start = time.perf_counter()
    for k, smoothed in propagated_powers(z, data.edge_index, grid, num_nodes=data.num_nodes):
        for mode in (modes[:1] if k == 0 else modes):
            rows = z[nodes] if k == 0 else \
                (z[nodes] + smoothed[nodes] if mode == 'add' else smoothed[nodes])
            result = probe(rows, y, split)
            val[f'{mode} {k}'] = result['val_acc']
            if best is None or result['val_acc'] > best['val_acc']:
                best = dict(result, hops=k, mode=mode)
    best['val_acc_by_candidate'] = val
    best['seconds'] = time.perf_counter() - start
    return best


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def run_size(args, spec: str) -> dict:
    """One size, measured in this process (run it in a fresh one)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    nodes_text, degree_text = spec.split(':')
    name = f"synthetic-weak:{nodes_text}:{degree_text}:{args.features}"
    kwargs = parse_synthetic_name(name)
    row = {'graph': name, 'num_nodes': kwargs['num_nodes'], 'avg_degree': kwargs['avg_degree'],
           'features': args.features, 'hidden': args.hidden, 'epochs': args.epochs,
           'lr': args.lr, 'estimated_generation_gib':
               estimated_bytes(kwargs['num_nodes'], kwargs['avg_degree'], args.features) / 2**30}
    data, row['generate_seconds'] = _timed(synthetic_graph, **kwargs)
    row['num_edges'] = data.num_edges
    row['peak_gib_after_generation'] = _gib()
    print(f"[{name}] {data.num_nodes:,} nodes, {data.num_edges:,} edges, generated in "
          f"{row['generate_seconds']:.1f} s, peak {_gib():.2f} GiB", file=sys.stderr, flush=True)

    nodes, split = probe_subset(data.y, args.probe_nodes, args.seed)
    row['probe'] = {'nodes': nodes.numel(), 'train': int(split.train.sum()),
                    'val': int(split.val.sum()), 'test': int(split.test.sum())}
    row['raw'] = probe(data.x[nodes], data.y[nodes], split)
    print(f"  raw features: {row['raw']['test_acc']:.2f}", file=sys.stderr, flush=True)

    gd.seed_everything(args.seed)
    model = gd.GGD.from_options(args.features, args.hidden)
    model.eval()
    with torch.no_grad():
        z, row['first_embed_seconds'] = _timed(model.embed, data)  # builds the operator
    row['random_init'] = reinforced_probe(z, data, nodes, split, args.hops_grid, args.modes)
    del z
    row['peak_gib_after_random_init'] = _gib()
    print(f"  GGD random init + K: {row['random_init']['test_acc']:.2f} "
          f"(K={row['random_init']['hops']}), peak {_gib():.2f} GiB", file=sys.stderr, flush=True)

    fit, row['train_seconds'] = _timed(gd.fit, model, data, epochs=args.epochs, lr=args.lr,
                                       patience=0, min_epochs=1, progress=False)
    row['losses'] = fit.losses
    row['peak_gib_after_training'] = _gib()
    model.eval()
    with torch.no_grad():
        z, row['embed_seconds'] = _timed(model.embed, data)
    del model  # and its cached operator
    _, row['reinforce_seconds'] = _timed(gd.reinforce, z, data.edge_index, 10)
    row['ggd'] = reinforced_probe(z, data, nodes, split, args.hops_grid, args.modes)
    del z
    row['peak_gib_after_ggd'] = _gib()
    print(f"  GGD trained ({args.epochs} epochs, {row['train_seconds']:.1f} s) + K: "
          f"{row['ggd']['test_acc']:.2f} (K={row['ggd']['hops']}), embed "
          f"{row['embed_seconds']:.1f} s, reinforce k=10 {row['reinforce_seconds']:.1f} s, "
          f"peak {_gib():.2f} GiB", file=sys.stderr, flush=True)

    if data.num_nodes <= args.dgi_max_nodes:
        gd.seed_everything(args.seed)
        dgi = gd.DeepGraphInfomax.from_options(args.features, args.hidden)
        fit, row['dgi_train_seconds'] = _timed(gd.fit, dgi, data, epochs=args.dgi_epochs,
                                               lr=args.lr, patience=0, min_epochs=1,
                                               progress=False)
        row['dgi_epochs'] = args.dgi_epochs
        dgi.eval()
        with torch.no_grad():
            z = dgi.embed(data)
        del dgi
        row['dgi'] = reinforced_probe(z, data, nodes, split, args.hops_grid, args.modes)
        print(f"  DGI ({args.dgi_epochs} epochs, {row['dgi_train_seconds']:.1f} s) + K: "
              f"{row['dgi']['test_acc']:.2f} (K={row['dgi']['hops']})", file=sys.stderr,
              flush=True)
    row['peak_rss_gib'] = _gib()
    row['threads'] = torch.get_num_threads()
    return row


def loglog_slope(xs, ys) -> float:
    """The least-squares slope ``b`` of ``log y = a + b log x``."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


GROWTH = (('train_seconds', 'GGD training s'), ('embed_seconds', 'embedding s'),
          ('reinforce_seconds', 'reinforcement s (k=10)'), ('peak_rss_gib', 'peak RSS GiB'))


def growth(rows) -> dict:
    """Log-log slopes of time and memory against nodes and against edges."""
    rows = sorted(rows, key=lambda r: r['num_nodes'])
    return {key: {'vs_nodes': loglog_slope([r['num_nodes'] for r in rows],
                                           [r[key] for r in rows]),
                  'vs_edges': loglog_slope([r['num_edges'] for r in rows],
                                           [r[key] for r in rows])}
            for key, _ in GROWTH} if len(rows) > 1 else {}


def _acc(part) -> str:
    """``'61.2'``, or with the chosen reinforcement: ``'+Â^2'`` (z + Â^2 z), ``'Â^10'``."""
    if 'hops' not in part:
        return f"{part['test_acc']:.1f}"
    chosen = 'K=0' if part['hops'] == 0 else \
        f"{'+' if part['mode'] == 'add' else ''}Â^{part['hops']}"
    return f"{part['test_acc']:.1f} ({chosen})"


def table(report) -> str:
    """One row per size: the graph, times, peak memory and the probes' test accuracy."""
    rows = sorted(report['rows'], key=lambda r: r['num_nodes'])
    return markdown_table(
        ['nodes', 'directed edges', 'GGD training s (epochs)', 'embedding s',
         'reinforcement s (k=10)', 'peak RSS GiB', 'raw features', 'GGD random init + K',
         'GGD + K', 'DGI + K (training s)'],
        ([f"{r['num_nodes']:,}", f"{r['num_edges']:,}",
          f"{r['train_seconds']:.1f} ({r['epochs']})", f"{r['embed_seconds']:.1f}",
          f"{r['reinforce_seconds']:.1f}", f"{r['peak_rss_gib']:.1f}", _acc(r['raw']),
          _acc(r['random_init']), _acc(r['ggd']),
          f"{_acc(r['dgi'])} ({r['dgi_train_seconds']:.0f})" if 'dgi' in r else '-']
         for r in rows))


def growth_table(report) -> str:
    """The log-log slopes of time and memory against nodes and directed edges."""
    slopes = report.get('growth') or growth(report['rows'])
    return markdown_table(['measure', 'slope vs nodes', 'slope vs edges'],
                          ([label, f"{slopes[key]['vs_nodes']:.2f}",
                            f"{slopes[key]['vs_edges']:.2f}"] for key, label in GROWTH))


def plot(report, path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = sorted(report['rows'], key=lambda r: r['num_nodes'])
    n = [r['num_nodes'] for r in rows]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in GROWTH[:3]:
        slope = report['growth'][key]['vs_nodes']
        times.loglog(n, [r[key] for r in rows], 'o-', label=f"{label} (slope {slope:.2f})")
    times.set_xlabel('nodes')
    times.set_ylabel('seconds')
    times.legend()
    times.grid(True, which='both', alpha=0.3)
    slope = report['growth']['peak_rss_gib']['vs_nodes']
    memory.loglog(n, [r['peak_rss_gib'] for r in rows], 'o-', color='C3',
                  label=f"peak RSS (slope {slope:.2f})")
    memory.set_xlabel('nodes')
    memory.set_ylabel('GiB')
    memory.legend()
    memory.grid(True, which='both', alpha=0.3)
    figure.suptitle(f"GGD on synthetic-weak graphs, hidden {rows[-1]['hidden']}, 2-core CPU")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', nargs='+', default=list(DEFAULT_SIZES),
                        help='NODES:AVG_DEGREE for each graph')
    parser.add_argument('--features', type=int, default=128)
    parser.add_argument('--hidden', type=int, default=128)
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--dgi-epochs', type=int, default=10)
    parser.add_argument('--dgi-max-nodes', type=int, default=1_000_000)
    parser.add_argument('--hops-grid', type=int, nargs='+', default=list(HOPS_GRID))
    parser.add_argument('--modes', nargs='+', default=['add', 'replace'],
                        choices=['add', 'replace'])
    parser.add_argument('--probe-nodes', type=int, default=50_000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--append', action='store_true',
                        help='keep the results file\'s other sizes (a size run again replaces)')
    parser.add_argument('--one', help=argparse.SUPPRESS)
    parser.add_argument('--out', default=str(RESULTS / 'scale.json'))
    args = parser.parse_args()
    gd.tune_cpu_allocator()  # as the CLI does
    if args.one:
        print(json.dumps(run_size(args, args.one)))
        return
    settings = {k: v for k, v in vars(args).items() if k not in ('one', 'out', 'append')}
    print(f"settings: {json.dumps(settings)}")
    print(f"versions: {json.dumps(package_versions())}", flush=True)
    out = Path(args.out)
    rows = []
    if args.append and out.exists():
        rows = [r for r in json.loads(out.read_text())['rows']
                if f"{r['num_nodes']}:{r['avg_degree']:g}" not in args.sizes]
    for spec in args.sizes:
        child = [sys.executable, __file__, '--one', spec,
                 *(a for a in sys.argv[1:] if a != '--append')]
        start = time.perf_counter()
        done = subprocess.run(child, stdout=subprocess.PIPE, text=True)
        if done.returncode:
            print(f"[{spec}] failed with exit code {done.returncode} after "
                  f"{time.perf_counter() - start:.0f} s", flush=True)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row['settings'] = settings
        rows.append(row)
        report = {'versions': package_versions(), 'rows': rows, 'growth': growth(rows)}
        atomic_write_text(json.dumps(report, indent=2), out)  # after every size
    report = {'versions': package_versions(), 'rows': rows, 'growth': growth(rows)}
    atomic_write_text(json.dumps(report, indent=2), out)
    text = f"{table(report)}\n\nGrowth (log-log slope, {len(rows)} sizes):\n\n" \
           f"{growth_table(report)}\n" if len(rows) > 1 else f"{table(report)}\n"
    print(f"\n{text}")
    atomic_write_text(text, out.with_suffix('.txt'))
    if len(rows) > 1:
        plot(report, out.with_suffix('.png'))


if __name__ == '__main__':
    main()
