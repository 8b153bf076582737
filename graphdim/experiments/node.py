"""Node-level experiments: for each seed, train DIM, freeze the embeddings, probe them.

``run_node_experiment(NodeConfig(dataset='Cora', seeds=10))`` is what ``graphdim train`` runs;
its result dictionary is what the CLI prints and ``--json`` emits.
"""
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from ..data import NodeDataset, load_node_dataset, read_graph_file
from ..data.custom import FEATURE_FALLBACKS
from ..data.nodes import maybe_row_normalize
from ..data.ogb_nodes import ogb_accuracy
from ..estimators import MEASURES
from ..eval import linear_probe, public_split, random_split
from ..graph.checks import check_graph
from ..graph.corruptions import CORRUPTIONS
from ..graph.encoders import ACTIVATIONS, ENCODERS
from ..graph.node import DeepGraphInfomax
from ..graph.readouts import READOUTS
from ..runtime import (atomic_save, atomic_write_text, package_versions, peak_rss_mb,
                      seed_everything)
from ..logs import write_epoch_log, write_tensorboard
from ..train import fit
from .scaling import (check_resume, check_scaling_options, node_embeddings, start_distributed,
                      stop_distributed, training_inputs, wait_for_rank_zero)
from .config import RunConfig, mean_std, option


@dataclass
class NodeConfig(RunConfig):
    """Every setting of a node-level run; the defaults are DGI's transductive recipe."""
    dataset: str = option('karate', '%(default)s (built in, default), Cora, CiteSeer, PubMed, '
                               'amazon-photo, amazon-computers, coauthor-cs, coauthor-physics')
    root: Optional[str] = option(None, 'local data root laid out as planetoid/Cora/raw/... '
                                       '(default: $GRAPHDIM_DATA, else download)')
    encoder: str = option('gcn', choices=ENCODERS)
    hidden_channels: int = option(512, 'embedding size (default %(default)s)', flag='--hidden')
    num_layers: int = option(1, flag='--layers')
    activation: str = option('prelu', choices=ACTIVATIONS)
    readout: str = option('sigmoid_mean', choices=READOUTS)
    corruption: str = option('row_shuffle', choices=CORRUPTIONS)
    corruption_p: float = option(0.2, 'drop / mask probability for edge_drop and feature_mask')
    estimator: str = option('bce', choices=MEASURES)
    lr: float = 0.001
    weight_decay: float = 0.0
    epochs: int = option(1000, 'maximum epochs')
    patience: int = option(20, 'early-stopping patience on the training loss (0: off)')
    min_epochs: int = option(50, 'no early stop before this epoch')
    seeds: int = option(1, 'number of seeds')
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
                                '(default): full-batch')
    num_neighbors: Optional[str] = option(
        None, "fan-outs per layer, e.g. 10,10: PyG's NeighborLoader (needs pyg-lib or "
              "torch-sparse); default: full neighbourhoods, no extension needed",
        metavar='F1,F2')
    inference_batch_size: int = option(8192, 'nodes per batch of the layer-wise whole-graph '
                                             'inference')
    distributed: bool = option(False, 'DistributedDataParallel under torchrun (gloo on CPU, '
                                      'nccl on GPU)')
    checkpoint_every: int = option(0, 'save DIR/seed_<s>/checkpoint.pt every K epochs (needs '
                                      '--out)', metavar='K')
    resume: bool = option(False, 'continue the run in --out DIR from its checkpoints')


def build_node_model(config: NodeConfig, in_channels: int) -> DeepGraphInfomax:
    """The model a config describes (used for training and for reloading saved states)."""
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
    if config.normalize_features:
        data.x = maybe_row_normalize(data.x)
    num_classes = int(data.y.max()) + 1 if getattr(data, 'y', None) is not None else 0
    return NodeDataset(Path(config.graph).stem, data, num_classes, public_split=False)


