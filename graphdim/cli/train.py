"""``graphdim train``: train DIM on a graph, probe the embeddings, print a summary."""
import json

from ..experiments import NodeConfig, run_node_experiment
from ..progress import fit_width
from ..registry import flat_options, model_entry, models_help
from .common import add_config_options, add_output_options
from .options import ModelHelpAction, add_config_arguments, add_model_groups, config_from_args
from .train_graph import (add_graph_level_options, both_levels_choices, both_levels_helps,
                          reject_graph_only_options, run_graph_level)

# Your own graph instead of --dataset: shown right after --dataset.
OWN_GRAPH_OPTIONS = ('graph', 'features', 'labels', 'label_names', 'missing_features')
# Large graphs, several processes, checkpoints (graphdim.experiments.scaling): a group of
# their own, after the other options.
SCALING_OPTIONS = ('batch_size', 'num_neighbors', 'inference_batch_size', 'distributed',
                   'checkpoint_every', 'resume')


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'train', help='train a graph DIM model and probe the embeddings',
        description='Train a DIM model (--model) on a graph, then fit a logistic-regression '
                    'probe on the frozen embeddings (penalty chosen on the validation split); '
                    'with --level graph, a graph-level model on a dataset of graphs. Each '
                    "model's own options are a group below: --model NAME --help shows that "
                    "model's only.", add_help=False)
    p.add_argument('-h', '--help', action=ModelHelpAction,
                   help="show this help and exit (after --model NAME: that model's options "
                        "only)")
    helps = {**both_levels_helps(),
             'model': f"node level: {models_help('node')}; graph level (--level graph): "
                      f"{models_help('graph')}"}
    others = [name for name in NodeConfig.field_names()
              if name not in ('model', 'dataset', *OWN_GRAPH_OPTIONS, *SCALING_OPTIONS)]
    add_config_arguments(p, NodeConfig, ['model', 'dataset', *OWN_GRAPH_OPTIONS, *others],
                         helps, both_levels_choices())
    add_output_options(p, 'write config, results, model state and embeddings here')
    p.add_argument('--plot', action='store_true',
                   help='also draw tsne_seed<s>.png and loss.png into --out DIR')
    p.add_argument('--tensorboard', action='store_true',
                   help='also write TensorBoard logs to --out DIR/tensorboard (needs tensorboard)')
    add_config_options(p)
    added = set()  # an option two models read is in the first one's group
    add_model_groups(p, 'node', added)
    add_config_arguments(p.add_argument_group('large graphs, several processes, checkpoints'),
                         NodeConfig, SCALING_OPTIONS, helps)
    p.set_defaults(run=run)
    add_graph_level_options(p)
    add_model_groups(p, 'graph', added)


