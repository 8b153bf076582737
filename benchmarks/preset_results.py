"""Each node preset's figures, from the results file holding a run of the preset as it is now.

    python benchmarks/preset_results.py      # the table, and which presets have no run

A results row counts for a preset only where its recorded config is the preset's config
today: graphdim's defaults with the preset's values (:func:`preset_config`), compared key by
key (:func:`differences`). Changing a preset in ``graphdim/presets.py`` without rerunning
its benchmark makes its cells read ``-`` and fails ``tests/test_results_current.py``.
:func:`preset_run` is the one lookup: README.md's and the site's tables
(``benchmarks/render_readme.py``) and the test all go through it.

A benchmark may add options to the preset where they do not change the figure shown:
``--random-baseline`` (figures beside the preset's) and, for a preset without
reinforcement, a ``--hops`` grid (its ``K = 0`` probe is the preset's own figure).
"""
import dataclasses
import json
import sys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

from graphdim.experiments.node import NodeConfig
from graphdim.presets import PRESETS
from graphdim.registry import flat_options

sys.path.insert(0, str(Path(__file__).resolve().parent))  # imported by the tests as a file
from published import paper, reproduced  # noqa: E402
from tables import markdown_table, mean_std  # noqa: E402

RESULTS = Path(__file__).resolve().parent / 'results'

# Each node preset's results file: the benchmark that ran the preset (None: not run at the
# preset's seeds on this project's CPU yet; its cells read "-").
PRESET_RESULTS = {
    'dgi-cora': 'node_models.jsonl', 'mvgrl-cora': 'mvgrl_node.json',
    'ggd-cora': 'reinforcement_choice.jsonl',
    'dgi-citeseer': 'node_models.jsonl', 'mvgrl-citeseer': 'mvgrl_node.json',
    'ggd-citeseer': 'reinforcement_choice.jsonl',
    'dgi-pubmed': 'node_models.jsonl', 'mvgrl-pubmed': 'mvgrl_node.json',
    'ggd-pubmed': 'reinforcement_choice.jsonl',
    'graphacl-cora': 'node_models.jsonl', 'graphacl-citeseer': 'node_models.jsonl',
    'best-cora': 'tune/best-cora/summary.json',
    'best-citeseer': 'tune/best-citeseer/summary.json',
    'best-pubmed': 'tune/best-pubmed/summary.json',
}
# Where and how a run ran, never what it computes.
WHERE_IT_RAN = frozenset({'root', 'device', 'download', 'resume', 'checkpoint_every'})
# Options that add figures beside the preset's, whatever the preset.
ADDED_FIGURES = frozenset({'random_baseline'})
# A reinforcement grid: a preset without reinforcement keeps its figure (the K = 0 probe).
REINFORCEMENT = frozenset({'hops', 'reinforcement', 'hops_cv'})


class Run(NamedTuple):
    """One run in a results file: its recorded config, seeds and summary figures, and the
    file's row that holds it."""
    source: str
    config: dict
    seeds: List[int]
    figures: dict
    row: dict


class PresetRun(NamedTuple):
    """A preset and the run of it in its results file (``run`` None: no such run); what
    differs from the preset where the file holds another run of its model and dataset."""
    preset: str
    source: Optional[str]
    run: Optional[Run]
    differences: List[str]

    def figure(self, figure: str) -> str:
        """``'83.76 ± 0.72'``: the preset's ``test_acc`` or ``random_init_test_acc`` as
        ``graphdim train --preset`` prints it, or ``'-'``."""
        if self.run is None:
            return '-'
        key = shown_key(figure, preset_config(self.preset), self.run.config)
        figures = self.run.figures
        if f'{key}_mean' not in figures:
            return '-'
        return mean_std(figures[f'{key}_mean'], figures[f'{key}_std'],
                        seeds=len(self.run.seeds))


def _plain(value):
    """A config value as JSON holds it (tuples as lists)."""
    return json.loads(json.dumps(value))