def run_node_experiment(config: NodeConfig, progress: bool = True,
                        out_dir: Optional[str] = None, dataset: Optional[NodeDataset] = None,
                        tensorboard: bool = False) -> Dict[str, Any]:
    """Train and probe once per seed; return the summary (accuracies in percent).

    ``dataset`` overrides the graph the config names (e.g. ``NodeDataset('mine',
    from_networkx(g, label_attribute='club'), 2, False)``). A graph without labels is trained
    and embedded but not probed (its accuracies are None).

    With ``out_dir``: ``config.json`` (resolved config, seeds, versions), ``results.json``,
    and per seed ``seed_<s>/model.pt`` (state dict), ``seed_<s>/embeddings.pt`` and
    ``seed_<s>/log.jsonl`` (one JSON line per epoch); ``tensorboard=True`` also writes
    TensorBoard event files to ``tensorboard/seed_<s>``.
    """
    seeds = config.seed_list()
    check_scaling_options(config, out_dir)
    if config.resume:
        check_resume(config, out_dir)
    rank, world_size, device = start_distributed(config)
    progress = progress and rank == 0
    writer_dir, out_dir = out_dir, (out_dir if rank == 0 else None)
    wait_for_rank_zero(rank, world_size, before=True)  # one process writes the cache
    dataset = dataset if dataset is not None else load_config_graph(config)
    wait_for_rank_zero(rank, world_size, before=False)
    data = dataset.data
    labelled = getattr(data, 'y', None) is not None
    check_graph(data)
    if out_dir is not None:
        out = Path(out_dir)
        if labelled:
            atomic_save(data.y, out / 'labels.pt')
        atomic_write_text(json.dumps({'kind': 'node', 'config': asdict(config), 'seeds': seeds,
                                      'in_channels': data.num_features,
                                      'versions': package_versions()}, indent=2),
                          out / 'config.json')
    runs = []
    for seed in seeds:
        seed_everything(seed)
        model = build_node_model(config, data.num_features)
        trainee, train_data = training_inputs(config, model, data, seed, rank, world_size)
        checkpoint = Path(writer_dir) / f'seed_{seed}' / 'checkpoint.pt' if writer_dir else None
        start = time.perf_counter()
        history = fit(trainee, train_data, epochs=config.epochs, lr=config.lr,
                      weight_decay=config.weight_decay, patience=config.patience,
                      min_epochs=config.min_epochs, device=device, progress=progress,
                      desc=f'{dataset.name} seed {seed}', checkpoint=checkpoint,
                      checkpoint_every=config.checkpoint_every, resume=config.resume,
                      distributed=config.distributed)
        train_seconds = time.perf_counter() - start
        embeddings = node_embeddings(config, model, data, device, progress)
        split = (public_split(data) if dataset.public_split else random_split(data.y, seed)) \
            if labelled else None
        probe = linear_probe(embeddings, data.y, split, device=device) if labelled else None
        if probe is not None and dataset.name.startswith('ogbn-'):  # the official Evaluator
            probe.test_acc = ogb_accuracy(dataset.name, data.y[split.test], probe.test_pred)
        runs.append({'seed': seed, 'test_acc': 100 * probe.test_acc if probe else None,
                     'val_acc': 100 * probe.val_acc if probe else None,
                     'probe_c': probe.c if probe else None,
                     'probe_normalization': probe.normalization if probe else None,
                     'epochs': history.epochs, 'best_epoch': history.best_epoch,
                     'final_loss': history.best_loss, 'train_seconds': train_seconds,
                     'epoch_seconds': history.epoch_seconds, 'losses': history.losses,
                     'split': split.description if split else 'no labels: not probed',
                     'propagation': asdict(trainee.propagation) if trainee.propagation else None})
        if out_dir is not None:
            atomic_save(model.state_dict(), Path(out_dir) / f'seed_{seed}' / 'model.pt')
            atomic_save(embeddings, Path(out_dir) / f'seed_{seed}' / 'embeddings.pt')
            write_epoch_log(history, config.lr, Path(out_dir) / f'seed_{seed}' / 'log.jsonl')
            if tensorboard:
                write_tensorboard(history, config.lr, Path(out_dir) / 'tensorboard' / f'seed_{seed}')
    acc_mean, acc_std = mean_std([r['test_acc'] for r in runs]) if labelled else (None, None)
    summary = {
        'dataset': dataset.name, 'seeds': seeds, 'test_acc_mean': acc_mean,
        'test_acc_std': acc_std,
        'val_acc_mean': mean_std([r['val_acc'] for r in runs])[0] if labelled else None,
        'epochs_mean': statistics.fmean(r['epochs'] for r in runs),
        'epoch_seconds_median': statistics.median(
            s for r in runs for s in r['epoch_seconds']),
        'train_seconds_total': sum(r['train_seconds'] for r in runs),
        'peak_rss_mb': peak_rss_mb(), 'device': str(device),
        'split': 'public' if dataset.public_split else runs[0]['split'].replace(
            f", seed {seeds[0]}", ", seed = run seed"),
        'num_nodes': data.num_nodes, 'num_edges': data.num_edges,
        'rank': rank, 'world_size': world_size, 'propagation': runs[0]['propagation'],
        'config': asdict(config), 'versions': package_versions(),
        'runs': [{k: v for k, v in r.items() if k not in ('epoch_seconds', 'losses')}
                 for r in runs],
    }
    if out_dir is not None:
        atomic_write_text(json.dumps(summary, indent=2), Path(out_dir) / 'results.json')
        summary['out_dir'] = str(out_dir)
    stop_distributed(config)
    return summary
