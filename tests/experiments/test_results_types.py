"""Typed results (issue 34 item 4): a run's results travel as SeedResult / RunSummary, and
results.json and --json keep exactly the keys graphdim wrote before (recorded below from a
run of the code before the change); the run folder keeps the embeddings its probe scored,
which plot and embed read instead of reloading the graph and reinforcing again."""
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import graphdim
from graphdim import cli
from graphdim.experiments.results import RunSummary
from graphdim.experiments.scores import SCORES
from graphdim.runs import RunFolder

TRAIN = ['train', '--dataset', 'karate', '--epochs', '2', '--min-epochs', '1', '--hidden', '8',
         '--seeds', '2', '--quiet', '--json']
TIMING = ['epochs_mean', 'epoch_seconds_median', 'train_seconds_total', 'seconds_total',
          'peak_rss_mb', 'torch_threads', 'config', 'versions', 'runs']
TRAINING = ['epochs', 'best_epoch', 'final_loss', 'train_seconds', 'seconds']
NODE_FACTS = ['device', 'split', 'num_nodes', 'num_edges', 'rank', 'world_size', 'propagation',
              'features_row_normalized']
# The keys of results.json as graphdim wrote them before results were typed: top level, and
# per seed.
OLD_KEYS = {
    'node': (['dataset', 'seeds', 'test_acc_mean', 'test_acc_std', 'val_acc_mean',
              *NODE_FACTS, *TIMING],
             ['seed', 'test_acc', 'val_acc', 'probe_c', 'probe_normalization', 'hops',
              'reinforcement', 'split', 'propagation', *TRAINING]),
    'node --hops 0 1 --reinforcement add replace --random-baseline': (
        ['dataset', 'seeds', 'test_acc_mean', 'test_acc_std', 'val_acc_mean',
         'random_init_test_acc_mean', 'random_init_test_acc_std', 'plain_test_acc_mean',
         'plain_test_acc_std', 'random_init_plain_test_acc_mean',
         'random_init_plain_test_acc_std', 'training_free_test_acc_mean',
         'training_free_test_acc_std', *NODE_FACTS, *TIMING],
        ['seed', 'random_init_test_acc', 'random_init_val_acc', 'random_init_hops',
         'random_init_reinforcement', 'random_init_plain_test_acc', 'random_init_plain_val_acc',
         'training_free_test_acc', 'training_free_val_acc', 'training_free_hops',
         'training_free_reinforcement', 'test_acc', 'val_acc', 'probe_c', 'probe_normalization',
         'training_free_alpha',  # the multi-scale form's weight on X, chosen on karate
         'hops', 'reinforcement', 'split', 'propagation', 'plain_test_acc', 'plain_val_acc',
         *TRAINING]),
    'graph --random-baseline': (
        ['dataset', 'seeds', 'num_graphs', 'num_features', 'num_classes', 'protocol',
         'test_acc_mean', 'test_acc_std', 'test_acc_seed_std', 'logreg_acc_mean',
         'logreg_acc_std', 'logreg_acc_seed_std', 'val_acc_mean', 'random_init_test_acc_mean',
         'device', *TIMING],
        ['seed', 'random_init_test_acc', 'random_init_logreg_acc', 'test_acc', 'test_acc_folds',
         'test_acc_chosen', 'logreg_acc', 'logreg_acc_folds', 'logreg_acc_inner',
         'logreg_acc_chosen', 'val_acc', *TRAINING]),
}
# Written by the code before the change (values shortened): OGB and image runs, read back.
OLD_OGB = {
    'dataset': 'ogbg-molbace', 'seeds': [0], 'num_graphs': 1513, 'num_features': 9,
    'num_classes': 1, 'protocol': 'official scaffold split', 'test_roc_auc_mean': 0.74,
    'test_roc_auc_std': 0.0, 'valid_roc_auc_mean': 0.742, 'valid_roc_auc_std': 0.0,
    'random_init_test_roc_auc_mean': 0.70, 'random_init_test_roc_auc_std': 0.0, 'device': 'cpu',
    'epochs_mean': 1, 'epoch_seconds_median': 9.1, 'train_seconds_total': 9.1,
    'seconds_total': 13.5, 'peak_rss_mb': 900.0, 'torch_threads': 2, 'config': {'folds': 10},
    'versions': {'torch': '2'},
    'runs': [{'seed': 0, 'random_init_test_roc_auc': 0.70, 'random_init_valid_roc_auc': 0.74,
              'test_roc_auc': 0.74, 'valid_roc_auc': 0.742, 'probe': 'svm C=1', 'epochs': 1,
              'best_epoch': 1, 'final_loss': 3.3, 'train_seconds': 9.1, 'seconds': 13.5}]}
