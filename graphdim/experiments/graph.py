"""Graph-level experiments: for each seed, train a graph-level model (graphdim.registry), freeze
graph embeddings, evaluate.

``run_graph_experiment(GraphConfig(dataset='MUTAG', seeds=5))`` is what
``graphdim train --level graph`` runs; its result dictionary is what ``--json`` emits
(:func:`graph_run_summary`: the same, typed, as the CLI prints it). TU datasets: 10-fold CV
accuracy of an SVM (the headline, as in the graph DIM papers) and of logistic regression,
``C`` chosen by inner CV on the training folds. OGB datasets:
ROC-AUC on the official scaffold split, probe chosen on valid, with the random-init encoder's
ROC-AUC beside it.
"""
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

import torch
from torch_geometric.loader import DataLoader

from ..data.custom import MAX_DEGREE_FEATURE, degree_features
from ..data.graphs import OGB_DATASETS, TU_DATASETS, GraphDataset, load_graph_dataset
from ..eval import cross_validate, ogb_probe
from ..graph import models as _models  # noqa: F401  (registers the models)
from ..registry import flat_options, model_entry, model_names
from ..runtime import resolve_device
from ..train import embed, fit
from .config import (OPTIMIZER_RATE_MAX, SEED_MAX, ModelChoices, RunConfig,
                     model_options_field, option)
from .results import GraphScores, MeanStd, RunSummary, SeedResult
from .skeleton import Experiment, run_experiment


@dataclass
class GraphConfig(RunConfig):
    """Every setting of a graph-level run; field names are ``graphdim train``'s options. The
    model's own options are ``model_options`` (as :class:`~graphdim.NodeConfig`'s)."""
    LEVEL = 'graph'
    MODEL_ARGUMENTS = ('hidden_channels', 'num_layers', 'estimator')
    # Options shared with NodeConfig take their flag, choices and help from NodeConfig's
    # field in `graphdim train`; a help given here is the graph level's, shown beside it.
    model: str = option(model_names('graph')[0], 'the graph-level model (graphdim.registry)',
                        choices=ModelChoices('graph'))
    model_options: Any = model_options_field()
    dataset: str = option('MUTAG', f"a TU dataset ({', '.join(TU_DATASETS)}; default "
                                   f"%(default)s) or an OGB one ({', '.join(OGB_DATASETS)})")
    root: Optional[str] = None
    hidden_channels: int = option(32, minimum=1)
    num_layers: int = option(5, minimum=1)
    estimator: str = 'jsd'
    # batch_size >= 2: the other graphs of a batch are the negatives.
    batch_size: int = option(128, 'graphs per batch, the others in the batch being the '
                                  'negatives (default %(default)s)', minimum=2)
    lr: float = option(0.001, above=0, maximum=OPTIMIZER_RATE_MAX)
    weight_decay: float = option(0.0, minimum=0, maximum=OPTIMIZER_RATE_MAX)
    epochs: int = option(20, minimum=1)
    patience: int = option(0, minimum=0)
    min_epochs: int = option(0, minimum=0)
    seeds: int = option(1, minimum=1)
    seed: int = option(0, maximum=SEED_MAX)
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
    standardize: bool = option(True, "fit the probes on raw embeddings (the graph DIM "
                                     "papers' evaluation), not standardised ones")


