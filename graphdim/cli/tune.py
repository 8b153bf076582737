"""``graphdim tune``: search a node-level recipe on validation accuracy (Optuna), then retrain
the best one on other seeds and report its test accuracy once (graphdim.experiments.tune)."""
import json
from pathlib import Path
from typing import Tuple

from ..experiments import NodeConfig
from ..experiments.tune import (FINAL_FIRST_SEED, TRIAL_SETS, TUNE_EXTRA, TuneResult,
                                TuneSettings, finished_trials, import_optuna, study_storage,
                                tune)
from ..experiments.tune_outputs import check_tune_folder, tune_summary, write_tune_outputs
from ..experiments.tune_space import described, search_space
from ..presets import preset_defaults
from ..progress import fit_width, note
from ..registry import model_entry, models_help
from .common import read_config_source
from .options import add_config_arguments, add_model_groups, given_options

# NodeConfig's options that a trial sets itself (seeds, baselines) or that tune cannot do.
NOT_OPTIONS = TRIAL_SETS + ('distributed', )


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'tune', help='search a node-level recipe on validation accuracy (Optuna)',
        description="Search a node-level model's recipe (--model) on a graph, scored by the "
                    "mean validation accuracy over --trial-seeds seeds; test labels are hidden "
                    "from every trial. The best recipe is then retrained on --final-seeds "
                    "other seeds, with the random-init encoder and the training-free "
                    "baseline beside it: its test accuracy is reported once. Options given "
                    "on the command line are fixed; the others of the search space are "
                    f"searched around the --preset / --config recipe, which a new study "
                    f"tries first. Needs Optuna: "
                    f"{TUNE_EXTRA}.")
    names = [name for name in NodeConfig.field_names() if name not in NOT_OPTIONS]
    add_config_arguments(p, NodeConfig, names, {'model': models_help('node')})
    search = p.add_argument_group('the search')
    search.add_argument('--trials', type=int, default=30, metavar='N',
                        help='finished trials the study should reach (default %(default)s); '
                             'a resumed study runs the missing ones')
    search.add_argument('--trial-seeds', type=int, default=3, metavar='N',
                        help='seeds 0 .. N-1 per trial, their mean validation accuracy its '
                             'score (default %(default)s)')
    search.add_argument('--final-seeds', type=int, default=10, metavar='N',
                        help=f'seeds of the final run, from {FINAL_FIRST_SEED} (default '
                             f'%(default)s)')
    search.add_argument('--no-final', dest='final', action='store_false',
                        help='no final run: write the best recipe only')
    search.add_argument('--seed', dest='sampler_seed', type=int, default=0, metavar='S',
                        help="the sampler's seed, and a random split's where the graph has "
                             "no public one (default %(default)s)")
    search.add_argument('--search', nargs='+', metavar='OPTION', default=None,
                        help='search these options only (default: the whole space)')
    where = search.add_mutually_exclusive_group(required=True)
    where.add_argument('--study', metavar='FILE',
                       help='the study: an Optuna journal file, created or resumed (several '
                            'processes may work on one)')
    where.add_argument('--storage', metavar='URL', help='the study in a database instead '
                                                       '(sqlite:///tune.db, postgresql://...)')
    search.add_argument('--study-name', default='graphdim', metavar='NAME',
                        help='the study within the file or database (default %(default)s)')
    search.add_argument('--out', metavar='DIR', help='write best_config.json, trials.csv, '
                        'summary.json and the plots here (default: beside --study FILE)')
    search.add_argument('--overwrite', action='store_true',
                        help="replace a search's outputs --out DIR holds")
    search.add_argument('--json', action='store_true',
                        help='print summary.json as one JSON object on the last line')
    search.add_argument('--quiet', action='store_true', help='no progress lines')
    search.add_argument('--config', dest='base_config', metavar='FILE',
                        help="the recipe to search around: a JSON object of options or a "
                             "node run's config.json (its seeds are not used)")
    search.add_argument('--preset', dest='base_preset', metavar='NAME',
                        help='the recipe to search around: a node-level preset of graphdim '
                             'train')
    add_model_groups(p, 'node', set())
    p.set_defaults(run=run)