_PROBE = {'test_acc': 64.9, 'val_acc': 62.9, 'c': 10.0, 'normalization': 'l2'}
OLD_IMAGE = {
    'dataset': 'mnist', 'mode': 'local', 'weights': {'alpha': 0.0, 'beta': 1.0, 'gamma': 0.1},
    'seeds': [0], 'test_acc_mean': 64.9, 'test_acc_std': 0.0, 'val_acc_mean': 62.9,
    'probes': {'linear/y': {'test_acc_mean': 64.9, 'test_acc_std': 0.0}},
    'baselines': {'raw_pixels': {'test_acc_mean': 80.2, 'test_acc_std': 0.0, 'probes': {
                      'linear/pixels': {'test_acc_mean': 80.2, 'test_acc_std': 0.0}}},
                  'random_encoder': {'test_acc_mean': 67.1, 'test_acc_std': 0.0, 'probes': {
                      'linear/y': {'test_acc_mean': 67.1, 'test_acc_std': 0.0}}}},
    'train_images': 128, 'epochs': 1, 'device': 'cpu', 'split': '200 / 100 images',
    'num_train': 60000, 'num_test': 10000, 'image_shape': [1, 28, 28],
    'epochs_mean': 1, 'epoch_seconds_median': 3.7, 'train_seconds_total': 3.7,
    'seconds_total': 38.5, 'peak_rss_mb': 671.9, 'torch_threads': 2, 'config': {'mode': 'local'},
    'versions': {'torch': '2'},
    'runs': [{'seed': 0, 'train_images': 128, 'split': '200 / 100 images',
              'dim': {'linear/y': _PROBE},
              'raw_pixels': {'linear/pixels': {**_PROBE, 'test_acc': 80.2}},
              'random_encoder': {'linear/y': {**_PROBE, 'test_acc': 67.1}},
              'test_acc': 64.9, 'val_acc': 62.9, 'epochs': 1, 'best_epoch': 1,
              'final_loss': 2.2, 'train_seconds': 3.7, 'seconds': 38.5}]}