def check_folds(labels: torch.Tensor, folds: int, inner_folds: int, name: str) -> None:
    """Stratified ``folds``-fold CV needs every class in every fold, and the inner
    ``inner_folds``-fold CV every class in every inner fold of each outer training part:
    a ValueError naming the option and the range the classes allow otherwise."""
    counts = torch.bincount(labels.view(-1))
    smallest = int(counts[counts > 0].min()) if int(counts.count_nonzero()) > 1 else 0
    if smallest < 2:
        raise ValueError(f"{name} needs at least two classes of at least 2 graphs each to be "
                         f"cross-validated; its classes hold {counts.tolist()} graphs")
    if folds > smallest:
        raise ValueError(f"--folds {folds}: stratified cross-validation puts every class in "
                         f"every fold; the smallest class of {name} holds {smallest} graphs: "
                         f"use --folds 2 to {smallest}")
    trained = smallest - -(-smallest // folds)  # of the smallest class, in each training part
    if inner_folds > trained:
        raise ValueError(f"--inner-folds {inner_folds}: the inner cross-validation splits each "
                         f"outer training part, which holds {trained} graphs of the smallest "
                         f"class of {name} (--folds {folds}): use --inner-folds 2 to "
                         f"{max(trained, 2)}" + (" and fewer --folds" if trained < 2 else ""))


def _has_degree_features(dataset: GraphDataset, max_degree: int) -> bool:
    """Whether ``dataset``'s node features are the one-hot degrees capped at ``max_degree``
    that a dataset without node features gets."""
    return dataset.num_features == max_degree + 1 and all(
        torch.equal(graph.x, degree_features(graph.edge_index, graph.num_nodes, max_degree))
        for graph in dataset.graphs)


def build_graph_model(config: GraphConfig, in_channels: int) -> torch.nn.Module:
    """The model a config describes (used for training and for reloading saved states)."""
    return config.build_model(in_channels)


def _evaluate(dataset: GraphDataset, embeddings, config: GraphConfig, seed: int,
              label: str = '') -> GraphScores:
    """The seed's scores: the OGB probe, or the SVM's and the logistic regression's nested
    cross-validations; ``label`` names the progress line of each fold as it ends."""
    if dataset.split is not None:
        return GraphScores(ogb=ogb_probe(embeddings, dataset.labels, dataset.split,
                                         dataset.name, standardize=config.standardize))
    svm, logreg = (cross_validate(embeddings, dataset.labels, classifier, config.folds,
                                  config.inner_folds, seed=seed, jobs=config.jobs,
                                  standardize=config.standardize, label=label)
                   for classifier in ('svm', 'logreg'))
    return GraphScores(svm=svm, logreg=logreg)


def load_config_dataset(config: GraphConfig) -> GraphDataset:
    """The dataset a config names, with what the model needs added to every graph (its
    registry entry's ``prepare``; computed once, not per seed)."""
    dataset = load_graph_dataset(config.dataset, config.root, config.download,
                                 config.max_degree)
    prepare = model_entry('graph', config.model).prepare
    return prepare(config.model_options, dataset) if prepare is not None else dataset


def training_loader(config: GraphConfig, dataset: GraphDataset) -> DataLoader:
    """Shuffled batches of ``config.batch_size`` graphs. A last batch of a single graph has
    no negatives, so it is dropped (it is reshuffled each epoch)."""
    return DataLoader(dataset.graphs, batch_size=config.batch_size, shuffle=True,
                      drop_last=len(dataset) % config.batch_size == 1)


def graph_embeddings(model: torch.nn.Module, dataset: GraphDataset, device=None):
    """Frozen embeddings of every graph of ``dataset``, one row per graph in dataset order."""
    return embed(model, DataLoader(dataset.graphs, batch_size=512, shuffle=False), device)


def run_graph_experiment(config: GraphConfig, progress: bool = True,
                         out_dir: Optional[str] = None,
                         overwrite: bool = False) -> Dict[str, Any]:
    """Train and evaluate once per seed; return the summary (``graph_run_summary``'s, typed,
    as a dictionary: its ``to_json()``).

    With ``out_dir``: a :class:`~graphdim.runs.RunFolder` with ``config.json``,
    ``results.json``, ``labels.pt`` and per seed the model state, the embeddings (one row per
    graph, in dataset order) and the loss log. A folder holding another run is refused
    unless ``overwrite`` (:meth:`~graphdim.runs.RunFolder.begin`).
    """
    return graph_run_summary(config, progress, out_dir, overwrite).to_json()


def graph_run_summary(config: GraphConfig, progress: bool = True,
                      out_dir: Optional[str] = None, overwrite: bool = False) -> RunSummary:
    """:func:`run_graph_experiment`'s summary, typed."""
    return run_experiment(GraphExperiment(config, progress), out_dir, overwrite)


class GraphExperiment(Experiment):
    """A graph-level run: TU datasets by nested cross-validation, OGB by its scaffold split
    (where the random-init encoder's figures are always given)."""
    kind = 'graph'

    def __init__(self, config: GraphConfig, progress: bool = True):
        super().__init__(config, progress)
        self.entry = model_entry('graph', config.model)
        self.device = resolve_device(config.device)

    def load(self) -> None:
        self.dataset = load_config_dataset(self.config)

    def check_inputs(self) -> None:
        """``--max-degree`` only where it acts (a dataset without node features); the folds
        against the class sizes (TU datasets), before anything is trained or written."""
        config, dataset = self.config, self.dataset
        if config.max_degree != MAX_DEGREE_FEATURE and \
                not _has_degree_features(dataset, config.max_degree):
            raise ValueError(f"--max-degree caps the one-hot degree features of graphs without "
                             f"node features; {dataset.name} has its own "
                             f"({dataset.num_features} per node): drop --max-degree")
        if dataset.split is None:
            check_folds(dataset.labels, config.folds, config.inner_folds, dataset.name)

    def header(self) -> str:
        config = self.config
        protocol = (f"{config.folds}-fold CV" if not config.dataset.startswith('ogbg-')
                    else 'scaffold split')
        # ' | ' parts: progress.fit_width packs them into lines of 100 columns
        return (f"graphdim: {self.entry.printed_name} on {config.dataset} (graph level) | "
                f"device {self.device} | {config.seeds} seed(s), {protocol} | "
                f"{self.entry.recipe(flat_options(asdict(config)))}, {config.estimator} | batch "
                f"{config.batch_size}, lr {config.lr:g}, {config.epochs} epochs")

    def seed_note(self, run: SeedResult) -> str:
        done, scores = f"{run.epochs} epochs, {run.seconds:.1f} s", run.scores
        if scores.ogb is not None:
            return (f"  seed {run.seed}: test ROC-AUC {scores.test_roc_auc:.4f}, valid "
                    f"{scores.valid_roc_auc:.4f}; {done}")
        return (f"  seed {run.seed}: SVM {scores.test_acc:.2f} %, logistic regression "
                f"{scores.logreg_acc:.2f} % (mean of {len(scores.svm.folds)} folds); "
                f"{done}")

    def labels(self):
        return self.dataset.labels

    def input_size(self) -> Dict[str, int]:
        return {'in_channels': self.dataset.num_features}

    def build(self) -> torch.nn.Module:
        return self.config.build_model(self.dataset.num_features).to(self.device)

    def baselines(self) -> str:  # an OGB dataset's untrained encoder is always evaluated
        return 'the untrained encoder' \
            if self.config.random_baseline or self.dataset.split is not None else ''

    def random_init(self, model, seed: int) -> Dict[str, GraphScores]:
        if not (self.config.random_baseline or self.dataset.split is not None):
            return {}
        return {'random_init': _evaluate(self.dataset, self.embed(model), self.config, seed,
                                         f"seed {seed} random init")}

    def train(self, model, seed: int, checkpoint):
        config = self.config
        return fit(model, training_loader(config, self.dataset), epochs=config.epochs,
                   lr=config.lr, weight_decay=config.weight_decay, patience=config.patience,
                   min_epochs=config.min_epochs, device=self.device, progress=self.progress,
                   desc=f'{self.dataset.name} seed {seed}')

    def embed(self, model) -> torch.Tensor:
        return graph_embeddings(model, self.dataset, self.device)

    def probe(self, embeddings, seed: int) -> GraphScores:
        return _evaluate(self.dataset, embeddings, self.config, seed, f"seed {seed}")

    def summarize(self, seeds, runs) -> RunSummary:
        return _summarize(self.dataset, self.config, seeds, runs, self.device)


def _summarize(dataset: GraphDataset, config: GraphConfig, seeds, runs: List[SeedResult],
               device) -> RunSummary:
    facts = {'num_graphs': len(dataset), 'num_features': dataset.num_features,
             'num_classes': dataset.num_classes}
    trained, baseline = {}, {}
    if dataset.split is not None:
        facts['protocol'] = ('official scaffold split; probe (SVM or logistic regression, '
                             'C, scaling) chosen by valid ROC-AUC; OGB Evaluator')
        trained = {'test_roc_auc': MeanStd.of(r.scores.test_roc_auc for r in runs),
                   'valid_roc_auc': MeanStd.of(r.scores.valid_roc_auc for r in runs)}
        baseline = {'test_roc_auc': MeanStd.of(r.baselines['random_init'].test_roc_auc
                                               for r in runs)}
    else:
        facts['protocol'] = (f'{config.folds}-fold stratified CV, C chosen by '
                             f'{config.inner_folds}-fold inner CV on the training folds; '
                             f'std over all folds of all seeds')
        for name, cv in (('test_acc', lambda s: s.svm), ('logreg_acc', lambda s: s.logreg)):
            folds = [100 * a for r in runs for a in cv(r.scores).fold_accuracies]
            trained[name] = MeanStd.of(folds, seed_std=MeanStd.of(
                100 * cv(r.scores).test_score for r in runs).std)
        trained['val_acc'] = MeanStd.mean_of(r.scores.val_acc for r in runs)
        if config.random_baseline:
            baseline = {'test_acc': MeanStd.mean_of(r.baselines['random_init'].test_acc
                                                    for r in runs)}
    facts['device'] = str(device)
    figures = {'': trained, **({'random_init': baseline} if baseline else {})}
    return RunSummary('graph', dataset.name, seeds, figures, facts=facts)
