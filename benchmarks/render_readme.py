"""Render the results tables of README.md from benchmarks/results/*.json.

    python benchmarks/render_readme.py           # rewrite README.md's tables in place
    python benchmarks/render_readme.py --check   # exit 1 where README.md and the JSON disagree

A table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->`` lines; ``TABLES`` says
which JSON files and which benchmark's own table function render it, so that the README shows
what the benchmark prints. The documentation site renders the same ``TABLES`` at build time
(``docs/_ext/graphdim_docs.py``, the ``results-table`` directive).
"""
import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable, NamedTuple, Tuple

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))  # the benchmark scripts, imported as modules

import cli_speed  # noqa: E402
import graph_level  # noqa: E402
import graph_level_leak  # noqa: E402
import graph_level_nested  # noqa: E402
import image_dim  # noqa: E402
import minibatch  # noqa: E402
import mvgrl_node  # noqa: E402
import node_models  # noqa: E402
import preset_results  # noqa: E402
import probe_fit  # noqa: E402
import reinforcement_choice  # noqa: E402
import training_free  # noqa: E402
import scale  # noqa: E402
import speed  # noqa: E402
from tables import markdown_table  # noqa: E402

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


def _recorded(report, key):
    """The first value under ``key`` anywhere in a results file (top level first)."""
    if isinstance(report, dict):
        if key in report:
            return report[key]
        report = list(report.values())
    if isinstance(report, list):
        for item in report:
            if isinstance(item, (dict, list)) and (found := _recorded(item, key)) is not None:
                return found
    return None


def recorded_device(report, versions: dict) -> str:
    """The device a results file's runs used, as recorded once resolved, with the processor
    where the file names it: ``'cuda: NVIDIA H100 80GB HBM3'``, ``'cpu: AMD EPYC'``. Where a
    file recorded no device, or only the option ``auto``, a CPU-only torch build (``+cpu``)
    says it was the CPU."""
    device = _recorded(report, 'device')
    if not isinstance(device, str) or device == 'auto':
        device = 'cpu' if str(versions.get('torch', '')).endswith('+cpu') else '-'
    processor = versions.get('gpu') if device.startswith('cuda') else \
        versions.get('cpu') or _recorded(report, 'cpu')
    return f'{device}: {processor}' if processor else device


def provenance_table() -> str:
    """Each results file a table is rendered from, with the software and device its run
    recorded. Files no table reads (internal checks, superseded runs) are not listed."""
    rows = []
    for name in TABLES['provenance'].sources:
        path = RESULTS / name
        text = path.read_text()
        report = [json.loads(line) for line in text.splitlines() if line.strip()] \
            if path.suffix == '.jsonl' else json.loads(text)
        versions = _recorded(report, 'versions') or {}
        rows.append([f'`{path.name}`', versions.get('torch', '-'),
                     versions.get('torch_geometric', '-'), versions.get('python', '-'),
                     versions.get('threads', '-'), recorded_device(report, versions)])
    return markdown_table(['results file', 'torch', 'PyG', 'Python', 'CPU threads', 'device'],
                          rows)


def node_presets_table() -> str:
    """The README's summary and the site's: each node preset's figures from the results file
    holding a run of it as it is now (preset_results.preset_run), else "-"."""
    return preset_results.table(preset_results.preset_runs(),
                                training_free.read_results(RESULTS / 'training_free.json'))


def node_models_table() -> str:
    """node_models.jsonl's rows that ran a preset as it is now, with the grid it adds."""
    return node_models.table(*node_models.current_rows(RESULTS / 'node_models.jsonl'))


def reinforcement_choice_table() -> str:
    """reinforcement_choice.jsonl's rows that ran a preset as it is now."""
    found = preset_results.preset_runs('reinforcement_choice.jsonl', ())
    return reinforcement_choice.table([f.run.row for f in found.values() if f.run])


class Table(NamedTuple):
    """A results table: the JSON files it is rendered from, and the function rendering it."""
    sources: Tuple[str, ...]
    render: Callable[[], str]


TABLES = {
    'image': Table(('image_dim.json',), lambda: image_dim.table(load('image_dim.json')['runs'])),
    'minibatch-accuracy': Table(('minibatch.json',), lambda: minibatch.accuracy_table(
        load('minibatch.json')['accuracy'])),
    'minibatch-scale': Table(('minibatch.json', 'minibatch_full_epoch.json'),
                             lambda: minibatch.scale_table([
                                 load('minibatch.json')['scale'],
                                 load('minibatch_full_epoch.json')['scale']])),
    'speed': Table(('speed.json', 'speed_1e6.json'), lambda: speed.timing_table(speed_rows())),
    'probe': Table(('speed.json',), lambda: speed.probe_table(load('speed.json')['probes'])),
    'speed-gpu-accuracy': Table(('speed_cuda.json',),
                                lambda: speed.accuracy_table(load('speed_cuda.json'))),
    'graph-nested': Table(('graph_level_nested.jsonl',), lambda: graph_level_nested.table(
        graph_level_nested.read_rows(RESULTS / 'graph_level_nested.jsonl'))),
    'mvgrl-node': Table(('mvgrl_node.json',),
                        lambda: mvgrl_node.table(load('mvgrl_node.json'), RESULTS)),
    'graph-ogb': Table(('graph_level.json',), lambda: graph_level.ogb_table(
        graph_level.ogb_summaries(load('graph_level.json')['summaries']))),
    'graph-leak': Table(('graph_level_leak_MUTAG.json', 'graph_level_leak_PTC_MR.json'),
                        lambda: graph_level_leak.table([load('graph_level_leak_MUTAG.json'),
                                                        load('graph_level_leak_PTC_MR.json')])),
    'node-presets': Table(('node_models.jsonl', 'mvgrl_node.json', 'reinforcement_choice.jsonl',
                           'training_free.json'), node_presets_table),
    'cli-speed': Table(('cli_speed.json',),
                       lambda: cli_speed.table(load('cli_speed.json')['rows'])),
    'scale': Table(('scale.json',), lambda: scale.table(load('scale.json'))),
    'scale-growth': Table(('scale.json',), lambda: scale.growth_table(load('scale.json'))),
    'node-models': Table(('node_models.jsonl',), node_models_table),
    'training-free': Table(('training_free.json',), lambda: training_free.table(
        training_free.read_results(RESULTS / 'training_free.json'))),
    'reinforcement-choice': Table(('reinforcement_choice.jsonl',), reinforcement_choice_table),
    'probe-fit': Table(('probe_fit.jsonl',), lambda: probe_fit.table(
        probe_fit.read_rows(RESULTS / 'probe_fit.jsonl'))),
}
# The results index: every file another table reads, and nothing else.
TABLES['provenance'] = Table(tuple(sorted({source for table in TABLES.values()
                                           for source in table.sources})), provenance_table)


def render(text: str) -> str:
    """``text`` with every marked table replaced by its rendering from the JSON."""
    unknown = {match['name'] for match in BLOCK.finditer(text)} - set(TABLES)
    if unknown:
        raise ValueError(f"README.md names tables that render_readme.TABLES does not know: "
                         f"{sorted(unknown)}; known: {', '.join(TABLES)}")
    return BLOCK.sub(lambda m: f"<!-- table:{m['name']} -->\n{TABLES[m['name']].render()}\n"
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
    print(f"rendered {len(list(BLOCK.finditer(text)))} tables into {args.readme}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