def _summary(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _same_keys(summary: dict, expected) -> None:
    top, per_seed = expected
    assert sorted(summary) == sorted(top)
    for run in summary['runs']:
        assert sorted(run) == sorted(per_seed)


@pytest.mark.parametrize('options', [[], pytest.param(
    ['--hops', '0', '1', '--reinforcement', 'add', 'replace', '--random-baseline'],
    marks=pytest.mark.slow)])  # (the training-free baseline's grid: seconds of probes)
def test_node_results_keep_the_old_keys_and_read_back(options, tmp_path, capsys):
    assert cli.main([*TRAIN, *options, '--out', str(tmp_path / 'run')]) == 0
    printed = _summary(capsys)
    _same_keys({k: v for k, v in printed.items() if k != 'out_dir'},
               OLD_KEYS[' '.join(['node', *options])])
    written = json.loads((tmp_path / 'run' / 'results.json').read_text())
    assert written == {k: v for k, v in printed.items() if k != 'out_dir'}
    typed = RunSummary.from_json(written, 'node')
    assert typed.to_json() == written  # one to_json / from_json pair, nothing lost
    assert [run.scores.test_acc for run in typed.runs] == \
        [run['test_acc'] for run in written['runs']]


def test_the_adam_probes_chosen_step_is_written_and_read_back(tmp_path, capsys):
    assert cli.main([*TRAIN, '--probe-optimizer', 'adam', '--probe-epochs', '30', '--out',
                     str(tmp_path / 'run')]) == 0
    written = json.loads((tmp_path / 'run' / 'results.json').read_text())
    assert written['config']['probe_optimizer'] == 'adam'
    assert all(1 <= run['probe_epoch'] <= 30 for run in written['runs'])
    typed = RunSummary.from_json(written, 'node')
    assert [run.scores.probe.epoch for run in typed.runs] == \
        [run['probe_epoch'] for run in written['runs']]
    assert typed.to_json() == written


def test_graph_summary_keeps_the_old_keys():
    """The graph level's summary of a seed, from quick cross-validations (no training)."""
    from graphdim.eval import cross_validate
    from graphdim.experiments.graph import _summarize
    from graphdim.experiments.results import GraphScores, SeedResult
    labels = torch.arange(12) % 2
    embeddings = torch.randn(12, 3, generator=torch.Generator().manual_seed(0)) + labels[:, None]

    def scores() -> GraphScores:
        return GraphScores(*(cross_validate(embeddings, labels, classifier, folds=2,
                                            inner_folds=2, c_grid=(1.0, ))
                             for classifier in ('svm', 'logreg')))
    run = SeedResult(0, scores(), {'random_init': scores()}, 1, 1, 0.5, 0.1, 0.2)
    config = SimpleNamespace(folds=2, inner_folds=2, random_baseline=True)
    summary = _summarize(_TinyDataset(), config, [0], [run], 'cpu')
    summary.runs = [run]
    _same_keys(summary.to_json(), OLD_KEYS['graph --random-baseline'])
    assert RunSummary.from_json(summary.to_json(), 'graph').to_json() == summary.to_json()


class _TinyDataset:
    """A stand-in TU dataset of 12 graphs: what the summary reads of one."""
    name, split, num_features, num_classes = 'tiny', None, 3, 2

    def __len__(self) -> int:
        return 12


@pytest.mark.slow  # the SVM's and logistic regression's nested CVs, twice: seconds
def test_graph_results_keep_the_old_keys(data_root, capsys):
    assert cli.main(['train', '--level', 'graph', '--dataset', 'MUTAG', '--root',
                     str(data_root), '--epochs', '1', '--hidden', '8', '--layers', '2',
                     '--folds', '2', '--inner-folds', '2', '--random-baseline', '--quiet',
                     '--json']) == 0
    printed = _summary(capsys)
    _same_keys(printed, OLD_KEYS['graph --random-baseline'])
    typed = RunSummary.from_json(printed, 'graph')
    assert typed.to_json() == printed
    assert typed.runs[0].scores.test_acc_folds == printed['runs'][0]['test_acc_folds']


@pytest.mark.parametrize('kind, old', [('graph', OLD_OGB), ('image', OLD_IMAGE)])
def test_results_written_before_read_back_whole(kind, old):
    typed = RunSummary.from_json(old, kind)
    assert typed.to_json() == old
    run = typed.runs[0]
    if kind == 'graph':
        assert (run.scores.test_roc_auc, run.baselines['random_init'].test_roc_auc) == \
            (0.74, 0.70)
        assert typed.figure('test_roc_auc', 'random_init').mean == 0.70
    else:
        assert run.scores.test_acc == 64.9 and run.baselines['raw_pixels'].test_acc == 80.2
        assert typed.figure('test_acc', 'random_encoder').mean == 67.1


def test_a_changed_results_json_reads_as_missing_values_not_errors():
    changed = {'runs': [{'seed': 0, 'test_acc': 'high', 'hops': 10 ** 12,
                         'reinforcement': 3}, {'seed': 'one'}, 7], 'seeds': 'all'}
    typed = RunSummary.from_json(changed, 'node')
    assert [run.seed for run in typed.runs] == [0] and typed.seeds == []
    scores = typed.runs[0].scores
    assert scores.test_acc is None and scores.hops == 10 ** 12 and scores.reinforcement is None


def test_prefixed_keys_are_spelt_only_where_results_are_serialised():
    """No code builds or parses a baseline's prefixed keys but the results' to/from_json."""
    package = Path(graphdim.__file__).parent
    names = {name for scores in SCORES.values() for name in scores.BASELINES}
    prefixed = re.compile(r"""['"](%s)_""" % '|'.join(sorted(names)))
    found = [f"{path.relative_to(package)}:{number}"
             for path in package.rglob('*.py')
             if path.name not in ('results.py', 'scores.py')
             for number, line in enumerate(path.read_text().splitlines(), start=1)
             if prefixed.search(line)]
    assert found == []


def test_the_run_keeps_the_scored_embeddings_and_plot_and_embed_read_them(
        tmp_path, capsys, monkeypatch):
    pytest.importorskip('matplotlib')
    run_dir = tmp_path / 'run'
    assert cli.main([*TRAIN, '--hops', '2', '--out', str(run_dir)]) == 0
    capsys.readouterr()
    folder = RunFolder(run_dir)
    data = graphdim.load_node_dataset('karate').data
    for seed in (0, 1):
        scored = folder.read_embeddings(seed, scored=True)
        assert torch.allclose(scored, graphdim.reinforce(folder.read_embeddings(seed),
                                                         data.edge_index, 2), atol=1e-6)

    def no_reload(*args, **kwargs):
        raise AssertionError('the graph was loaded again')
    monkeypatch.setattr('graphdim.experiments.node.load_config_graph', no_reload)
    monkeypatch.setattr('graphdim.cli.embed.load_config_graph', no_reload)
    from graphdim import plots
    drawn = []
    monkeypatch.setattr(plots, 'save_figures', lambda figures, *a: drawn.extend(figures) or [])
    monkeypatch.setattr(plots, 'tsne_figure', lambda rows, *a, **k: drawn.append(rows))
    plots.plot_run(run_dir, seed=1)
    assert torch.equal(drawn[0], folder.read_embeddings(1, scored=True))
    assert cli.main(['embed', str(run_dir), '--seed', '1', '--out', str(tmp_path / 'z')]) == 0
    assert 'reinforced (z + A^K z, K=2)' in capsys.readouterr().out
    written = torch.load(tmp_path / 'z.pt', weights_only=True)['embeddings']
    assert torch.equal(written, folder.read_embeddings(1, scored=True))


def test_a_run_without_scored_embeddings_is_reinforced_again(tmp_path, capsys, monkeypatch):
    """A run folder written before the scored embeddings were kept: recomputed, as before."""
    pytest.importorskip('matplotlib')
    run_dir = tmp_path / 'run'
    assert cli.main([*TRAIN, '--seeds', '1', '--hops', '2', '--out', str(run_dir)]) == 0
    capsys.readouterr()
    folder = RunFolder(run_dir)
    scored = folder.read_embeddings(0, scored=True)
    folder.embeddings_path(0, scored=True).unlink()
    from graphdim import plots
    drawn = []
    monkeypatch.setattr(plots, 'save_figures', lambda figures, *a: [])
    monkeypatch.setattr(plots, 'tsne_figure', lambda rows, *a, **k: drawn.append(rows))
    plots.plot_run(run_dir)
    assert torch.allclose(drawn[0], scored, atol=1e-6)
    assert cli.main(['embed', str(run_dir), '--out', str(tmp_path / 'z')]) == 0
    written = torch.load(tmp_path / 'z.pt', weights_only=True)['embeddings']
    assert torch.allclose(written, scored, atol=1e-5)


def test_an_unlabelled_graph_with_random_baseline_trains(tmp_path, capsys):
    """--random-baseline on a graph without labels: nothing to probe, no baseline (it
    failed in the summary with a TypeError on the missing accuracies)."""
    edges = tmp_path / 'ring.txt'
    edges.write_text('0 1\n1 2\n2 3\n3 0\n0 2\n')
    assert cli.main(['train', '--graph', str(edges), '--missing-features', 'degree',
                     '--epochs', '2', '--min-epochs', '1', '--hidden', '8',
                     '--random-baseline', '--quiet', '--json']) == 0
    summary = _summary(capsys)
    assert summary['test_acc_mean'] is None
    assert not [key for key in summary['runs'][0] if key.startswith('random_init')]
