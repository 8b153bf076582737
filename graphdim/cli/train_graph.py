"""``graphdim train --level graph``: InfoGraph on a graph-classification dataset.

The ``train`` command's options are shared by both levels. Where a shared option's node-level
default (DGI's recipe) differs from the graph-level one (InfoGraph's), the default is marked,
so an option the user did not give takes :class:`~graphdim.experiments.graph.GraphConfig`'s
default, while an option the user gave is used as given, even if equal to the node default.
"""
import json
from dataclasses import fields

from ..experiments.graph import GraphConfig, run_graph_experiment

_GRAPH_DEFAULTS = {f.name: f.default for f in fields(GraphConfig)}
# Options of node-level DIM only: giving one with --level graph is an error.
_NODE_ONLY = ('encoder', 'activation', 'readout', 'corruption', 'corruption_p')
# Options of graph-level DIM only: giving one with --level node is an error.
_GRAPH_ONLY = ('projection_heads', 'prior_weight', 'max_degree', 'folds',
               'inner_folds', 'random_baseline', 'jobs', 'standardize')


class _DefaultInt(int):
    """An int default the user did not give."""


class _DefaultFloat(float):
    """A float default the user did not give."""


class _DefaultStr(str):
    """A str default the user did not give."""


_MARKED = {int: _DefaultInt, float: _DefaultFloat, str: _DefaultStr}


def _is_default(value) -> bool:
    return value is None or isinstance(value, tuple(_MARKED.values()))


def add_graph_level_options(p) -> None:
    """Add ``--level`` and the graph-level options to the ``train`` parser ``p``."""
    for dest in ('dataset', *(f.name for f in fields(GraphConfig)), *_NODE_ONLY):
        value = p.get_default(dest)
        if type(value) in _MARKED:
            p.set_defaults(**{dest: _MARKED[type(value)](value)})
    g = p.add_argument_group('graph level (--level graph: InfoGraph, graph classification)')
    g.add_argument('--level', choices=('node', 'graph'), default='node',
                   help='node: DGI node embeddings (default); graph: InfoGraph graph '
                        'embeddings on TU (MUTAG, PTC_MR, PROTEINS, IMDB-BINARY, IMDB-MULTI) '
                        'or OGB (ogbg-molbace, ogbg-molbbbp) datasets. At graph level the '
                        'defaults are InfoGraph\'s: --hidden 32 --layers 5 --estimator jsd '
                        '--epochs 20 --patience 0, dataset MUTAG')
    # --batch-size is shared with node level (added with the mini-batch options).
    g.add_argument('--no-projection-heads', dest='projection_heads', action='store_false',
                   help="drop InfoGraph's residual MLP heads before the critic")
    g.add_argument('--prior-weight', type=float,
                   default=_DefaultFloat(_GRAPH_DEFAULTS['prior_weight']),
                   help='weight of adversarial prior matching (default 0: off; DIM/InfoGraph '
                        'use 0.1)')
    g.add_argument('--max-degree', type=int, default=_DefaultInt(_GRAPH_DEFAULTS['max_degree']),
                   help='cap of the one-hot degree features of featureless graphs (default 64)')
    g.add_argument('--folds', type=int, default=_DefaultInt(_GRAPH_DEFAULTS['folds']),
                   help='outer cross-validation folds (TU datasets; default 10)')
    g.add_argument('--inner-folds', type=int,
                   default=_DefaultInt(_GRAPH_DEFAULTS['inner_folds']),
                   help='inner folds that choose C on the training folds (default 5)')
    g.add_argument('--jobs', type=int, default=_DefaultInt(_GRAPH_DEFAULTS['jobs']),
                   help='classifier fits run in parallel during cross-validation (default 1)')
    g.add_argument('--random-baseline', action='store_true',
                   help='also evaluate the random-init encoder (always done for OGB)')
    g.add_argument('--no-standardize', dest='standardize', action='store_false',
                   help="fit the probes on raw embeddings (InfoGraph's own evaluation), "
                        "not standardised ones")


