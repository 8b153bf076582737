"""``graphdim train``: train DIM on a graph, probe the embeddings, print a summary."""
import json
from dataclasses import fields

from ..data.custom import FEATURE_FALLBACKS
from ..estimators import MEASURES
from ..experiments import NodeConfig, run_node_experiment
from ..graph.corruptions import CORRUPTIONS
from ..graph.encoders import ACTIVATIONS, ENCODERS
from ..graph.readouts import READOUTS
from .common import add_config_options
from .train_graph import (add_graph_level_options, reject_graph_only_options, run_graph_level,
                          unmarked)

_DEFAULTS = {f.name: f.default for f in fields(NodeConfig)}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'train', help='train node-level DIM (DGI) and probe the embeddings',
        description='Train Deep Graph Infomax on a graph, then fit a logistic-regression probe '
                    'on the frozen embeddings (penalty chosen on the validation split).')
    p.add_argument('--dataset', default=_DEFAULTS['dataset'],
                   help='karate (built in, default), Cora, CiteSeer, PubMed, amazon-photo, '
                        'amazon-computers, coauthor-cs, coauthor-physics')
    p.add_argument('--graph', default=None, metavar='FILE',
                   help='your own graph instead of --dataset: an edge list (u v [weight] per '
                        'line) or a .graphml/.gml file')
    p.add_argument('--features', default=None, metavar='FILE',
                   help='feature matrix for --graph (.npy/.pt/.csv/text; row i = node i)')
    p.add_argument('--labels', default=None, metavar='FILE',
                   help='labels for --graph (one integer per node); without them the graph '
                        'is trained and embedded but not probed')
    p.add_argument('--missing-features', default=None, choices=FEATURE_FALLBACKS,
                   help='features for a graph that has none')
    p.add_argument('--root', default=None,
                   help='local data root laid out as planetoid/Cora/raw/... '
                        '(default: $GRAPHDIM_DATA, else download)')
    p.add_argument('--encoder', default='gcn', choices=ENCODERS)
    p.add_argument('--hidden', type=int, default=_DEFAULTS['hidden_channels'],
                   dest='hidden_channels', help='embedding size (default 512)')
    p.add_argument('--layers', type=int, default=_DEFAULTS['num_layers'], dest='num_layers')
    p.add_argument('--activation', default='prelu', choices=ACTIVATIONS)
    p.add_argument('--readout', default='sigmoid_mean', choices=READOUTS)
    p.add_argument('--corruption', default='row_shuffle', choices=CORRUPTIONS)
    p.add_argument('--corruption-p', type=float, default=_DEFAULTS['corruption_p'],
                   help='drop / mask probability for edge_drop and feature_mask')
    p.add_argument('--estimator', default='bce', choices=MEASURES)
    p.add_argument('--lr', type=float, default=_DEFAULTS['lr'])
    p.add_argument('--weight-decay', type=float, default=_DEFAULTS['weight_decay'])
    p.add_argument('--epochs', type=int, default=_DEFAULTS['epochs'], help='maximum epochs')
    p.add_argument('--patience', type=int, default=_DEFAULTS['patience'],
                   help='early-stopping patience on the training loss (0: off)')
    p.add_argument('--min-epochs', type=int, default=_DEFAULTS['min_epochs'],
                   help='no early stop before this epoch')
    p.add_argument('--seeds', type=int, default=_DEFAULTS['seeds'], help='number of seeds')
    p.add_argument('--seed', type=int, default=_DEFAULTS['seed'], help='first seed')
    p.add_argument('--device', default='auto', help="cpu, cuda, cuda:1, or auto (default)")
    p.add_argument('--no-normalize-features', dest='normalize_features',
                   action='store_false', help='keep raw features (default: row-normalise)')
    p.add_argument('--no-download', dest='download', action='store_false',
                   help='fail instead of downloading a missing dataset')
    p.add_argument('--out', default=None, metavar='DIR',
                   help='write config, results, model state and embeddings here')
    p.add_argument('--json', action='store_true',
                   help='print the summary as one JSON object on the last line')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    p.add_argument('--plot', action='store_true',
                   help='also draw tsne_seed<s>.png and loss.png into --out DIR')
    p.add_argument('--tensorboard', action='store_true',
                   help='also write TensorBoard logs to --out DIR/tensorboard (needs tensorboard)')
    add_config_options(p)
    add_scaling_arguments(p)
    p.set_defaults(run=run)
    add_graph_level_options(p)