def _print_node_summary(summary) -> None:
    config = flat_options(summary['config'])  # the model's options beside the level's
    entry = model_entry('node', config['model'])
    print(fit_width(f"graphdim: {entry.printed_name} on {_graph_name(summary)} | device "
                    f"{summary['device']} | {entry.recipe(config)}"))
    print(f"split: {summary['split']}")
    propagation = summary.get('propagation')
    if propagation:
        why = f" ({propagation['reason']})" if propagation['reason'] else ''
        print(f"propagation: {propagation['name']}{why}")
    if summary['test_acc_mean'] is None:
        print(f"no labels: trained {len(summary['seeds'])} seed(s), "
              f"{summary['epochs_mean']:.0f} epochs on average, not probed")
        if 'out_dir' in summary:
            print(f"wrote {summary['out_dir']}")
        return
    reinforced = tuple(config.get('hops', (0, ))) != (0, )
    if reinforced:
        forms = ' or '.join('z + A^K z' if mode == 'add' else 'A^K z'
                            for mode in config['reinforcement'])
        chosen = (f" chosen by {config['hops_cv']}-fold cross-validation on train + val"
                  if config.get('hops_cv') else ' chosen on validation') \
            if len(config['hops']) > 1 or ' or ' in forms else ''
        print(f"reinforcement: {forms}, K in {', '.join(map(str, config['hops']))}{chosen}")
    for run in summary['runs']:
        hops = lambda prefix='': (f" K={run[prefix + 'hops']}"  # noqa: E731
                                  f"{'' if run[prefix + 'reinforcement'] == 'add' else ' A^K'}"
                                  if reinforced else '')
        baseline = f"  random init {run['random_init_test_acc']:6.2f}{hops('random_init_')}" \
            if 'random_init_test_acc' in run else ''
        print(f"  seed {run['seed']:>3}: test {run['test_acc']:6.2f}  val {run['val_acc']:6.2f}"
              f"{hops()}{baseline}"
              f"  (probe C={run['probe_c']:g} {run['probe_normalization']}, "
              f"{run['epochs']} epochs, best {run['best_epoch']}, "
              f"{run['train_seconds']:.1f} s)")
    print(fit_width(f"test accuracy: {summary['test_acc_mean']:.2f} ± "
                    f"{summary['test_acc_std']:.2f} % over {len(summary['seeds'])} seed(s) | "
                    f"{summary['epochs_mean']:.0f} epochs on average, "
                    f"{1000 * summary['epoch_seconds_median']:.1f} ms/epoch (median), "
                    f"peak RSS {summary['peak_rss_mb']:.0f} MiB"))
    if 'random_init_test_acc_mean' in summary:
        print(f"random-init encoder (untrained, same probe): "
              f"{summary['random_init_test_acc_mean']:.2f} ± "
              f"{summary['random_init_test_acc_std']:.2f} %")
    if 'training_free_test_acc_mean' in summary:
        print(fit_width(f"training-free baseline: {summary['training_free_test_acc_mean']:.2f}"
                        f" ± {summary['training_free_test_acc_std']:.2f} % "
                        f"({_training_free_choice(summary)})"))
    if 'out_dir' in summary:
        print(f"wrote {summary['out_dir']}")


def _training_free_choice(summary) -> str:
    """How the training-free baseline was chosen and what it chose: the raw features
    propagated (the form and K of HOPS_GRID, on validation or by --hops-cv folds)."""
    forms = {'add': 'X + A^K X', 'replace': 'A^K X'}
    chosen = [('X' if run['training_free_hops'] == 0 else
               f"{forms[run['training_free_reinforcement']]}, K={run['training_free_hops']}")
              for run in summary['runs']]
    folds = summary['config'].get('hops_cv')
    how = f"by {folds}-fold cross-validation on train + val" if folds else 'on validation'
    what = chosen[0] if len(set(chosen)) == 1 else 'per seed: ' + '; '.join(chosen)
    return f"raw features, {what}, chosen {how}"


def _graph_name(summary) -> str:
    return f"{summary['dataset']} ({summary['num_nodes']} nodes, {summary['num_edges']} edges)"


def run(args) -> None:
    if args.level == 'graph':
        return run_graph_level(args)
    reject_graph_only_options(args)
    if args.plot:
        from ..plots import check_plot_dependencies
        check_plot_dependencies()  # before training, not after it
    if (args.plot or args.tensorboard) and not args.out:
        raise ValueError("--plot and --tensorboard write into the run directory: add --out DIR")
    if args.tensorboard:
        import importlib.util
        if importlib.util.find_spec('tensorboard') is None:
            raise ValueError("--tensorboard needs the tensorboard package: pip install tensorboard")
    summary = run_node_experiment(config_from_args(NodeConfig, args), progress=not args.quiet,
                                  out_dir=args.out, tensorboard=args.tensorboard,
                                  overwrite=args.overwrite)
    if summary.get('rank', 0) != 0:
        return  # only rank 0 of a distributed run reports
    _print_node_summary(summary)
    if args.plot:
        from ..plots import plot_run
        for path in plot_run(args.out):
            print(f"wrote {path}")
    if args.json:
        print(json.dumps(summary))
