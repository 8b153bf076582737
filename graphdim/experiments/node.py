"""Node-level experiments: for each seed, train DIM, freeze the embeddings, probe them.

``run_node_experiment(NodeConfig(dataset='Cora', seeds=10))`` is what ``graphdim train`` runs;
its result dictionary is what the CLI prints and ``--json`` emits.
"""
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

from ..data import NodeDataset, load_node_dataset, read_graph_file
from ..data.custom import FEATURE_FALLBACKS
from ..data.nodes import can_row_normalize, maybe_row_normalize
from ..data.ogb_nodes import ogb_accuracy
from ..estimators import MEASURES
from ..eval import linear_probe, public_split, random_split
from ..graph.checks import GraphInputError, check_graph
from ..graph.corruptions import CORRUPTIONS
from ..graph.diffusion import DIFFUSIONS
from ..graph.encoders import ACTIVATIONS, ENCODERS
from ..graph.multiview import MVGRL
from ..graph.node import DeepGraphInfomax
from ..graph.readouts import READOUTS
from ..logs import write_tensorboard
from ..runs import RunFolder
from ..runtime import package_versions, peak_rss_mb, seed_everything
from ..train import fit
from .scaling import ScaledRun
from .config import RunConfig, mean_std, option


# The options only one model reads; set for another model,
# they are an error (RunConfig.MODEL_OPTIONS).
MVGRL_OPTIONS = ('diffusion', 'alpha', 'diffusion_time', 'top_k', 'sample_size', 'subgraphs')
DGI_OPTIONS = ('encoder', 'readout', 'corruption', 'corruption_p')


@dataclass
class NodeConfig(RunConfig):
    """Every setting of a node-level run; the defaults are DGI's transductive recipe."""
    MODEL_OPTIONS = {'dgi': DGI_OPTIONS, 'mvgrl': MVGRL_OPTIONS}
    model: str = option('dgi', "dgi (Deep Graph Infomax, default) or mvgrl (multi-view DIM: "
                               "adjacency and diffusion views)", choices=('dgi', 'mvgrl'))
    dataset: str = option('karate', '%(default)s (built in, default), Cora, CiteSeer, PubMed, '
                               'amazon-photo, amazon-computers, coauthor-cs, coauthor-physics')
    root: Optional[str] = option(None, 'local data root laid out as planetoid/Cora/raw/... '
                                       '(default: $GRAPHDIM_DATA, else download)')
    encoder: str = option('gcn', choices=ENCODERS)
    hidden_channels: int = option(512, 'embedding size (default %(default)s)', flag='--hidden', minimum=1)
    num_layers: int = option(1, flag='--layers', minimum=1)
    activation: str = option('prelu', choices=ACTIVATIONS)
    readout: str = option('sigmoid_mean', choices=READOUTS)
    corruption: str = option('row_shuffle', choices=CORRUPTIONS)
    corruption_p: float = option(0.2, 'drop / mask probability for edge_drop and feature_mask', minimum=0)
    estimator: str = option('bce', choices=MEASURES)
    # Multi-view DIM's second view (graphdim.graph.diffusion); shared with the graph level.
    diffusion: str = option('ppr', 'mvgrl: the diffusion view, personalised PageRank or heat '
                                   'kernel (default %(default)s)', choices=DIFFUSIONS)
    alpha: float = option(0.2, "mvgrl: ppr's teleport probability (default %(default)g)",
                          above=0)
    diffusion_time: float = option(5.0, "mvgrl: the heat kernel's t (default %(default)g)",
                                   above=0)
    top_k: int = option(128, 'mvgrl: diffusion entries kept per node (default %(default)s)',
                        minimum=1)
    sample_size: int = option(0, 'mvgrl: train on random subgraphs of this many nodes (the '
                                 "paper's 2000 on large graphs); 0 (default): the whole graph",
                              minimum=0)
    subgraphs: int = option(4, 'mvgrl: subgraphs per step with --sample-size (default '
                               '%(default)s)', minimum=1)
    lr: float = option(0.001, above=0)
    weight_decay: float = option(0.0, minimum=0)
    epochs: int = option(1000, 'maximum epochs', minimum=1)
    patience: int = option(20, 'early-stopping patience on the training loss (0: off)', minimum=0)
    min_epochs: int = option(50, 'no early stop before this epoch', minimum=0)
    seeds: int = option(1, 'number of seeds', minimum=1)
    random_baseline: bool = option(False, 'also probe the same encoder untrained (random '
                                          'init), beside every trained figure')
    seed: int = option(0, 'first seed')
    device: str = option('auto', 'cpu, cuda, cuda:1, or auto (default)')
    normalize_features: bool = option(True, 'keep raw features (default: row-normalise)')
    download: bool = option(True, 'fail instead of downloading a missing dataset')
    # Your own graph instead of a named dataset (see graphdim.data.custom).
    graph: Optional[str] = option(None, 'your own graph instead of --dataset: an edge list '
                                        '(u v [weight] per line) or a .graphml/.gml file',
                                  metavar='FILE')
    features: Optional[str] = option(None, 'feature matrix for --graph (.npy/.pt/.csv/text; '
                                           'row i = node i)', metavar='FILE')
    labels: Optional[str] = option(None, 'labels for --graph (one integer per node); without '
                                         'them the graph is trained and embedded but not probed',
                                   metavar='FILE')
    missing_features: Optional[str] = option(None, 'features for a graph that has none',
                                             choices=FEATURE_FALLBACKS)
    # Past one machine (graphdim.experiments.scaling): 0 = full-batch.
    batch_size: int = option(0, 'seed nodes per mini-batch (per process), %(default)s '
                                '(default): full-batch', minimum=0)
    num_neighbors: Optional[str] = option(
        None, "fan-outs per layer, e.g. 10,10: PyG's NeighborLoader (needs pyg-lib or "
              "torch-sparse); default: full neighbourhoods, no extension needed",
        metavar='F1,F2')
    inference_batch_size: int = option(8192, 'nodes per batch of the layer-wise whole-graph '
                                             'inference', minimum=1)
    distributed: bool = option(False, 'DistributedDataParallel under torchrun (gloo on CPU, '
                                      'nccl on GPU)')
    checkpoint_every: int = option(0, 'save DIR/seed_<s>/checkpoint.pt every K epochs (needs '
                                      '--out)', metavar='K', minimum=0)
    resume: bool = option(False, 'continue the run in --out DIR from its checkpoints')


