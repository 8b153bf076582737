"""DGI epoch time of this checkout against another checkout of graphdim, in one process.

    python benchmarks/speed_revisions.py --baseline ../old-checkout --graphs Cora CiteSeer PubMed

Both versions are imported side by side (the other one as the package ``graphdim_baseline``),
build the same model from the same seed, and train on the same graph, alternating one epoch
each, so a change's effect on speed is measured without the noise between separate runs.
Prints the median ms per epoch of each and the ratio; writes ``--out`` (JSON).
"""
import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent))  # this checkout's graphdim

import graphdim  # noqa: E402
from speed import make_step  # noqa: E402
from tables import markdown_table  # noqa: E402


def import_checkout(path: Path, name: str = 'graphdim_baseline'):
    """The ``graphdim`` package of the checkout at ``path``, imported under ``name``."""
    init = path / 'graphdim' / '__init__.py'
    if not init.is_file():
        raise SystemExit(f"{path} is not a graphdim checkout (no graphdim/__init__.py)")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def time_pair(name: str, versions: dict, epochs: int, warmup: int) -> dict:
    data = graphdim.load_node_dataset(name).data
    steps = {}
    for label, package in versions.items():
        torch.manual_seed(0)
        steps[label] = make_step(package.DeepGraphInfomax.from_options(data.num_features, 512),
                                 data)
    times = {label: [] for label in steps}
    for epoch in range(warmup + epochs):
        for label, step in steps.items():
            start = time.perf_counter()
            step()
            if epoch >= warmup:
                times[label].append(1000 * (time.perf_counter() - start))
    return {'graph': name, **{f'{label}_ms': statistics.median(t) for label, t in times.items()},
            'times_ms': times}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--baseline', type=Path, required=True, help='the other checkout')
    parser.add_argument('--graphs', nargs='+', default=['Cora', 'CiteSeer', 'PubMed'])
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--out', default='benchmarks/results/speed_revisions.json')
    args = parser.parse_args()
    graphdim.tune_cpu_allocator()
    versions = {'baseline': import_checkout(args.baseline.resolve()), 'this': graphdim}
    rows = [time_pair(name, versions, args.epochs, args.warmup) for name in args.graphs]
    print(markdown_table(['graph', 'baseline ms/epoch', 'this ms/epoch', 'this / baseline'],
                         [[r['graph'], f"{r['baseline_ms']:.1f}", f"{r['this_ms']:.1f}",
                           f"{r['this_ms'] / r['baseline_ms']:.3f}"] for r in rows]))
    Path(args.out).write_text(json.dumps({
        'baseline': str(args.baseline), 'epochs': args.epochs, 'warmup': args.warmup,
        'threads': torch.get_num_threads(), 'versions': graphdim.runtime.package_versions(),
        'rows': rows}, indent=2))


if __name__ == '__main__':
    main()
