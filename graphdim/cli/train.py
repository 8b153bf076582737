"""``graphdim train``: train DIM on a graph, probe the embeddings, print a summary.

One parser per level: ``graphdim train`` parses the node level's options (NodeConfig's and
the node-level models'), ``graphdim train --level graph`` the graph level's
(:mod:`graphdim.cli.train_graph`). Which one a command line gets is decided before parsing
(:func:`train_level`: ``--level``, else the ``--preset``'s or ``--config``'s level, else node).
An option of the other level is refused in one line that names its level.
"""
import argparse
import json
from typing import List

from ..experiments import NodeConfig
from ..experiments.node import node_run_summary
from ..experiments.results import RunSummary, SeedResult
from ..progress import fit_width
from ..registry import LEVELS, flat_options, model_entry, model_option_fields, models_help
from .common import add_config_options, add_output_options, level_of_config_source
from .options import ModelHelpAction, add_config_arguments, add_model_groups, config_from_args, \
    option_flag
from .train_graph import add_graph_level_arguments, any_level_model, graph_level_fields, \
    run_graph_level

# Your own graph instead of --dataset: shown right after --dataset.
OWN_GRAPH_OPTIONS = ('graph', 'features', 'labels', 'label_names', 'missing_features')
# Large graphs, several processes, checkpoints (graphdim.experiments.scaling): a group of
# their own, after the other options.
SCALING_OPTIONS = ('batch_size', 'num_neighbors', 'inference_batch_size', 'distributed',
                   'checkpoint_every', 'resume')
# The command's own options that one level only honours (not config fields): level -> flags.
COMMAND_OPTIONS = {'node': {'tensorboard': '--tensorboard'}, 'graph': {}}


def train_level(argv: List[str]) -> str:
    """The level a ``graphdim train`` command line trains: its ``--level``, else its
    ``--preset``'s or ``--config``'s, else ``'node'``. A preset or config that cannot be read
    says nothing here: the run reads it again and reports what is wrong."""
    words = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in ('--level', '--preset', '--config'):
        words.add_argument(flag)
    given, _ = words.parse_known_args(argv)
    if given.level is not None:
        return given.level if given.level in LEVELS else 'node'  # argparse refuses it later
    return level_of_config_source('train', given.preset, given.config) or 'node'


def level_options(level: str) -> dict:
    """Every option of ``level``: its config's fields, its models' options, its command's
    own options -> the flag."""
    fields = graph_level_fields() if level == 'graph' else {
        name: f for name, f in NodeConfig.__dataclass_fields__.items()}
    return {**{name: option_flag(f) for name, f in {**model_option_fields(level),
                                                     **fields}.items()},
            **COMMAND_OPTIONS[level]}


class OtherLevelOption(argparse.Action):
    """An option only the other level has: refused when given (typed, or by a preset or
    config: :meth:`refuse`), naming its level and what to do."""
    def __init__(self, option_strings, dest, level: str, **kwargs):
        super().__init__(option_strings, dest, nargs='*', default=argparse.SUPPRESS,
                         help=argparse.SUPPRESS)
        self.level = level

    def refuse(self):
        flag = self.option_strings[0]
        raise ValueError(f"{flag} applies to graph-level DIM only; add --level graph"
                         if self.level == 'node' else
                         f"{flag} applies to node-level DIM only, not to --level graph "
                         "(graph-level runs train their own models on whole datasets of "
                         "graphs): drop it")

    def __call__(self, parser, namespace, values, option_string=None):
        self.refuse()


def _refuse_other_level(p, level: str) -> None:
    other = 'graph' if level == 'node' else 'node'
    ours = level_options(level)
    for name, flag in level_options(other).items():
        if name not in ours:
            p.add_argument(flag, dest=name, action=OtherLevelOption, level=level)