def build_node_model(config: NodeConfig, in_channels: int) -> Union[DeepGraphInfomax, MVGRL]:
    """The model a config describes (used for training and for reloading saved states)."""
    if config.model == 'mvgrl':
        return MVGRL(in_channels, config.hidden_channels, config.num_layers, config.activation,
                     config.estimator, config.diffusion, config.alpha, config.diffusion_time,
                     config.top_k, config.sample_size, config.subgraphs)
    return DeepGraphInfomax.from_options(
        in_channels, config.hidden_channels, encoder=config.encoder,
        num_layers=config.num_layers, activation=config.activation, summary=config.readout,
        corruption=config.corruption, estimator=config.estimator,
        corruption_p=config.corruption_p)


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
    refused unless ``overwrite`` clears it or ``config.resume`` continues it
    (:meth:`~graphdim.runs.RunFolder.begin`).
    """
    seeds = config.seed_list()
    with ScaledRun.start(config, out_dir, overwrite) as scaled:
        with scaled.rank_zero_first():  # one process writes the dataset cache
            dataset = dataset if dataset is not None else load_config_graph(config)
        check_graph(dataset.data)
        if dataset.data.num_nodes < 2:
            raise GraphInputError("node-level DIM needs at least 2 nodes (its negatives are "
                                  "the graph's nodes shuffled); this graph has 1")
        # Every process reads its checkpoints; rank 0 alone writes the run folder.
        checkpoints = RunFolder(out_dir) if out_dir is not None else None
        folder = checkpoints if scaled.rank == 0 else None
        if folder is not None:
            _write_inputs(folder, config, seeds, dataset.data)
        runs = [_train_and_probe(config, dataset, seed, scaled, progress and scaled.rank == 0,
                                 checkpoints, folder, tensorboard) for seed in seeds]
        summary = _summarize(config, dataset, seeds, runs, scaled)
        if folder is not None:
            folder.write_results(summary)
            summary['out_dir'] = str(out_dir)
    return summary


def _write_inputs(folder: RunFolder, config: NodeConfig, seeds, data) -> None:
    if getattr(data, 'y', None) is not None:
        folder.write_labels(data.y)
    folder.write_config('node', asdict(config), seeds, in_channels=data.num_features)


def _train_and_probe(config: NodeConfig, dataset: NodeDataset, seed: int, scaled: ScaledRun,
                     progress: bool, checkpoints: Optional[RunFolder],
                     folder: Optional[RunFolder], tensorboard: bool) -> Dict[str, Any]:
    """One seed: train (checkpoints in ``checkpoints``), embed every node, probe, save into
    ``folder``. Returns the seed's entry of the summary."""
    data = dataset.data
    seed_everything(seed)
    model = build_node_model(config, data.num_features)
    baseline = _random_init_figures(config, dataset, model, seed, scaled) \
        if config.random_baseline else {}
    trainee, train_data = scaled.training_inputs(model, data, seed)
    start = time.perf_counter()
    history = fit(trainee, train_data, epochs=config.epochs, lr=config.lr,
                  weight_decay=config.weight_decay, patience=config.patience,
                  min_epochs=config.min_epochs, device=scaled.device, progress=progress,
                  desc=f'{dataset.name} seed {seed}',
                  checkpoint=checkpoints.checkpoint_path(seed) if checkpoints else None,
                  checkpoint_every=config.checkpoint_every, resume=config.resume,
                  distributed=config.distributed, checkpoint_config=asdict(config))
    train_seconds = time.perf_counter() - start
    embeddings = scaled.embeddings(model, data, progress)
    split, probe = _probe(dataset, embeddings, seed, scaled.device)
    run = {'seed': seed, 'test_acc': 100 * probe.test_acc if probe else None,
           'val_acc': 100 * probe.val_acc if probe else None,
           'probe_c': probe.c if probe else None,
           'probe_normalization': probe.normalization if probe else None,
           'epochs': history.epochs, 'best_epoch': history.best_epoch,
           'final_loss': history.best_loss, 'train_seconds': train_seconds,
           'epoch_seconds': history.epoch_seconds, 'losses': history.losses,
           'split': split.description if split else 'no labels: not probed',
           'propagation': asdict(trainee.propagation) if trainee.propagation else None,
           **baseline}
    if folder is not None:
        folder.write_seed(seed, model, history, config.lr, embeddings)
        if tensorboard:
            write_tensorboard(history, config.lr, folder.tensorboard_dir(seed))
    return run