def add_scaling_arguments(p) -> None:
    """Mini-batches, torch.distributed and checkpoints (graphdim.experiments.scaling)."""
    g = p.add_argument_group('large graphs, several processes, checkpoints')
    g.add_argument('--batch-size', type=int, default=_DEFAULTS['batch_size'],
                   help='node level: seed nodes per mini-batch (per process), 0 (default): '
                        'full-batch; graph level: graphs per batch, the others in the batch '
                        'being the negatives (default 128)')
    g.add_argument('--num-neighbors', default=None, metavar='F1,F2',
                   help="fan-outs per layer, e.g. 10,10: PyG's NeighborLoader (needs pyg-lib "
                        "or torch-sparse); default: full neighbourhoods, no extension needed")
    g.add_argument('--inference-batch-size', type=int,
                   default=_DEFAULTS['inference_batch_size'],
                   help='nodes per batch of the layer-wise whole-graph inference')
    g.add_argument('--distributed', action='store_true',
                   help='DistributedDataParallel under torchrun (gloo on CPU, nccl on GPU)')
    g.add_argument('--checkpoint-every', type=int, default=_DEFAULTS['checkpoint_every'],
                   metavar='K', help='save DIR/seed_<s>/checkpoint.pt every K epochs (needs --out)')
    g.add_argument('--resume', action='store_true',
                   help='continue the run in --out DIR from its checkpoints')


def _print_node_summary(summary) -> None:
    config = summary['config']
    print(f"graphdim: DGI on {summary['dataset']} ({summary['num_nodes']} nodes, "
          f"{summary['num_edges']} edges) | {config['encoder']} x{config['num_layers']} "
          f"{config['hidden_channels']}, {config['readout']}, {config['corruption']}, "
          f"{config['estimator']} | device {summary['device']}")
    print(f"split: {summary['split']}")
    if summary['test_acc_mean'] is None:
        print(f"no labels: trained {len(summary['seeds'])} seed(s), "
              f"{summary['epochs_mean']:.0f} epochs on average, not probed")
        if 'out_dir' in summary:
            print(f"wrote {summary['out_dir']}")
        return
    for run in summary['runs']:
        print(f"  seed {run['seed']:>3}: test {run['test_acc']:6.2f}  val {run['val_acc']:6.2f}"
              f"  (probe C={run['probe_c']:g} {run['probe_normalization']}, "
              f"{run['epochs']} epochs, best {run['best_epoch']}, "
              f"{run['train_seconds']:.1f} s)")
    print(f"test accuracy: {summary['test_acc_mean']:.2f} ± {summary['test_acc_std']:.2f} % "
          f"over {len(summary['seeds'])} seed(s); {summary['epochs_mean']:.0f} epochs on "
          f"average, {1000 * summary['epoch_seconds_median']:.1f} ms/epoch (median), "
          f"peak RSS {summary['peak_rss_mb']:.0f} MiB")
    if 'out_dir' in summary:
        print(f"wrote {summary['out_dir']}")


def run(args) -> None:
    if args.level == 'graph':
        return run_graph_level(args)
    reject_graph_only_options(args)
    if (args.plot or args.tensorboard) and not args.out:
        raise ValueError("--plot and --tensorboard write into the run directory: add --out DIR")
    if args.tensorboard:
        import importlib.util
        if importlib.util.find_spec('tensorboard') is None:
            raise ValueError("--tensorboard needs the tensorboard package: pip install tensorboard")
    values = {f.name: unmarked(getattr(args, f.name)) for f in fields(NodeConfig)
              if hasattr(args, f.name)}
    summary = run_node_experiment(NodeConfig.from_dict(values), progress=not args.quiet,
                                  out_dir=args.out, tensorboard=args.tensorboard)
    if summary.get('rank', 0) != 0:
        return  # only rank 0 of a distributed run reports
    _print_node_summary(summary)
    if args.plot:
        from ..plots import plot_run
        for path in plot_run(args.out):
            print(f"wrote {path}")
    if args.json:
        print(json.dumps(summary))
