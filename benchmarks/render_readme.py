"""Render every results table in README.md from benchmarks/results/*.json.

    python benchmarks/render_readme.py           # rewrite README.md's tables in place
    python benchmarks/render_readme.py --check   # exit 1 where README.md and the JSON disagree

A table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->`` lines; ``TABLES`` says
which JSON file and which benchmark's own table function render it, so that the README shows
what the benchmark prints.
"""
import argparse
import json
import re
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))  # the benchmark scripts, imported as modules

import accuracy  # noqa: E402
import graph_level  # noqa: E402
import graph_level_nested  # noqa: E402
import image_dim  # noqa: E402
import minibatch  # noqa: E402
import mvgrl_node  # noqa: E402
import speed  # noqa: E402

RESULTS = BENCHMARKS / 'results'
README = BENCHMARKS.parent / 'README.md'
BLOCK = re.compile(r'^<!-- table:(?P<name>[\w-]+) -->\n(?P<table>.*?)^<!-- /table -->$',
                   re.MULTILINE | re.DOTALL)


def load(name):
    return json.loads((RESULTS / name).read_text())


def speed_rows():
    """speed.json's rows; where its memory probe failed (the 10^6-node graph, killed while
    the parent still held the graph) the memory of speed_1e6.json's own run of that graph."""
    rerun = {r['graph']: r for r in load('speed_1e6.json')['rows']}
    rows = load('speed.json')['rows']
    for row in rows:
        if isinstance(row['graphdim_mem_mb'], str) and row['graph'] in rerun:
            row['graphdim_mem_mb'] = rerun[row['graph']]['graphdim_mem_mb']
    return rows


TABLES = {
    'image': lambda: image_dim.table(load('image_dim.json')['runs']),
    'minibatch-accuracy': lambda: minibatch.accuracy_table(load('minibatch.json')['accuracy']),
    'minibatch-scale': lambda: minibatch.scale_table(
        [load('minibatch.json')['scale'], load('minibatch_full_epoch.json')['scale']]),
    'node-accuracy': lambda: accuracy.table(load('accuracy.json')),
    'speed': lambda: speed.timing_table(speed_rows()),
    'probe': lambda: speed.probe_table(load('speed.json')['probes']),
    'speed-gpu-accuracy': lambda: speed.accuracy_table(load('speed_cuda.json')),
    'graph-nested': lambda: graph_level_nested.table(
        graph_level_nested.read_rows(RESULTS / 'graph_level_nested.jsonl')),
    'mvgrl-node': lambda: mvgrl_node.table(load('mvgrl_node.json'), RESULTS),
    'graph-ogb': lambda: graph_level.ogb_table(
        graph_level.ogb_summaries(load('graph_level.json')['summaries'])),
}


def render(text: str) -> str:
    """``text`` with every marked table replaced by its rendering from the JSON."""
    found = {match['name'] for match in BLOCK.finditer(text)}
    unknown, missing = found - set(TABLES), set(TABLES) - found
    if unknown or missing:
        raise ValueError(f"README.md's table markers do not match render_readme.TABLES: "
                         f"unknown {sorted(unknown)}, missing {sorted(missing)}; add the "
                         f"'<!-- table:NAME -->' ... '<!-- /table -->' block or the TABLES entry")
    return BLOCK.sub(lambda m: f"<!-- table:{m['name']} -->\n{TABLES[m['name']]()}\n"
                               f"<!-- /table -->", text)


def mismatches(text: str) -> list:
    """The names of the tables whose README text differs from their rendering."""
    rendered = {m['name']: m['table'] for m in BLOCK.finditer(render(text))}
    return [m['name'] for m in BLOCK.finditer(text) if m['table'] != rendered[m['name']]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--check', action='store_true',
                        help='change nothing; exit 1 if a table differs from its JSON')
    parser.add_argument('--readme', type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text()
    if args.check:
        stale = mismatches(text)
        if stale:
            print(f"{args.readme}: these tables differ from benchmarks/results/*.json: "
                  f"{', '.join(stale)}; run python benchmarks/render_readme.py", file=sys.stderr)
            return 1
        print(f"{args.readme}: every table matches its JSON")
        return 0
    args.readme.write_text(render(text))
    print(f"rendered {len(TABLES)} tables into {args.readme}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
