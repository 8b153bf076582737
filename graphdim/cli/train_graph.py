"""``graphdim train --level graph``: a graph-level model (graphdim.registry) on a
graph-classification dataset.

The ``train`` command's options are those of both levels: NodeConfig's fields, then, in the
graph-level group, GraphConfig's that NodeConfig lacks, and each model's group of options. An
option of one level only (a node-level model's, ``--folds``) is refused at the other. An
option that was not given takes the default of the level's dataclass (``--level graph``:
GraphConfig's, the default graph model's recipe); one that was given is used as given, even
where it equals the other level's default.
"""
import json

from ..experiments import NodeConfig
from ..experiments.graph import GraphConfig, graph_run_summary
from ..experiments.results import RunSummary, SeedResult
from ..progress import fit_width
from ..experiments.config import ModelChoices
from ..registry import flat_options, model_entry, model_option_fields
from .options import add_config_arguments, config_field, config_from_args, option_flag, option_help

# Options of graph-level DIM only: giving one with --level node is an error.
GRAPH_ONLY = tuple(name for name in GraphConfig.field_names()
                   if name not in NodeConfig.field_names())
_SHARED = tuple(name for name in NodeConfig.field_names() if name in GraphConfig.field_names())
# The train command's own options that a graph-level run does not honour.
NODE_ONLY_COMMAND_OPTIONS = {'tensorboard': '--tensorboard'}


def both_levels_choices() -> dict:
    """Choices of the shared options whose levels choose among different values: all of them
    (each level's config then refuses the other's, naming the level)."""
    merged = {'model': ModelChoices('node', 'graph')}
    for name in _SHARED:
        if name == 'model':
            continue
        node, graph = (config_field(c, name).metadata.get('choices') or ()
                       for c in (NodeConfig, GraphConfig))
        if set(node) != set(graph):
            merged[name] = tuple(dict.fromkeys((*node, *graph)))
    return merged


def both_levels_helps() -> dict:
    """Help texts of the shared options whose GraphConfig field has its own help: both."""
    helps = {}
    for name in _SHARED:
        graph_help = option_help(config_field(GraphConfig, name))
        if graph_help is not None:
            helps[name] = (f"node level: {option_help(config_field(NodeConfig, name))}; "
                           f"graph level: {graph_help}")
    return helps


def _graph_defaults() -> str:
    """The shared options whose default differs at graph level, as flags with values."""
    node, graph = NodeConfig(), GraphConfig()
    return ' '.join(f"{option_flag(config_field(NodeConfig, name))} {getattr(graph, name)}"
                    for name in _SHARED if getattr(graph, name) != getattr(node, name))


def add_graph_level_options(p) -> None:
    """Add ``--level`` and the graph-level options to the ``train`` parser ``p``."""
    g = p.add_argument_group('graph level (--level graph: graph-level models, graph '
                             'classification)')
    g.add_argument('--level', choices=('node', 'graph'), default='node',
                   help='node: node embeddings (default); graph: graph embeddings on TU '
                        '(MUTAG, PTC_MR, PROTEINS, IMDB-BINARY, IMDB-MULTI) or OGB '
                        '(ogbg-molbace, ogbg-molbbbp) datasets. At graph level the defaults '
                        f"are the graph level's own: {_graph_defaults()}")
    add_config_arguments(g, GraphConfig, GRAPH_ONLY)


def level_options(level: str) -> dict:
    """Every option of ``level`` (its config's fields and its models' options) -> its field."""
    config_class = NodeConfig if level == 'node' else GraphConfig
    return {**model_option_fields(level),
            **{name: config_field(config_class, name) for name in config_class.field_names()}}


def _reject_given(args, level: str, why: str) -> None:
    """Refuse the options given that only ``level`` has (the other level is the run's)."""
    other = level_options('graph' if level == 'node' else 'node')
    only = level_options(level)
    given = [name for name in only if name not in other and hasattr(args, name)]
    if given:
        raise ValueError(f"{option_flag(only[given[0]])} {why}")


def reject_graph_only_options(args) -> None:
    """At node level, fail on options (and values) that only the graph level uses."""
    if hasattr(args, 'model'):
        model_entry('node', args.model)  # a graph-level name: says to add --level graph
    _reject_given(args, 'graph', 'applies to graph-level DIM only; add --level graph')


