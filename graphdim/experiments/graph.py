"""Graph-level experiments: for each seed, train InfoGraph (or graph-level MVGRL), freeze
graph embeddings, evaluate.

``run_graph_experiment(GraphConfig(dataset='MUTAG', seeds=5))`` is what
``graphdim train --level graph`` runs; its result dictionary is what the CLI prints and
``--json`` emits. TU datasets: 10-fold CV accuracy of an SVM (the headline, as in InfoGraph)
and of logistic regression, ``C`` chosen by inner CV on the training folds. OGB datasets:
ROC-AUC on the official scaffold split, probe chosen on valid, with the random-init encoder's
ROC-AUC beside it.
"""
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Optional, Union

import torch
from torch_geometric.loader import DataLoader

from ..data.custom import MAX_DEGREE_FEATURE
from ..data.graphs import GraphDataset, load_graph_dataset
from ..eval import cross_validate, ogb_probe
from ..graph.diffusion import DIFFUSIONS, DiffusionView
from ..graph.graph_level import InfoGraph
from ..graph.multiview_graph import GraphMVGRL
from ..runs import RunFolder
from ..runtime import package_versions, peak_rss_mb, resolve_device, seed_everything
from ..train import embed, fit
from .config import RunConfig, mean_std, option


# The options only one model reads; set for another model,
# they are an error (RunConfig.MODEL_OPTIONS).
MVGRL_OPTIONS = ('diffusion', 'alpha', 'diffusion_time')
INFOGRAPH_OPTIONS = ('projection_heads', 'prior_weight')


@dataclass
class GraphConfig(RunConfig):
    """Every setting of a graph-level run; field names are ``graphdim train``'s options."""
    MODEL_OPTIONS = {'infograph': INFOGRAPH_OPTIONS, 'mvgrl': MVGRL_OPTIONS}
    # Options shared with NodeConfig take their flag, choices and help from NodeConfig's
    # field in `graphdim train`; a help given here is the graph level's, shown beside it.
    model: str = option('infograph', 'infograph (default) or mvgrl (multi-view DIM: edges '
                                     'and diffusion views)', choices=('infograph', 'mvgrl'))
    dataset: str = 'MUTAG'
    root: Optional[str] = None
    hidden_channels: int = option(32, minimum=1)
    num_layers: int = option(5, minimum=1)
    estimator: str = 'jsd'
    diffusion: str = option('ppr', choices=DIFFUSIONS)
    alpha: float = option(0.2, above=0)
    diffusion_time: float = option(5.0, above=0)
    projection_heads: bool = option(True, "drop InfoGraph's residual MLP heads before the critic")
    prior_weight: float = option(0.0, 'weight of adversarial prior matching (default '
                                      '%(default)g: off; DIM/InfoGraph use 0.1)', minimum=0)
    # batch_size >= 2: the other graphs of a batch are the negatives.
    batch_size: int = option(128, 'graphs per batch, the others in the batch being the '
                                  'negatives (default %(default)s)', minimum=2)
    lr: float = option(0.001, above=0)
    weight_decay: float = 0.0
    epochs: int = option(20, minimum=1)
    patience: int = option(0, minimum=0)
    min_epochs: int = option(0, minimum=0)
    seeds: int = option(1, minimum=1)
    seed: int = 0
    device: str = 'auto'
    download: bool = True
    max_degree: int = option(MAX_DEGREE_FEATURE, 'cap of the one-hot degree features of '
                                                 'featureless graphs (default %(default)s)', minimum=1)
    folds: int = option(10, 'outer cross-validation folds (TU datasets; default %(default)s)', minimum=2)
    inner_folds: int = option(5, 'inner folds that choose C on the training folds (default '
                                 '%(default)s)', minimum=2)
    random_baseline: bool = option(False, 'also evaluate the random-init encoder (always done '
                                          'for OGB)')
    jobs: int = option(1, 'classifier fits run in parallel during cross-validation (default '
                          '%(default)s)', minimum=1)
    standardize: bool = option(True, "fit the probes on raw embeddings (InfoGraph's own "
                                     "evaluation), not standardised ones")