def base_config(args) -> Tuple[NodeConfig, Tuple[str, ...]]:
    """The recipe to search around (--preset, then --config, then the command line) and
    the options the command line gives (fixed, not searched). The preset's and file's
    seeds and baselines are a trial's own (``TRIAL_SETS``): left out."""
    given = given_options(NodeConfig, args)
    values = {}
    if args.base_preset:
        values.update(preset_defaults('train', args.base_preset))
    if args.base_config:
        kind, found = read_config_source(args.base_config)
        if kind not in (None, 'node'):
            raise ValueError(f"--config {args.base_config} is a {kind}-level run; graphdim tune "
                             f"searches node-level recipes")
        values.update(found)
    if values.pop('level', 'node') != 'node':
        raise ValueError("the --preset or --config recipe is a graph-level one; graphdim tune "
                         "searches node-level recipes")
    values = {k: v for k, v in values.items() if k not in TRIAL_SETS}
    return NodeConfig.from_dict({**values, **given}), tuple(given)


def output_folder(args) -> str:
    if args.out:
        return args.out
    if args.study is None:
        raise ValueError("--storage URL needs --out DIR (where the search's outputs go)")
    study = Path(args.study)
    return str(study.with_name(study.stem + '_tune'))


def run(args) -> None:
    optuna = import_optuna()
    base, fixed = base_config(args)
    settings = TuneSettings(trials=args.trials, trial_seeds=args.trial_seeds,
                            final_seeds=args.final_seeds, final=args.final,
                            sampler_seed=args.sampler_seed, fixed=fixed,
                            only=tuple(args.search) if args.search else None,
                            study_name=args.study_name)
    out = output_folder(args)
    check_tune_folder(out, args.overwrite)
    space = search_space(base.model, settings.only, settings.fixed)  # refused before loading
    storage = study_storage(optuna, args.study, args.storage)
    note(fit_width(f"graphdim tune: {model_entry('node', base.model).printed_name} on "
                   f"{base.graph or base.dataset} | {settings.trials} trials x "
                   f"{settings.trial_seeds} seeds, validation accuracy only | searching "
                   f"{'; '.join(described(space))}"))
    result = tune(base, settings, storage, on_trial=_trial_line(optuna, settings.trials),
                  progress=not args.quiet)
    _print_result(result)
    written, notes = write_tune_outputs(out, result, args.overwrite)
    for path in written:
        print(f"wrote {path}")
    print(f"rerun the best recipe: graphdim train --config {Path(out) / 'best_config.json'}")
    for line in notes:
        print(f"note: {line}")
    if args.json:
        print(json.dumps(tune_summary(result)))


def _trial_line(optuna, total: int):
    """Optuna's callback: one line per finished trial, with the best so far."""
    def on_trial(study, trial) -> None:
        if trial.state.name == 'COMPLETE':
            what = f"val {trial.value:.2f} %"
        elif trial.state.name == 'PRUNED':
            seeds = trial.user_attrs.get('val_acc_per_seed', [])
            what = f"pruned after {len(seeds)} seed(s) (val {sum(seeds) / len(seeds):.2f} %)" \
                if seeds else 'pruned'
        else:
            what = trial.state.name.lower()
        completed = [t for t in study.get_trials(deepcopy=False) if t.state.name == 'COMPLETE']
        best = max(completed, key=lambda t: t.value, default=None)
        shown = f" | best {best.value:.2f} % (trial #{best.number})" if best else ''
        note(f"trial {finished_trials(optuna, study)}/{total} (#{trial.number}): {what}{shown}")
    return on_trial


def _print_result(result: TuneResult) -> None:
    summary = tune_summary(result)
    print(f"best trial #{summary['best_trial']}: val {summary['best_val_acc']:.2f} % "
          f"(mean over its seeds; {result.split})")
    print(fit_width('recipe: ' + ', '.join(f"{name} {_shown(value)}"
                                           for name, value in summary['params'].items())))
    final = result.final
    if final is None:
        print("no final run (--no-final): the best recipe's test accuracy is not measured")
        return
    seeds = f"seeds {final.seeds[0]}..{final.seeds[-1]}"
    accuracy = final.figure('test_acc')
    print(f"test accuracy of the best recipe: {accuracy.mean:.2f} ± {accuracy.std:.2f} % "
          f"({seeds}, real labels)")
    for name, what in (('random_init', 'random-init encoder (untrained, same probe)'),
                       ('training_free', 'training-free baseline (raw features propagated)')):
        figure = final.figure('test_acc', name)
        if figure is not None:
            print(f"{what}: {figure.mean:.2f} ± {figure.std:.2f} %")


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return ' '.join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)

