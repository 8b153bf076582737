"""``graphdim train --level graph``: the graph level's parser, and its run: a graph-level
model (graphdim.registry) on a graph-classification dataset.

Its options are GraphConfig's fields and the graph-level models' options. An option GraphConfig
shares with NodeConfig keeps NodeConfig's flag and choices, with the graph level's own default
(and help, where GraphConfig gives one): ``--hidden`` is 32 here, 512 at node level.
"""
import dataclasses
import json
from typing import Dict

from ..experiments import NodeConfig
from ..experiments.graph import GraphConfig, graph_run_summary
from ..experiments.results import RunSummary, SeedResult
from ..progress import fit_width
from ..experiments.config import ModelChoices
from ..registry import LEVELS, flat_options, model_entry, models_help
from .options import add_config_arguments, config_from_args


def graph_level_fields() -> Dict[str, dataclasses.Field]:
    """GraphConfig's fields as the graph level's options: a field NodeConfig also has takes
    NodeConfig's flag, choices and help, with GraphConfig's default and any metadata
    GraphConfig gives itself (its help, bounds)."""
    node = NodeConfig.__dataclass_fields__
    merged = {}
    for name, graph_field in GraphConfig.__dataclass_fields__.items():
        if name not in node:
            merged[name] = graph_field
            continue
        declared = dataclasses.field(default=graph_field.default, metadata={
            **node[name].metadata, **{k: v for k, v in graph_field.metadata.items()
                                      if v is not None}})
        declared.name = name
        merged[name] = declared
    merged['model'] = any_level_model(merged['model'])
    return merged


def any_level_model(model: dataclasses.Field) -> dataclasses.Field:
    """``--model`` taking the names of both levels' models: a name of the other level's is
    refused by the run, saying which ``--level`` it needs (graphdim.registry.model_entry)."""
    declared = dataclasses.field(default=model.default, metadata={
        **model.metadata, 'choices': ModelChoices(*LEVELS)})
    declared.name = model.name
    return declared


def add_graph_level_arguments(p) -> None:
    """GraphConfig's options, as the ``train`` parser takes them at ``--level graph``."""
    add_config_arguments(p, GraphConfig, None, {'model': models_help('graph')},
                         graph_level_fields())


def graph_config_from_args(args) -> GraphConfig:
    """The :class:`GraphConfig` of the given options (GraphConfig's defaults for the rest)."""
    if hasattr(args, 'model'):
        model_entry('graph', args.model)
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