def _random_init_figures(config: NodeConfig, dataset: NodeDataset, model, seed: int,
                         scaled: ScaledRun) -> Dict[str, Any]:
    """The untrained encoder's probe figures; the RNG is left as it was, so the trained run
    is the same with or without them."""
    with torch.random.fork_rng(devices=[]):
        _, probe = _probe(dataset, scaled.embeddings(model.to(scaled.device), dataset.data,
                                                     False), seed, scaled.device)
    if probe is None:
        return {}
    return {'random_init_test_acc': 100 * probe.test_acc,
            'random_init_val_acc': 100 * probe.val_acc}


def _probe(dataset: NodeDataset, embeddings, seed: int, device):
    """``(split, probe result)`` of the logistic-regression probe; ``(None, None)`` for a
    graph without labels."""
    data = dataset.data
    if getattr(data, 'y', None) is None:
        return None, None
    split = public_split(data) if dataset.public_split else random_split(data.y, seed)
    probe = linear_probe(embeddings, data.y, split, device=device)
    if dataset.name.startswith('ogbn-'):  # the official Evaluator
        probe.test_acc = ogb_accuracy(dataset.name, data.y[split.test], probe.test_pred)
    return split, probe


def _random_init_summary(runs) -> Dict[str, float]:
    if 'random_init_test_acc' not in runs[0]:
        return {}
    mean, std = mean_std(r['random_init_test_acc'] for r in runs)
    return {'random_init_test_acc_mean': mean, 'random_init_test_acc_std': std}


def _summarize(config: NodeConfig, dataset: NodeDataset, seeds, runs, scaled: ScaledRun):
    data = dataset.data
    labelled = getattr(data, 'y', None) is not None
    acc_mean, acc_std = mean_std([r['test_acc'] for r in runs]) if labelled else (None, None)
    return {
        'dataset': dataset.name, 'seeds': seeds, 'test_acc_mean': acc_mean,
        'test_acc_std': acc_std,
        'val_acc_mean': mean_std([r['val_acc'] for r in runs])[0] if labelled else None,
        **_random_init_summary(runs),
        'epochs_mean': statistics.fmean(r['epochs'] for r in runs),
        'epoch_seconds_median': statistics.median(
            s for r in runs for s in r['epoch_seconds']),
        'train_seconds_total': sum(r['train_seconds'] for r in runs),
        'peak_rss_mb': peak_rss_mb(), 'device': str(scaled.device),
        'split': 'public' if dataset.public_split else runs[0]['split'].replace(
            f", seed {seeds[0]}", ", seed = run seed"),
        'num_nodes': data.num_nodes, 'num_edges': data.num_edges,
        'rank': scaled.rank, 'world_size': scaled.world_size,
        'propagation': runs[0]['propagation'],
        # normalize_features asks; non-negative features are what it applies to.
        'features_row_normalized': dataset.features_row_normalized,
        'config': asdict(config), 'versions': package_versions(),
        'runs': [{k: v for k, v in r.items() if k not in ('epoch_seconds', 'losses')}
                 for r in runs],
    }
