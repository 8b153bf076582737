"""Node-level experiments: for each seed, train DIM, freeze the embeddings, probe them.

``run_node_experiment(NodeConfig(dataset='Cora', seeds=10))`` is what ``graphdim train`` runs;
its result dictionary is what ``--json`` emits (:func:`node_run_summary`: the same, typed, as
the CLI prints it; :mod:`graphdim.experiments.results`). The models come from the
registry (:mod:`graphdim.registry`); the run is the one skeleton
(:mod:`graphdim.experiments.skeleton`), with the graph, the probe and what differs past one
process (:mod:`graphdim.experiments.scaling`) supplied here.
"""
import copy
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from ..data import NodeDataset, load_node_dataset, read_graph_file
from ..data.custom import read_label_names
from ..data.nodes import can_row_normalize, maybe_row_normalize
from ..data.ogb_nodes import ogb_accuracy
from ..eval import choose_hops, public_split, random_split
from ..eval.splits import hide_test_labels
from ..eval.linear import AdamSchedule, probe_inputs
from ..eval.reinforced import MULTISCALE_HOPS, check_fold_count, training_free_probe
from ..graph.checks import GraphInputError, check_graph
from ..progress import showing, waiting
from ..registry import flat_options, model_entry
from ..train import fit
from .results import MeanStd, NodeScores, RunSummary, SeedResult
from .scaling import ScaledRun
from .node_config import NodeConfig
from .skeleton import Experiment, run_experiment


def build_node_model(config: NodeConfig, in_channels: int) -> torch.nn.Module:
    """The model a config describes (used for training and for reloading saved states)."""
    return config.build_model(in_channels)


def load_config_graph(config: NodeConfig) -> NodeDataset:
    """The graph a config names: a dataset by name, or ``config.graph``, a file of your own."""
    if config.graph is None:
        return load_node_dataset(config.dataset, config.root, config.download,
                                 config.normalize_features)
    data = read_graph_file(config.graph, config.features, config.labels,
                           missing_features=config.missing_features)
    normalized = config.normalize_features and can_row_normalize(data.x)
    if config.normalize_features:
        data.x = maybe_row_normalize(data.x)
    num_classes = int(data.y.max()) + 1 if getattr(data, 'y', None) is not None else 0
    return NodeDataset(Path(config.graph).stem, data, num_classes, public_split=False,
                       features_row_normalized=normalized)


def run_node_experiment(config: NodeConfig, progress: bool = True,
                        out_dir: Optional[str] = None, dataset: Optional[NodeDataset] = None,
                        tensorboard: bool = False, overwrite: bool = False) -> Dict[str, Any]:
    """Train and probe once per seed; return the summary (accuracies in percent).

    ``dataset`` overrides the graph the config names (e.g. ``NodeDataset('mine',
    from_networkx(g, label_attribute='club'), 2, False)``). A graph without labels is trained
    and embedded but not probed (its accuracies are None).

    With ``out_dir``: a :class:`~graphdim.runs.RunFolder` with ``config.json``,
    ``results.json``, ``labels.pt`` and per seed the model state, embeddings and loss log;
    ``tensorboard=True`` also writes TensorBoard event files. A folder holding another run is
    refused unless ``overwrite`` replaces it or ``config.resume`` continues it
    (:meth:`~graphdim.runs.RunFolder.begin`).
    """
    return node_run_summary(config, progress, out_dir, dataset, tensorboard,
                            overwrite).to_json()


def node_run_summary(config: NodeConfig, progress: bool = True,
                     out_dir: Optional[str] = None, dataset: Optional[NodeDataset] = None,
                     tensorboard: bool = False, overwrite: bool = False) -> RunSummary:
    """:func:`run_node_experiment`'s summary, typed (its ``to_json()`` is the dictionary)."""
    if (config.checkpoint_every or config.resume) and out_dir is None:
        raise ValueError("--checkpoint-every and --resume need --out DIR (checkpoints are "
                         "written to DIR/seed_<s>/checkpoint.pt)")
    return run_experiment(NodeExperiment(config, progress, dataset), out_dir, overwrite,
                          tensorboard)