def graph_config_from_args(args) -> GraphConfig:
    """The :class:`GraphConfig` of the given options (GraphConfig's defaults for the rest);
    an option of node-level runs only is refused, never dropped."""
    if hasattr(args, 'model'):
        model_entry('graph', args.model)
    _reject_given(args, 'node', "applies to node-level DIM only, not to --level graph "
                  "(graph-level runs train their own models on whole datasets of graphs): "
                  "drop it")
    for name, flag in NODE_ONLY_COMMAND_OPTIONS.items():
        if getattr(args, name, False):
            raise ValueError(f"{flag} applies to node-level DIM only, not to --level graph: "
                             f"drop it")
    return config_from_args(GraphConfig, args)


def _dataset_name(summary: RunSummary) -> str:
    return (f"{summary.dataset} ({summary.facts['num_graphs']} graphs, "
            f"{summary.facts['num_features']} node features)")


def _print_graph_summary(summary: RunSummary) -> None:
    config = flat_options(summary.config)  # the model's options beside the level's
    entry = model_entry('graph', config['model'])
    settings = [entry.recipe(config), 'sum readout', config['estimator'],
                f"batch {config['batch_size']}", f"lr {config['lr']:g}",
                f"{config['epochs']} epochs"]
    print(fit_width(f"graphdim: {entry.printed_name} on {_dataset_name(summary)} | device "
                    f"{summary.facts['device']} | {', '.join(s for s in settings if s)}"))
    print(f"protocol: {summary.facts['protocol']}")
    for run in summary.runs:
        print(f"  seed {run.seed:>3}: {_seed_figures(run)}{run.epochs} epochs, "
              f"{run.train_seconds:.1f} s train, {run.seconds:.1f} s total)")
    seeds, roc = len(summary.seeds), summary.figure('test_roc_auc')
    if roc is not None:
        random_roc = summary.figure('test_roc_auc', 'random_init')
        print(f"test ROC-AUC: {roc.mean:.4f} ± {roc.std:.4f} over {seeds} seed(s); "
              f"random-init encoder {random_roc.mean:.4f} ± {random_roc.std:.4f}")
    else:
        svm, logreg = summary.figure('test_acc'), summary.figure('logreg_acc')
        print(f"test accuracy (SVM): {svm.mean:.2f} ± {svm.std:.2f} % over {config['folds']} "
              f"folds x {seeds} seed(s) (± {svm.seed_std:.2f} over seed means); logistic "
              f"regression {logreg.mean:.2f} ± {logreg.std:.2f} %")
    print(f"{1000 * summary.epoch_seconds_median:.1f} ms/epoch (median), "
          f"{summary.seconds_total:.1f} s in all, peak RSS {summary.peak_rss_mb:.0f} MiB")
    if summary.out_dir is not None:
        print(f"wrote {summary.out_dir}")


def _seed_figures(run: SeedResult) -> str:
    """A seed's figures, up to the opening bracket of its training's."""
    scores, random_init = run.scores, run.baselines.get('random_init')
    if scores.ogb is not None:
        return (f"test ROC-AUC {scores.test_roc_auc:.4f}  valid {scores.valid_roc_auc:.4f}  "
                f"random init {random_init.test_roc_auc:.4f}  ({scores.ogb.chosen}, ")
    line = (f"SVM {scores.test_acc:6.2f}  logreg {scores.logreg_acc:6.2f}  "
            f"inner {scores.val_acc:6.2f}")
    if random_init is not None:
        line += f"  random init SVM {random_init.test_acc:6.2f}"
    return line + '  ('


def run_graph_level(args) -> None:
    config = graph_config_from_args(args)
    if args.plot:
        from ..plots import check_plot_dependencies
        check_plot_dependencies()  # before training, not after it
    if args.plot and not args.out:
        raise ValueError("--plot draws into the run directory: add --out DIR")
    summary = graph_run_summary(config, progress=not args.quiet, out_dir=args.out,
                                overwrite=args.overwrite)
    _print_graph_summary(summary)
    if args.plot:
        from ..plots import plot_run
        for path in plot_run(args.out):
            print(f"wrote {path}")
    if args.json:
        print(json.dumps(summary.to_json()))