def build_graph_model(config: GraphConfig, in_channels: int) -> Union[InfoGraph, GraphMVGRL]:
    """The model a config describes (used for training and for reloading saved states)."""
    if config.model == 'mvgrl':
        return GraphMVGRL(in_channels, config.hidden_channels, config.num_layers,
                          config.estimator)
    return InfoGraph(in_channels, config.hidden_channels, config.num_layers,
                     estimator=config.estimator, projection_heads=config.projection_heads,
                     prior_weight=config.prior_weight)


def _evaluate(dataset: GraphDataset, embeddings, config: GraphConfig, seed: int):
    """Per-seed figures (percent for accuracies, [0, 1] for ROC-AUC)."""
    if dataset.split is not None:
        probe = ogb_probe(embeddings, dataset.labels, dataset.split, dataset.name,
                          standardize=config.standardize)
        return {'test_roc_auc': probe.test_roc_auc, 'valid_roc_auc': probe.valid_roc_auc,
                'probe': probe.chosen}
    result = {}
    for classifier, key in (('svm', 'test_acc'), ('logreg', 'logreg_acc')):
        cv = cross_validate(embeddings, dataset.labels, classifier, config.folds,
                            config.inner_folds, seed=seed, jobs=config.jobs,
                            standardize=config.standardize)
        result[key] = 100 * cv.mean
        result[f'{key}_folds'] = [100 * a for a in cv.fold_accuracies]
        result[f'{key}_inner'] = 100 * statistics.fmean(cv.inner_accuracies)
        result[f'{key}_chosen'] = cv.chosen
    result['val_acc'] = result.pop('test_acc_inner')  # inner CV: training folds only
    return result


def load_config_dataset(config: GraphConfig) -> GraphDataset:
    """The dataset a config names, each graph with its diffusion where the model reads one
    (computed once, not per seed)."""
    dataset = load_graph_dataset(config.dataset, config.root, config.download,
                                 config.max_degree)
    if config.model == 'mvgrl':
        view = DiffusionView(config.diffusion, config.alpha, config.diffusion_time)
        dataset = replace(dataset, graphs=[view(graph) for graph in dataset.graphs])
    return dataset


def training_loader(config: GraphConfig, dataset: GraphDataset) -> DataLoader:
    """Shuffled batches of ``config.batch_size`` graphs. A last batch of a single graph has
    no negatives, so it is dropped (it is reshuffled each epoch)."""
    return DataLoader(dataset.graphs, batch_size=config.batch_size, shuffle=True,
                      drop_last=len(dataset) % config.batch_size == 1)


def graph_embeddings(model: InfoGraph, dataset: GraphDataset, device=None):
    """Frozen embeddings of every graph of ``dataset``, one row per graph in dataset order."""
    return embed(model, DataLoader(dataset.graphs, batch_size=512, shuffle=False), device)


def run_graph_experiment(config: GraphConfig, progress: bool = True,
                         out_dir: Optional[str] = None,
                         overwrite: bool = False) -> Dict[str, Any]:
    """Train and evaluate once per seed; return the summary.

    With ``out_dir``: a :class:`~graphdim.runs.RunFolder` with ``config.json``,
    ``results.json``, ``labels.pt`` and per seed the model state, the embeddings (one row per
    graph, in dataset order) and the loss log. A folder holding another run is refused
    unless ``overwrite`` (:meth:`~graphdim.runs.RunFolder.begin`).
    """
    seeds = config.seed_list()
    device = resolve_device(config.device)
    if out_dir is not None:
        RunFolder(out_dir).begin('graph', asdict(config), overwrite=overwrite)
    dataset = load_config_dataset(config)
    folder = RunFolder(out_dir) if out_dir is not None else None
    if folder is not None:
        folder.write_labels(dataset.labels)
        folder.write_config('graph', asdict(config), seeds, in_channels=dataset.num_features)
    runs = [_train_and_evaluate(config, dataset, seed, device, progress, folder)
            for seed in seeds]
    summary = _summarize(dataset, config, seeds, runs, device)
    if folder is not None:
        folder.write_results(summary)
        summary['out_dir'] = str(out_dir)
    return summary


