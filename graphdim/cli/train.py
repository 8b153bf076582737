"""``graphdim train``: train DIM on a graph, probe the embeddings, print a summary."""
import json
from dataclasses import fields

from ..estimators import MEASURES
from ..experiments import NodeConfig, run_node_experiment
from ..graph.corruptions import CORRUPTIONS
from ..graph.encoders import ACTIVATIONS, ENCODERS
from ..graph.readouts import READOUTS
from .train_graph import add_graph_level_options, reject_graph_only_options, run_graph_level

_DEFAULTS = {f.name: f.default for f in fields(NodeConfig)}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'train', help='train node-level DIM (DGI) and probe the embeddings',
        description='Train Deep Graph Infomax on a graph, then fit a logistic-regression probe '
                    'on the frozen embeddings (penalty chosen on the validation split).')
    p.add_argument('--dataset', default=_DEFAULTS['dataset'],
                   help='karate (built in, default), Cora, CiteSeer, PubMed, amazon-photo, '
                        'amazon-computers, coauthor-cs, coauthor-physics')
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
    p.set_defaults(run=run)
    add_graph_level_options(p)


def _print_node_summary(summary) -> None:
    config = summary['config']
    print(f"graphdim: DGI on {summary['dataset']} ({summary['num_nodes']} nodes, "
          f"{summary['num_edges']} edges) | {config['encoder']} x{config['num_layers']} "
          f"{config['hidden_channels']}, {config['readout']}, {config['corruption']}, "
          f"{config['estimator']} | device {summary['device']}")
    print(f"split: {summary['split']}")
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
    values = {f.name: getattr(args, f.name) for f in fields(NodeConfig) if hasattr(args, f.name)}
    summary = run_node_experiment(NodeConfig.from_dict(values), progress=not args.quiet,
                                  out_dir=args.out)
    _print_node_summary(summary)
    if args.json:
        print(json.dumps(summary))