def add_parser(subparsers, level: str = 'node') -> None:
    """The ``train`` parser of ``level``'s options."""
    p = subparsers.add_parser(
        'train', help='train a graph DIM model and probe the embeddings',
        description='Train a DIM model (--model) on a graph, then fit a logistic-regression '
                    'probe on the frozen embeddings (penalty chosen on the validation split); '
                    'with --level graph, a graph-level model on a dataset of graphs. Each '
                    "model's own options are a group below: --model NAME --help shows that "
                    "model's only; --level graph --help shows the graph level's options.",
        add_help=False)
    p.add_argument('-h', '--help', action=ModelHelpAction,
                   help="show this help and exit (after --model NAME: that model's options "
                        "only)")
    p.add_argument('--level', choices=LEVELS, default=level,
                   help='node: node embeddings (default); graph: graph embeddings on TU '
                        '(MUTAG, PTC_MR, PROTEINS, IMDB-BINARY, IMDB-MULTI) or OGB '
                        '(ogbg-molbace, ogbg-molbbbp) datasets, with the graph level\'s own '
                        'options and defaults (--level graph --help)')
    if level == 'graph':
        add_graph_level_arguments(p)
    else:
        _add_node_level_arguments(p)
    # The command's own options, each level's that it honours.
    add_output_options(p, 'write config, results, model state and embeddings here')
    p.add_argument('--plot', action='store_true',
                   help='also draw tsne_seed<s>.png and loss.png into --out DIR')
    if level == 'node':
        p.add_argument('--tensorboard', action='store_true',
                       help='also write TensorBoard logs to --out DIR/tensorboard (needs '
                            'tensorboard)')
    add_config_options(p)
    add_model_groups(p, level, set())
    if level == 'node':
        add_config_arguments(p.add_argument_group('large graphs, several processes, '
                                                  'checkpoints'), NodeConfig, SCALING_OPTIONS)
    _refuse_other_level(p, level)
    p.set_defaults(run=run)


def _add_node_level_arguments(p) -> None:
    """NodeConfig's options but the scaling group's (added after the models' groups)."""
    others = [name for name in NodeConfig.field_names()
              if name not in ('model', 'dataset', *OWN_GRAPH_OPTIONS, *SCALING_OPTIONS)]
    add_config_arguments(p, NodeConfig, ['model', 'dataset', *OWN_GRAPH_OPTIONS, *others],
                         {'model': f"{models_help('node')} (graph-level models: --level "
                                   "graph --help)"},
                         {'model': any_level_model(NodeConfig.__dataclass_fields__['model'])})


def _print_node_summary(summary: RunSummary) -> None:
    config = flat_options(summary.config)  # the model's options beside the level's
    entry, facts = model_entry('node', config['model']), summary.facts
    print(fit_width(f"graphdim: {entry.printed_name} on {_graph_name(summary)} | device "
                    f"{facts['device']} | {entry.recipe(config)}"))
    print(f"split: {facts['split']}")
    propagation = facts.get('propagation')
    if propagation:
        why = f" ({propagation['reason']})" if propagation['reason'] else ''
        print(f"propagation: {propagation['name']}{why}")
    accuracy = summary.figure('test_acc')
    if accuracy.mean is None:
        print(f"no labels: trained {len(summary.seeds)} seed(s), "
              f"{summary.epochs_mean:.0f} epochs on average, not probed")
        if summary.out_dir is not None:
            print(f"wrote {summary.out_dir}")
        return
    reinforced = tuple(config.get('hops', (0, ))) != (0, )
    if reinforced:
        forms = ' or '.join('z + A^K z' if mode == 'add' else 'A^K z'
                            for mode in config['reinforcement'])
        chosen = (f" chosen by {config['hops_cv']}-fold cross-validation on train + val"
                  if config.get('hops_cv') else ' chosen on validation') \
            if len(config['hops']) > 1 or ' or ' in forms else ''
        print(f"reinforcement: {forms}, K in {', '.join(map(str, config['hops']))}{chosen}")
    for run in summary.runs:
        print(_seed_line(run, reinforced))
    print(fit_width(f"test accuracy: {accuracy.mean:.2f} ± {accuracy.std:.2f} % over "
                    f"{len(summary.seeds)} seed(s) | {summary.epochs_mean:.0f} epochs on "
                    f"average, {1000 * summary.epoch_seconds_median:.1f} ms/epoch (median), "
                    f"peak RSS {summary.peak_rss_mb:.0f} MiB"))
    random_init = summary.figure('test_acc', 'random_init')
    if random_init is not None:
        print(f"random-init encoder (untrained, same probe): {random_init.mean:.2f} ± "
              f"{random_init.std:.2f} %")
    training_free = summary.figure('test_acc', 'training_free')
    if training_free is not None:
        print(fit_width(f"training-free baseline: {training_free.mean:.2f} ± "
                        f"{training_free.std:.2f} % ({_training_free_choice(summary)})"))
    if summary.out_dir is not None:
        print(f"wrote {summary.out_dir}")