def _train_and_evaluate(config: GraphConfig, dataset: GraphDataset, seed: int, device,
                        progress: bool, folder: Optional[RunFolder]) -> Dict[str, Any]:
    """One seed (after the random-init encoder's figures where asked for, always on OGB):
    train, embed every graph, evaluate, save into ``folder``. Returns the seed's entry of the
    summary."""
    seed_everything(seed)
    model = build_graph_model(config, dataset.num_features).to(device)
    run = {'seed': seed}
    start = time.perf_counter()
    if config.random_baseline or dataset.split is not None:
        baseline = _evaluate(dataset, graph_embeddings(model, dataset, device), config, seed)
        run.update({f'random_init_{k}': v for k, v in baseline.items()
                    if k in ('test_acc', 'logreg_acc', 'test_roc_auc', 'valid_roc_auc')})
    train_start = time.perf_counter()
    history = fit(model, training_loader(config, dataset), epochs=config.epochs, lr=config.lr,
                  weight_decay=config.weight_decay, patience=config.patience,
                  min_epochs=config.min_epochs, device=device, progress=progress,
                  desc=f'{dataset.name} seed {seed}')
    train_seconds = time.perf_counter() - train_start
    embeddings = graph_embeddings(model, dataset, device)
    run.update(_evaluate(dataset, embeddings, config, seed))
    run.update({'epochs': history.epochs, 'best_epoch': history.best_epoch,
                'final_loss': history.best_loss, 'train_seconds': train_seconds,
                'seconds': time.perf_counter() - start,
                'epoch_seconds': history.epoch_seconds, 'losses': history.losses})
    if folder is not None:
        folder.write_seed(seed, model, history, config.lr, embeddings)
    return run


def _summarize(dataset: GraphDataset, config: GraphConfig, seeds, runs, device):
    summary = {'dataset': dataset.name, 'seeds': seeds, 'num_graphs': len(dataset),
               'num_features': dataset.num_features, 'num_classes': dataset.num_classes}
    if dataset.split is not None:
        summary['protocol'] = ('official scaffold split; probe (SVM or logistic regression, '
                               'C, scaling) chosen by valid ROC-AUC; OGB Evaluator')
        for key in ('test_roc_auc', 'valid_roc_auc', 'random_init_test_roc_auc'):
            summary[f'{key}_mean'], summary[f'{key}_std'] = mean_std(r[key] for r in runs)
    else:
        summary['protocol'] = (f'{config.folds}-fold stratified CV, C chosen by '
                               f'{config.inner_folds}-fold inner CV on the training folds; '
                               f'std over all folds of all seeds')
        for key in ('test_acc', 'logreg_acc'):
            folds = [a for r in runs for a in r[f'{key}_folds']]
            summary[f'{key}_mean'], summary[f'{key}_std'] = mean_std(folds)
            summary[f'{key}_seed_std'] = mean_std(r[key] for r in runs)[1]
        summary['val_acc_mean'] = mean_std(r['val_acc'] for r in runs)[0]
        if config.random_baseline:
            summary['random_init_test_acc_mean'] = mean_std(
                r['random_init_test_acc'] for r in runs)[0]
    summary.update({
        'epochs_mean': statistics.fmean(r['epochs'] for r in runs),
        'epoch_seconds_median': statistics.median(s for r in runs for s in r['epoch_seconds']),
        'train_seconds_total': sum(r['train_seconds'] for r in runs),
        'seconds_total': sum(r['seconds'] for r in runs),
        'peak_rss_mb': peak_rss_mb(), 'device': str(device), 'torch_threads':
            torch.get_num_threads(), 'config': asdict(config), 'versions': package_versions(),
        'runs': [{k: v for k, v in r.items() if k not in ('epoch_seconds', 'losses')}
                 for r in runs]})
    return summary