def unmarked(value):
    """``value`` as its plain type (marked defaults must not reach saved configs)."""
    for plain, marked in _MARKED.items():
        if type(value) is marked:
            return plain(value)
    return value


def reject_graph_only_options(args) -> None:
    """At node level, fail on options that only the graph level uses."""
    given = [name for name in _GRAPH_ONLY if hasattr(args, name) and not _is_default(
        getattr(args, name)) and getattr(args, name) != _GRAPH_DEFAULTS[name]]
    if given:
        option = 'no-standardize' if given[0] == 'standardize' else given[0].replace('_', '-')
        raise ValueError(f"--{option} applies to graph-level DIM only; add --level graph")


def graph_config_from_args(args) -> GraphConfig:
    """The :class:`GraphConfig` of the parsed options (unmarked values win)."""
    given = [name for name in _NODE_ONLY if not _is_default(getattr(args, name, None))]
    if given:
        raise ValueError(f"--{given[0].replace('_', '-')} applies to node-level DIM only; the "
                         f"graph level uses InfoGraph's GIN encoder and sum readout")
    values = {}
    for f in fields(GraphConfig):
        value = getattr(args, f.name, None)
        if _is_default(value):
            continue
        values[f.name] = value
    return GraphConfig.from_dict(values)


def _print_graph_summary(summary) -> None:
    config = summary['config']
    heads = 'heads' if config['projection_heads'] else 'no heads'
    print(f"graphdim: InfoGraph on {summary['dataset']} ({summary['num_graphs']} graphs, "
          f"{summary['num_features']} node features) | gin x{config['num_layers']} "
          f"{config['hidden_channels']} concatenated, sum readout, {config['estimator']}, "
          f"{heads}, batch {config['batch_size']}, lr {config['lr']:g}, "
          f"{config['epochs']} epochs | device {summary['device']}")
    print(f"protocol: {summary['protocol']}")
    ogb = 'test_roc_auc_mean' in summary
    for run in summary['runs']:
        if ogb:
            line = (f"test ROC-AUC {run['test_roc_auc']:.4f}  valid {run['valid_roc_auc']:.4f}  "
                    f"random init {run['random_init_test_roc_auc']:.4f}  ({run['probe']}, ")
        else:
            line = (f"SVM {run['test_acc']:6.2f}  logreg {run['logreg_acc']:6.2f}  "
                    f"inner {run['val_acc']:6.2f}")
            if 'random_init_test_acc' in run:
                line += f"  random init SVM {run['random_init_test_acc']:6.2f}"
            line += '  ('
        print(f"  seed {run['seed']:>3}: {line}{run['epochs']} epochs, "
              f"{run['train_seconds']:.1f} s train, {run['seconds']:.1f} s total)")
    seeds = len(summary['seeds'])
    if ogb:
        print(f"test ROC-AUC: {summary['test_roc_auc_mean']:.4f} ± "
              f"{summary['test_roc_auc_std']:.4f} over {seeds} seed(s); random-init encoder "
              f"{summary['random_init_test_roc_auc_mean']:.4f} ± "
              f"{summary['random_init_test_roc_auc_std']:.4f}")
    else:
        print(f"test accuracy (SVM): {summary['test_acc_mean']:.2f} ± "
              f"{summary['test_acc_std']:.2f} % over {config['folds']} folds x {seeds} "
              f"seed(s) (± {summary['test_acc_seed_std']:.2f} over seed means); logistic "
              f"regression {summary['logreg_acc_mean']:.2f} ± {summary['logreg_acc_std']:.2f} %")
    print(f"{1000 * summary['epoch_seconds_median']:.1f} ms/epoch (median), "
          f"{summary['seconds_total']:.1f} s in all, peak RSS {summary['peak_rss_mb']:.0f} MiB")
    if 'out_dir' in summary:
        print(f"wrote {summary['out_dir']}")


def run_graph_level(args) -> None:
    summary = run_graph_experiment(graph_config_from_args(args), progress=not args.quiet,
                                   out_dir=args.out)
    _print_graph_summary(summary)
    if args.json:
        print(json.dumps(summary))