def _seed_line(run: SeedResult, reinforced: bool) -> str:
    """A seed's figures: the trained encoder's (with the K its probe chose where several
    were tried), the untrained encoder's beside them, the probe's setting, the training."""
    def hops(scores) -> str:
        return (f" K={scores.hops}{'' if scores.reinforcement == 'add' else ' A^K'}"
                if reinforced else '')
    scores, random_init = run.scores, run.baselines.get('random_init')
    baseline = f"  random init {random_init.test_acc:6.2f}{hops(random_init)}" \
        if random_init is not None else ''
    return (f"  seed {run.seed:>3}: test {scores.test_acc:6.2f}  val {scores.val_acc:6.2f}"
            f"{hops(scores)}{baseline}  (probe C={scores.probe.c:g} "
            f"{scores.probe.normalization}"
            f"{f' step {scores.probe.epoch}' if scores.probe.epoch else ''}, "  # Adam's
            f"{run.epochs} epochs, best {run.best_epoch}, "
            f"{run.train_seconds:.1f} s)")


def _training_free_choice(summary: RunSummary) -> str:
    """How the training-free baseline was chosen and what it chose: the raw features, or
    their multi-scale average (K and alpha, on validation or by --hops-cv folds); older runs'
    single powers (A^K X, X + A^K X) as they were."""
    # S²GC: α X + (1-α)/K Σ_{k<=K} A^k X (spelled out in docs/concepts/evaluation.md; the
    # line stays within 100 columns)
    forms = {'add': 'X + A^K X', 'replace': 'A^K X', 'multiscale': 'S²GC'}

    def form(baseline) -> str:
        if baseline.hops == 0:
            return 'X'
        alpha = f", α={baseline.alpha:g}" if baseline.alpha is not None else ''
        shown = forms.get(baseline.reinforcement, str(baseline.reinforcement))
        return f"{shown}, K={baseline.hops}{alpha}"
    chosen = [form(run.baselines['training_free']) for run in summary.runs]
    folds = summary.config.get('hops_cv')
    how = f"by {folds}-fold cross-validation on train + val" if folds else 'on validation'
    what = chosen[0] if len(set(chosen)) == 1 else 'per seed: ' + '; '.join(chosen)
    return f"raw features, {what}, chosen {how}"


def _graph_name(summary: RunSummary) -> str:
    return (f"{summary.dataset} ({summary.facts['num_nodes']} nodes, "
            f"{summary.facts['num_edges']} edges)")


def run(args) -> None:
    if args.level == 'graph':
        return run_graph_level(args)
    if hasattr(args, 'model'):
        model_entry('node', args.model)  # a graph-level name: says to add --level graph
    if args.plot:
        from ..plots import check_plot_dependencies
        check_plot_dependencies()  # before training, not after it
    if (args.plot or args.tensorboard) and not args.out:
        raise ValueError("--plot and --tensorboard write into the run directory: add --out DIR")
    if args.tensorboard:
        import importlib.util
        if importlib.util.find_spec('tensorboard') is None:
            raise ValueError("--tensorboard needs the tensorboard package: pip install tensorboard")
    summary = node_run_summary(config_from_args(NodeConfig, args), progress=not args.quiet,
                               out_dir=args.out, tensorboard=args.tensorboard,
                               overwrite=args.overwrite)
    if summary.facts.get('rank', 0) != 0:
        return  # only rank 0 of a distributed run reports
    _print_node_summary(summary)
    if args.plot:
        from ..plots import plot_run
        for path in plot_run(args.out):
            print(f"wrote {path}")
    if args.json:
        print(json.dumps(summary.to_json()))