def node_presets() -> List[str]:
    """The node-level presets of ``graphdim train``, in PRESETS order."""
    return [name for name, (command, values) in PRESETS.items()
            if command == 'train' and values.get('level', 'node') == 'node']


def preset_config(name: str) -> dict:
    """The full config ``graphdim train --preset NAME`` runs: defaults and the preset (the
    model's options beside the level's, as older results files recorded them)."""
    return _plain(flat_options(dataclasses.asdict(NodeConfig.from_dict(PRESETS[name][1]))))


def differences(name: str, recorded: dict, added: Sequence[str] = ()) -> List[str]:
    """``'lr: preset 0.001, recorded 0.0005'`` for each setting of preset ``name`` that a
    run's ``recorded`` config does not share; ``added``: keys the benchmark may set itself.
    A key the recorded config lacks is an option added since: it ran as its default does
    unless the preset sets it."""
    expected, set_by_preset = preset_config(name), PRESETS[name][1]
    recorded = flat_options(recorded)  # newer runs record the model's under model_options
    found = []
    for key, value in expected.items():
        if key in WHERE_IT_RAN or key in added:
            continue
        if key not in recorded:
            if key in set_by_preset:
                found.append(f'{key}: preset {value!r}, not recorded')
        elif _plain(recorded[key]) != value:
            found.append(f'{key}: preset {value!r}, recorded {recorded[key]!r}')
    return found


def benchmark_additions(name: str) -> frozenset:
    """What a benchmark may add to preset ``name`` without changing its figure."""
    return ADDED_FIGURES | (REINFORCEMENT if preset_config(name)['hops'] == [0] else set())


def shown_key(figure: str, expected: dict, recorded: dict) -> str:
    """The summary key of ``figure`` (``test_acc``, ``random_init_test_acc``) as the preset
    prints it: the figure itself, or its ``K = 0`` probe (``plain_test_acc``,
    ``random_init_plain_test_acc``) where a preset without reinforcement ran with a grid."""
    if _plain(recorded.get('hops', [0])) == expected['hops']:
        return figure
    return figure.replace('test_acc', 'plain_test_acc')


def _node_models(text: str) -> List[Run]:
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [Run('node_models.jsonl', r['config'], r['seeds'], r, r) for r in rows]


def _mvgrl_node(text: str) -> List[Run]:
    return [Run('mvgrl_node.json', r['mvgrl']['config'], r['mvgrl']['seeds'], r['mvgrl'], r)
            for r in json.loads(text)]


def _reinforcement_choice(text: str) -> List[Run]:
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [Run('reinforcement_choice.jsonl', r['config'], r['seeds'], r['preset_figures'], r)
            for r in rows]


def _tune_summary(source: str, text: str) -> List[Run]:
    """A search's final run (``graphdim tune --out DIR``'s summary.json): the best recipe
    retrained on seeds the search never used, as ``graphdim train --preset best-*`` runs it."""
    final = json.loads(text)['final']
    return [Run(source, final['config'], final['seeds'], final, final)] if final else []


READERS = {'node_models.jsonl': _node_models, 'mvgrl_node.json': _mvgrl_node,
           'reinforcement_choice.jsonl': _reinforcement_choice}


def from_search(source: Optional[str]) -> bool:
    """Whether results file ``source`` is a recipe search's (``tune/<study>/summary.json``):
    its preset is a recipe graphdim tune chose, no paper's."""
    return bool(source) and source.startswith('tune/') and source.endswith('/summary.json')


def runs(source: str, results: Path = RESULTS) -> List[Run]:
    """Every run that results file ``source`` records."""
    path = results / source
    if not path.is_file():
        return []
    if from_search(source):
        return _tune_summary(source, path.read_text())
    return READERS[source](path.read_text())