class NodeExperiment(Experiment):
    """A node-level run: one graph, the public (or a seeded random) split, a linear probe."""
    kind = 'node'

    def __init__(self, config: NodeConfig, progress: bool = True,
                 dataset: Optional[NodeDataset] = None):
        super().__init__(config, progress)
        self.dataset = dataset
        self.entry = model_entry('node', config.model)

    def session(self):
        return ScaledRun.start(self)

    def load(self) -> None:
        with self.scaled.rank_zero_first():  # one process writes the dataset cache
            if self.dataset is None:
                self.dataset = load_config_graph(self.config)
        self.data = self.dataset.data
        check_graph(self.data)
        self.class_names = read_label_names(self.config.label_names, self.dataset.num_classes) \
            if self.config.label_names else None  # checked before the run folder is touched
        if self.data.num_nodes < 2:
            raise GraphInputError("node-level DIM needs at least 2 nodes (its negatives are "
                                  "the graph's nodes shuffled); this graph has 1")

    def check_inputs(self) -> None:
        """A labelled graph's probe, before training: the split of the first seed must give
        every split rows and the training rows two classes, and ``--hops-cv FOLDS`` at most
        as many folds as the largest class has training and validation rows. The sizes are every seed's (the
        random split takes the same share of each class whatever the seed)."""
        labels, folds = getattr(self.data, 'y', None), self.config.hops_cv
        if folds == 1:
            raise ValueError("--hops-cv must be 0 (choose on the validation split) or a "
                             "number of folds >= 2; got 1")
        if labels is None and self.config.choose_epoch == 'validation':
            raise ValueError("--choose-epoch validation scores the probe on validation labels; "
                             "this graph has none: give --labels FILE, or drop the option")
        if labels is None:
            return
        split = self.split(self.config.seed)
        try:
            with warnings.catch_warnings():  # the probe itself warns of unlabelled rows
                warnings.simplefilter('ignore')
                _, _, (train, val, _) = probe_inputs(torch.zeros(labels.numel(), 1), labels,
                                                     split)
        except ValueError as error:
            raise ValueError(f"the labels of {self.data_name()} cannot be probed "
                             f"({split.description} split): {error}") from None
        if folds:
            try:
                check_fold_count(labels[train | val], folds)
            except ValueError as error:
                raise ValueError(f"--hops-cv {folds} on {self.data_name()}: {error}") from None

    def data_name(self) -> str:
        config = self.config
        return self.dataset.name if self.dataset is not None else (
            Path(config.graph).name if config.graph else config.dataset)

    def header(self) -> str:
        config = self.config
        stops = (f", early stop after {config.patience} epochs without a lower loss"
                 if config.patience and config.epochs > max(config.min_epochs, config.patience)
                 else '')  # fit's condition: no line about a stop that cannot come
        hops = (f" | reinforcement K in {', '.join(map(str, config.hops))}"
                if tuple(config.hops) != (0, ) else '')
        # ' | ' parts: progress.fit_width packs them into lines of 100 columns
        return (f"graphdim: {self.entry.printed_name} on {self.data_name()} | device "
                f"{self.scaled.device} | {config.seeds} seed(s) | "
                f"{self.entry.recipe(flat_options(asdict(config)))}, lr {config.lr:g} | at most "
                f"{config.epochs} epochs{stops}{hops}")

    def baselines(self) -> str:  # none without labels: nothing to probe
        shown = super().baselines() if getattr(self.data, 'y', None) is not None else ''
        return f"{shown} and the training-free baseline" if shown else shown

    def seed_note(self, run: SeedResult) -> str:
        done = (f"{run.epochs} epochs (best {run.best_epoch}), "
                f"{run.train_seconds:.1f} s training")
        scores = run.scores
        if scores.test_acc is None:
            return f"  seed {run.seed}: {done}; no labels, not probed"
        hops = (f", K={scores.hops}{'' if scores.reinforcement == 'add' else ' A^K'}"
                if tuple(self.config.hops) != (0, ) else '')
        return (f"  seed {run.seed}: test {scores.test_acc:.2f} %, val "
                f"{scores.val_acc:.2f} %{hops}; {done}")

    def labels(self):
        return getattr(self.data, 'y', None)

    def input_size(self) -> Dict[str, int]:
        return {'in_channels': self.data.num_features}

    def build(self) -> torch.nn.Module:
        return self.config.build_model(self.data.num_features)

    def train(self, model, seed: int, checkpoint):
        config = self.config
        trainee, train_data = self.scaled.training_inputs(model, self.data, seed)
        history = fit(trainee, train_data, epochs=config.epochs, lr=config.lr,
                      weight_decay=config.weight_decay, patience=config.patience,
                      min_epochs=config.min_epochs, device=self.scaled.device,
                      progress=self.progress and self.rank == 0,
                      desc=f'{self.dataset.name} seed {seed}', checkpoint=checkpoint,
                      checkpoint_every=config.checkpoint_every, resume=config.resume,
                      distributed=config.distributed, checkpoint_config=asdict(config),
                      **({'select': lambda _: self.validation_accuracy(model, seed),
                          'select_every': config.validate_every}
                         if config.choose_epoch == 'validation' else {}))
        propagation = getattr(trainee, 'propagation', None)
        self.propagation = asdict(propagation) if propagation else None
        return history

    def validation_accuracy(self, model, seed: int) -> float:
        """``--choose-epoch validation``'s score: the probe's validation accuracy on
        ``model``'s embeddings (the run's hops, reinforcement, folds and C grid)."""
        config, split = self.config, self.split(seed)
        blind = copy.copy(self.data)  # shallow: only y is replaced, the test rows' hidden
        blind.y = hide_test_labels(self.data.y, split)
        embeddings = self.scaled.embeddings(model.to(self.scaled.device), blind, False)
        with showing(False), warnings.catch_warnings():  # the final probe shows and warns
            warnings.simplefilter('ignore')
            return choose_hops(embeddings, blind, split, config.hops, config.reinforcement,
                               self.scaled.device, config.hops_cv, config.probe_c,
                               self.adam).result.val_score

    @property
    def adam(self) -> Optional[AdamSchedule]:
        """The probe's Adam schedule (``--probe-optimizer adam``), else None: L-BFGS."""
        config = self.config
        return AdamSchedule(config.probe_lr, config.probe_epochs) \
            if config.probe_optimizer == 'adam' else None

    def embed(self, model) -> torch.Tensor:
        return self.scaled.embeddings(model.to(self.scaled.device), self.data,
                                      self.progress and self.rank == 0)

    def probe(self, embeddings, seed: int) -> NodeScores:
        """The logistic-regression probe's scores; none for a graph without labels."""
        data = self.data
        self.scored = None
        if getattr(data, 'y', None) is None:
            return NodeScores(split='no labels: not probed')
        split = self.split(seed)
        config, device = self.config, self.scaled.device
        chosen = choose_hops(embeddings, data, split, config.hops, config.reinforcement,
                             device, config.hops_cv,  # K without test labels; (0, ): plain
                             config.probe_c, self.adam)
        probe = chosen.result
        if self.dataset.name.startswith('ogbn-'):  # the official Evaluator
            probe.test_acc = ogb_accuracy(self.dataset.name, data.y[split.test],
                                          probe.test_pred)
        self.scored = chosen.embeddings if chosen.hops else None  # reinforced: kept too
        return NodeScores(probe, chosen.hops, chosen.mode, chosen.plain
                          if len(config.hops) > 1 else None,  # beside: no reinforcement
                          split.description, getattr(self, 'propagation', None))

    def scored_embeddings(self):
        return self.scored

    def split(self, seed: int):
        data = self.data
        return public_split(data) if self.dataset.public_split else random_split(data.y, seed)

    def random_init(self, model, seed: int) -> Dict[str, NodeScores]:
        """The untrained encoder's figures and, beside them, the training-free baseline's
        (``training_free``)."""
        if getattr(self.data, 'y', None) is None:
            return {}  # nothing to probe
        baselines = super().random_init(model, seed)
        if baselines:
            baselines['training_free'] = self.training_free(seed)
        return baselines

    def training_free(self, seed: int) -> NodeScores:
        """The training-free baseline (SGC's, S²GC's and GGCM's kind): the same probe
        (``--probe-c``, ``--probe-optimizer``) on the raw features ``X`` as the run
        normalises them, or on S²GC's multi-scale features
        :math:`\\alpha X + \\frac{1-\\alpha}{K}\\sum_{k=1}^{K} \\hat A^k X`, ``K`` in
        ``MULTISCALE_HOPS`` and ``alpha`` in ``MULTISCALE_ALPHAS``,
        the candidate chosen as the run chooses its own ``K`` (validation, or ``--hops-cv``
        folds), never on test labels (``graphdim.eval.reinforced.training_free_probe``).
        A public split's is computed once and kept for every seed."""
        split = self.split(seed)
        cached = getattr(self, '_training_free', None)
        if cached is None or cached[0] != split.description:  # the public split: once
            # Under 100 columns with its timer (' ... 00:12'): alpha's grid is in the docs.
            with waiting(f"seed {seed}: training-free baseline (raw features, multi-scale, "
                         f"K = {', '.join(map(str, MULTISCALE_HOPS))})"):
                chosen = training_free_probe(self.data, split, self.scaled.device,
                                             self.config.hops_cv, self.config.probe_c,
                                             adam=self.adam)
            cached = self._training_free = (split.description, NodeScores(
                chosen.result, chosen.hops, chosen.mode, alpha=chosen.alpha))
        return cached[1]

    def summarize(self, seeds, runs) -> RunSummary:
        data, dataset = self.data, self.dataset
        labelled = getattr(data, 'y', None) is not None
        trained = {'test_acc': MeanStd.of(r.scores.test_acc for r in runs) if labelled
                   else MeanStd(None, None),
                   'val_acc': MeanStd.mean_of(r.scores.val_acc for r in runs) if labelled
                   else MeanStd(None, parts=('mean', ))}
        figures = {'': trained, **{name: {'test_acc': MeanStd.of(
            r.baselines[name].test_acc for r in runs)} for name in runs[0].baselines}}
        for whose, scores in (('', runs[0].scores), *runs[0].baselines.items()):
            if scores.plain is not None:  # several K: the plain embeddings' figure beside
                figures[whose]['plain_test_acc'] = MeanStd.of(
                    (r.baselines[whose] if whose else r.scores).plain_test_acc for r in runs)
        facts = {
            'device': str(self.scaled.device),
            'split': 'public' if dataset.public_split else runs[0].scores.split.replace(
                f", seed {seeds[0]}", ", seed = run seed"),
            'num_nodes': data.num_nodes, 'num_edges': data.num_edges,
            'rank': self.scaled.rank, 'world_size': self.scaled.world_size,
            'propagation': self.propagation,
            # normalize_features asks; non-negative features are what it applies to.
            'features_row_normalized': dataset.features_row_normalized}
        if self.class_names:  # --label-names: what graphdim plot's legends show
            facts['class_names'] = self.class_names
        return RunSummary('node', dataset.name, seeds, figures, facts=facts)
