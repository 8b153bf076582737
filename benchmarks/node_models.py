"""Node-level DIM models side by side on the public Planetoid splits: DGI, MVGRL, GGD and
GraphACL, each with and without embedding reinforcement, each beside its own untrained encoder.

    python benchmarks/node_models.py                          # every preset, 10 seeds
    python benchmarks/node_models.py --seeds-of mvgrl:PubMed=2 dgi:PubMed=3
    python benchmarks/node_models.py --table                  # the table from the results

Each (model, graph) runs in its own process as users run it, from the model's preset
(``graphdim train --preset MODEL-GRAPH``, the recipe's epochs and early stopping as they
are) with ``--hops 0 1 2 3 5 10 --random-baseline``: every seed trains once and is probed
three ways, all choices on the validation split only:

* the embeddings as they are (``K = 0``), the probe's ``C`` and normalisation chosen on
  validation;
* reinforced, ``z + Â^K z`` or ``Â^K z`` with the form and ``K`` chosen on validation from
  the grid;
* the same encoder untrained (random init), through the same reinforced probe with its own
  validation-chosen form and ``K`` (an untrained encoder followed by ``Â^K`` is close to SGC,
  a strong baseline).

Each finished (model, graph) is one line of ``--out`` (JSON lines), so an interrupted run
continues where it stopped; a line with fewer seeds than asked, or made with other settings
than the preset's now (``preset_results.differences``), is run again. The table shows the
lines that ran a preset as it is now, at its own seeds, and names the presets without one.
"""
import argparse
import json
import statistics
from pathlib import Path

from graphdim.presets import PRESETS
from graphdim.registry import model_entry

from cli_runs import run_cli_json
from preset_results import ADDED_FIGURES, REINFORCEMENT, differences, not_run, preset_runs
from tables import markdown_table, mean_std

MODELS = ['dgi', 'mvgrl', 'ggd', 'graphacl']
DATASETS = ['Cora', 'CiteSeer', 'PubMed']
HOPS = ['0', '1', '2', '3', '5', '10']
RESULTS = Path(__file__).resolve().parent / 'results' / 'node_models.jsonl'
# What this benchmark adds to each preset: the reinforcement grid and the untrained encoder.
ADDED = ADDED_FIGURES | REINFORCEMENT


def read_rows(path: Path = RESULTS) -> list:
    """The finished (model, graph) summaries, graph by graph, DGI, MVGRL, GGD within each."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    order = {(m, d): i for i, (d, m) in enumerate((d, m) for d in DATASETS for m in MODELS)}
    return sorted(rows, key=lambda r: order[r['model'], r['dataset']])


def current_rows(path: Path = RESULTS):
    """``(rows, found)``: the rows that ran a preset as it is now, with this benchmark's
    additions only (``preset_results.preset_run``), graph by graph; and every node preset's
    lookup, for the footnote naming those without one."""
    found = preset_runs(path.name, ADDED, path.parent)
    rows = [f.run.row for f in found.values() if f.run is not None]
    order = {(m, d): i for i, (d, m) in enumerate((d, m) for d in DATASETS for m in MODELS)}
    return sorted(rows, key=lambda r: order[r['model'], r['dataset']]), found


def preset_name(model: str, dataset: str) -> str:
    return f'{model}-{dataset.lower()}'


def run(model: str, dataset: str, seeds: int) -> dict:
    summary = run_cli_json(['train', '--preset', preset_name(model, dataset), '--seeds',
                            str(seeds), '--hops', *HOPS, '--reinforcement', 'add', 'replace',
                            '--random-baseline', '--json', '--quiet'], f'{model} on {dataset}')
    return {'model': model, 'dataset': dataset, **summary}


def _acc(row, key) -> str:
    return mean_std(row[f'{key}_mean'], row[f'{key}_std'], seeds=len(row['seeds']))


def table(rows, found=None) -> str:
    """Test accuracy (%) per model and graph: plain, reinforced (form and K chosen on
    validation), the untrained encoder reinforced the same way; the chosen K (``*``: the
    ``Â^K z`` form, else ``z + Â^K z``); training seconds per seed and peak memory. The
    published figures and the training-free baseline stand in the presets' table
    (preset_results.py), once. ``found``: the presets' lookups (:func:`current_rows`), for a
    footnote naming the presets without a current row."""
    body = []
    for row in rows:
        runs = row['runs']
        hops = sorted({(r['hops'], r['reinforcement']) for r in runs})
        body.append([
            model_entry('node', row['model']).printed_name, row['dataset'],
            str(len(row['seeds'])), _acc(row, 'plain_test_acc'), _acc(row, 'test_acc'),
            _acc(row, 'random_init_test_acc'),
            ', '.join(f"{k}{'' if mode == 'add' else '*'}" for k, mode in hops),
            f"{statistics.median(r['train_seconds'] for r in runs):.1f}",
            f"{row['peak_rss_mb']:.0f}"])
    rendered = markdown_table(['model', 'dataset', 'seeds', 'test acc %', 'reinforced',
                               'untrained, reinforced', 'K chosen', 'train s / seed (median)',
                               'peak RSS MiB'], body)
    footnote = not_run(found or {}, 'Not in this table')
    return f'{rendered}\n\n{footnote}' if footnote else rendered


def _seeds_of(entries, default: int) -> dict:
    """``MODEL:DATASET=N`` entries -> ``{(model, dataset): N}``."""
    seeds = {}
    for entry in entries:
        key, _, count = entry.partition('=')
        model, _, dataset = key.partition(':')
        if model not in MODELS or dataset not in DATASETS or not count.isdigit():
            raise SystemExit(f"--seeds-of takes MODEL:DATASET=N ({', '.join(MODELS)}; "
                             f"{', '.join(DATASETS)}); got {entry!r}")
        seeds[model, dataset] = int(count)
    return seeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--models', nargs='+', default=MODELS, choices=MODELS)
    parser.add_argument('--datasets', nargs='+', default=DATASETS, choices=DATASETS)
    parser.add_argument('--seeds', type=int, default=10)
    parser.add_argument('--seeds-of', nargs='*', default=[], metavar='MODEL:DATASET=N',
                        help='fewer seeds where time is short (kept in --out; the table '
                             "shows runs at the presets' own seeds only)")
    parser.add_argument('--out', type=Path, default=RESULTS)
    parser.add_argument('--table', action='store_true', help='print the tables and stop')
    args = parser.parse_args()
    seeds_of = _seeds_of(args.seeds_of, args.seeds)
    rows = read_rows(args.out)
    if not args.table:
        for dataset in args.datasets:
            for model in args.models:
                if preset_name(model, dataset) not in PRESETS:
                    continue  # no recipe of this model for this graph (graphacl-pubmed)
                wanted = seeds_of.get((model, dataset), args.seeds)
                done = [r for r in rows if (r['model'], r['dataset']) == (model, dataset)]
                if done and len(done[-1]['seeds']) >= wanted and not differences(
                        preset_name(model, dataset), done[-1]['config'], ADDED | {'seeds'}):
                    continue  # done, with the preset as it is now
                row = run(model, dataset, wanted)
                rows = [r for r in rows if (r['model'], r['dataset']) != (model, dataset)]
                rows.append(row)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    rows, found = current_rows(args.out)
    print(table(rows, found=found))  # the rows that ran the presets as they are now
    print(f"\nresults: {args.out}")


if __name__ == '__main__':
    main()