def preset_run(name: str, source: Optional[str] = None, added: Optional[Sequence[str]] = None,
               results: Path = RESULTS) -> PresetRun:
    """The run of preset ``name`` as it is now in ``source`` (default: its file in
    ``PRESET_RESULTS``), ``added`` the options that benchmark may add (default: those that
    do not change the preset's figure); the run must have the preset's seeds. Where the file
    holds a run of the preset's model and dataset with other settings, ``differences`` says
    which."""
    source = PRESET_RESULTS.get(name) if source is None else source
    if source is None:
        return PresetRun(name, None, None, [])
    added = benchmark_additions(name) if added is None else frozenset(added)
    expected = preset_config(name)
    same_data = [run for run in runs(source, results)
                 if (run.config.get('model'), run.config.get('dataset')) ==
                 (expected['model'], expected['dataset'])]
    found = [differences(name, run.config, added) + (
        [] if len(run.seeds) == run.config.get('seeds') else
        [f"seeds: config {run.config.get('seeds')}, ran {len(run.seeds)}"]) for run in same_data]
    for run, differ in zip(reversed(same_data), reversed(found)):  # the latest run first
        if not differ:
            return PresetRun(name, source, run, [])
    return PresetRun(name, source, None,
                     found[-1] if found else [f'no run of {expected["model"]} on '
                                              f'{expected["dataset"]}'])


def preset_runs(source: Optional[str] = None, added: Optional[Sequence[str]] = None,
                results: Path = RESULTS) -> Dict[str, PresetRun]:
    """Every node preset's run, ``{name: PresetRun}``: in its own results file, or in
    ``source`` with that benchmark's ``added`` options (:func:`preset_run`)."""
    return {name: preset_run(name, source, added, results) for name in node_presets()}


def not_run(found: Dict[str, PresetRun], lead: str = 'A dash') -> str:
    """The footnote naming the presets ``found`` holds no run of as they are now."""
    missing = [name for name, found_run in found.items() if found_run.run is None]
    if not missing:
        return ''
    seeds = ', '.join(sorted({str(preset_config(name)['seeds']) for name in missing}))
    return (f"{lead}: not run as the preset is now, at its {seeds} seeds, on this project's "
            f"CPU: {', '.join(missing)}.")


def table(found: Dict[str, PresetRun], training_free: dict) -> str:
    """Each node preset's test accuracy as ``graphdim train --preset NAME`` prints it, beside
    the same encoder untrained (same probe), the training-free baseline
    (``training_free``: benchmarks/training_free.py's ``{dataset: row}``), the published
    figures and the results file; graph by graph. Presets without a current run read "-"."""
    order = {'Cora': 0, 'CiteSeer': 1, 'PubMed': 2}
    body = []
    for name, found_run in sorted(found.items(), key=lambda item: order.get(
            preset_config(item[0])['dataset'], 3)):
        config = preset_config(name)
        model, dataset = config['model'], config['dataset']
        free = training_free.get(dataset)
        searched = from_search(PRESET_RESULTS.get(name))
        body.append([name, str(len(found_run.run.seeds)) if found_run.run else '-',
                     found_run.figure('test_acc'), found_run.figure('random_init_test_acc'),
                     f"{free['test_acc']:.2f}" if free else '-',
                     '-' if searched else paper(model, dataset),
                     '-' if searched else reproduced(model, dataset),
                     found_run.source if found_run.run else '-'])
    rendered = markdown_table(['preset', 'seeds', 'test acc %', 'untrained encoder, same probe',
                               'training-free (X or multi-scale X)', 'paper', 'reproduced (by)',
                               'results file'], body)
    footnote = not_run(found)
    return f'{rendered}\n\n{footnote}' if footnote else rendered


def main() -> None:
    import training_free
    found = preset_runs()
    print(table(found, training_free.read_results()))
    for name, found_run in found.items():
        if found_run.differences:
            print(f"{name}: {found_run.source} holds another recipe: "
                  f"{'; '.join(found_run.differences)}")


if __name__ == '__main__':
    main()
