"""``graphdim tune``: a recipe search on validation accuracy alone, with Optuna.

:func:`tune` searches the options of :func:`~graphdim.experiments.tune_space.search_space`
around a base config (every option not searched is the base's): each trial samples a recipe
(TPE, seeded), trains and probes it on ``trial_seeds`` seeds (0, 1, ...) and scores it by the
mean validation accuracy; after each seed a median pruner may stop it. The search trains on a
copy of the graph whose test labels are all replaced by one training label, made before any
trial runs: no trial can read them. A graph without a public split gets one random split
(seeded by the sampler's seed), the same for the search and the final run, so the final test
nodes are nodes whose labels the search never read.

The study lives in Optuna storage (a journal file, or a database), so a killed search resumes:
``trials`` is the number of finished trials the study should reach. The study records its
setup (model, graph, base config, space, seeds) and refuses to resume with another.

At the end the best recipe is retrained on the real labels with ``final_seeds`` seeds from
:data:`FINAL_FIRST_SEED` (never used by the search), the random-init encoder and the
training-free baseline beside it (``random_baseline``): the one test figure of the search.
:func:`graphdim.experiments.tune_outputs.write_tune_outputs` writes what it found.
"""
import copy
import json
import os
import socket
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import psutil

from ..data import NodeDataset
from ..eval import public_split, random_split
from ..eval.splits import hide_test_labels
from ..progress import note
from ..registry import flat_options
from .node import NodeConfig, load_config_graph, node_run_summary
from .results import RunSummary
from .tune_space import (base_params, decoded, idle_options, option_defaults, sample,
                         search_space)

TUNE_EXTRA = "pip install 'graphdim[tune]'"
# The search's seeds are 0 .. trial_seeds - 1; the final run's start here, never searched.
FINAL_FIRST_SEED = 100
MAX_TRIALS = 100_000
# Where a study keeps graphdim's record of its setup, and a trial the process running it.
SETUP_ATTR, WORKER_ATTR, RETRY_ATTR = 'graphdim_setup', 'graphdim_worker', 'graphdim_retry_of'
# Options a trial sets itself (its seeds; no baselines); a run's config.json records them.
TRIAL_SETS = ('seeds', 'seed', 'random_baseline', 'resume', 'checkpoint_every')
# Options that change no figure the search compares: a study resumes with them changed.
NOT_RECORDED = TRIAL_SETS + ('device', 'root', 'download', 'inference_batch_size')
# A RUNNING trial that names no process (killed between its start and its first line)
# counts as abandoned after this long.
UNCLAIMED_SECONDS = 60.0


def import_optuna():
    """Optuna, quiet below errors; without it one error line naming the extra."""
    try:
        import optuna
    except ImportError:
        raise ValueError(f"graphdim tune needs Optuna: {TUNE_EXTRA}") from None
    # Errors only: a failed trial's error is the command's one error line, not a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna


@dataclass
class TuneSettings:
    """How much to search: ``trials`` finished trials in all (a resumed study runs the
    missing ones), ``trial_seeds`` seeds per trial, ``final_seeds`` for the final run (where
    ``final``), ``sampler_seed`` seeds the sampler and a random split; ``only`` narrows the
    space to those options, ``fixed`` leaves those out (options given a value)."""
    trials: int = 30
    trial_seeds: int = 3
    final_seeds: int = 10
    final: bool = True
    sampler_seed: int = 0
    only: Optional[Tuple[str, ...]] = None
    fixed: Tuple[str, ...] = ()
    study_name: str = 'graphdim'

    def __post_init__(self):
        for name, low, high in (('trials', 1, MAX_TRIALS), ('trial_seeds', 1, FINAL_FIRST_SEED),
                                ('final_seeds', 1, 10_000), ('sampler_seed', 0, 2 ** 32 - 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or \
                    not low <= value <= high:
                raise ValueError(f"--{name.replace('_', '-')} must be an integer from {low} "
                                 f"to {high}; got {value!r}")


@dataclass
class TuneResult:
    """A finished search: the study, its space, the best trial's config (seeds and baselines
    of the final run) and the final run's summary (None without ``final``)."""
    study: Any
    space: Dict[str, Any]
    best_config: NodeConfig
    final: Optional[RunSummary]
    split: str


def study_storage(optuna, study_file: Optional[str] = None, url: Optional[str] = None):
    """A journal file's storage (several processes may share it: it is locked), or a
    database's (an SQLAlchemy URL)."""
    if url is not None:
        try:
            return optuna.storages.RDBStorage(url)
        except Exception as error:  # SQLAlchemy's errors: a bad URL, a missing driver
            raise ValueError(f"--storage {url}: {str(error).splitlines()[0]}") from None
    from optuna.storages.journal import JournalFileBackend
    folder = os.path.dirname(os.path.abspath(study_file))
    if not os.path.isdir(folder) or os.path.isdir(study_file):
        raise ValueError(f"--study {study_file}: must be a file in an existing folder")
    return optuna.storages.JournalStorage(JournalFileBackend(study_file))


def split_graphs(dataset: NodeDataset, seed: int) -> Tuple[NodeDataset, NodeDataset, str]:
    """``(the graph the search trains on, the final run's, the split's description)``: both
    with one fixed split (the public one, else a random one drawn with ``seed``); the search's
    test labels all replaced by the first training label."""
    data = dataset.data
    if getattr(data, 'y', None) is None:
        raise ValueError("graphdim tune chooses on validation accuracy, and the graph has no "
                         "labels: add --labels FILE")
    split = public_split(data) if dataset.public_split else random_split(data.y, seed)
    described = 'public split' if dataset.public_split else \
        f"one random split (seed {seed}) for the search and the final run"
    real, hidden = copy.copy(data), copy.copy(data)  # Data's copy: own attributes, same tensors
    for graph in (real, hidden):
        graph.train_mask, graph.val_mask, graph.test_mask = split.train, split.val, split.test
    hidden.y = hide_test_labels(data.y, split)
    return tuple(NodeDataset(dataset.name, graph, dataset.num_classes, True,
                             dataset.features_row_normalized)
                 for graph in (hidden, real)) + (described, )


def trial_config(base: NodeConfig, values: Dict[str, Any], **sets) -> NodeConfig:
    """``base`` with the sampled ``values`` and the trial's own settings (``sets``). An
    option that does not act with the sampled values (``--reinforcement`` where ``--hops 0``
    was sampled) goes back to its default, rather than fail the trial."""
    merged = {**flat_options(asdict(base)), **values, **sets}
    defaults = option_defaults(base.model)
    merged.update({name: defaults[name] for name in idle_options(base.model, merged)})
    return NodeConfig.from_dict(merged)


def _record(base: NodeConfig, dataset: NodeDataset, space, settings, split) -> Dict[str, Any]:
    """What a study must have been started with to be resumed (JSON: lists, not tuples): the
    base's options but those searched (their base values are never trained) and those that
    change no figure."""
    options = {k: v for k, v in flat_options(asdict(base)).items()
               if k not in NOT_RECORDED and k not in space}
    return json.loads(json.dumps({'graph': dataset.name, 'split': split, 'base': options,
                                  'space': space, 'trial_seeds': settings.trial_seeds}))


def open_study(optuna, storage, settings: TuneSettings, record: Dict[str, Any],
               base: Optional[NodeConfig] = None):
    """The study (created, or loaded to resume), its setup checked against ``record`` (or
    :func:`added_since` it, around ``base``), the trials of killed processes failed
    (:func:`fail_abandoned_trials`)."""
    try:
        study = optuna.create_study(
            storage=storage, study_name=settings.study_name, direction='maximize',
            pruner=optuna.pruners.MedianPruner(n_startup_trials=5), load_if_exists=True)
    except ValueError as error:  # a file that is not a journal: json's error
        raise ValueError(f"the study storage cannot be read as an Optuna study: {error}") \
            from None
    # Seeded past the trials the study holds: a resumed search seeded as at its start would
    # draw its first (random) recipes again, those of the trials it already has.
    study.sampler = optuna.samplers.TPESampler(
        seed=(settings.sampler_seed + len(study.trials)) % 2 ** 32)
    recorded = study.user_attrs.get(SETUP_ATTR)
    if recorded is None and study.trials:
        raise ValueError(f"the study {settings.study_name!r} was not started by graphdim tune; "
                         f"give another --study FILE or --study-name")
    if recorded is None:
        study.set_user_attr(SETUP_ATTR, record)
    elif recorded != record and not (base is not None and added_since(
            recorded, record, flat_options(asdict(base)), option_defaults(base.model))):
        raise ValueError(f"the study {settings.study_name!r} was started with another setup "
                         f"({_differences(recorded, record)}): resume it with the same "
                         f"options, or give another --study FILE or --study-name")
    fail_abandoned_trials(optuna, study)
    return study


def added_since(recorded: Dict[str, Any], record: Dict[str, Any], base: Dict[str, Any],
                defaults: Dict[str, Any]) -> bool:
    """Whether ``record`` differs from a study's ``recorded`` setup only by options graphdim
    added since the study began, each at its default, or made searchable since, each where
    the study's trials had it: such a study resumes with its own space (``base``: the
    options searched around, flat; ``defaults``: each option's default)."""
    def plain(value):
        return json.loads(json.dumps(value))
    rest = [k for k in {*recorded, *record} if k not in ('base', 'space')]
    old_space, new_space = recorded.get('space', {}), record.get('space', {})
    if any(recorded.get(k) != record.get(k) for k in rest) or \
            any(new_space.get(k) != v for k, v in old_space.items()):
        return False
    old_base = recorded.get('base', {})
    now = {**record.get('base', {}),
           **{k: plain(base.get(k)) for k in new_space if k not in old_space}}
    return all(old_base.get(k, plain(defaults.get(k))) == v for k, v in now.items())


def _differences(recorded: Dict[str, Any], record: Dict[str, Any]) -> str:
    old, new = {**recorded, **recorded.get('base', {})}, {**record, **record.get('base', {})}
    names = [n for n in dict.fromkeys([*old, *new]) if n != 'base' and old.get(n) != new.get(n)]
    return '; '.join(f"{n}: {old.get(n)!r} there, {new.get(n)!r} now" for n in names[:3])[:300]


def _this_worker() -> Dict[str, Any]:
    return {'host': socket.gethostname(), 'pid': os.getpid(),
            'started': psutil.Process().create_time()}


def _abandoned(trial) -> bool:
    worker = trial.user_attrs.get(WORKER_ATTR)
    if worker is None:
        started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
        return time.time() - started > UNCLAIMED_SECONDS
    if worker.get('host') != socket.gethostname():
        return False  # another machine's process: it cannot be checked from here
    try:
        return psutil.Process(worker['pid']).create_time() != worker['started']
    except psutil.Error:  # gone
        return True


def fail_abandoned_trials(optuna, study) -> int:
    """Mark FAIL each RUNNING trial whose process on this machine is gone (``kill -9``, out
    of memory), and queue its recipe once more (one retry). Why not every RUNNING trial at
    start-up: another process may be running them on the same study. Why not Optuna's
    heartbeat: its journal storage has none (only databases). A trial records its process
    (host, pid, start time) first thing; this host's dead ones are failed here, and the rest
    never block: ``trials`` counts finished trials only."""
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING, )):
        if not _abandoned(trial):
            continue
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
        retry = RETRY_ATTR not in trial.user_attrs and bool(trial.params)
        if retry:
            study.enqueue_trial(trial.params, user_attrs={RETRY_ATTR: trial.number})
        note(f"trial #{trial.number} was left running by a process that is gone: marked "
             f"failed" + (', its recipe queued again' if retry else ''))
        failed += 1
    return failed


def finished_trials(optuna, study) -> int:
    states = optuna.trial.TrialState
    return len(study.get_trials(deepcopy=False, states=(states.COMPLETE, states.PRUNED)))


def objective(optuna, base: NodeConfig, space, graph: NodeDataset, trial_seeds: int):
    """The trial function: sample a recipe, train and probe it seed by seed on ``graph`` (test
    labels hidden), report the mean validation accuracy so far after each (the pruner may
    stop it), return it."""
    def run_trial(trial) -> float:
        trial.set_user_attr(WORKER_ATTR, _this_worker())  # first: see fail_abandoned_trials
        values = sample(trial, base.model, space, flat_options(asdict(base)))
        accuracies = []
        for seed in range(trial_seeds):
            config = trial_config(base, values, seed=seed, seeds=1, random_baseline=False)
            summary = node_run_summary(config, progress=False, dataset=graph)
            accuracies.append(summary.runs[0].scores.val_acc)
            trial.set_user_attr('val_acc_per_seed', accuracies)
            trial.report(statistics.fmean(accuracies), seed)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return statistics.fmean(accuracies)
    return run_trial


def tune(base: NodeConfig, settings: TuneSettings, storage, dataset: Optional[NodeDataset] = None,
         on_trial: Optional[Callable] = None, progress: bool = True) -> TuneResult:
    """Search around ``base`` in ``storage`` until the study has ``settings.trials`` finished
    trials, then retrain the best recipe (:func:`final_run`). A new study's first trial is
    ``base`` itself, as far as the space holds its values (:func:`base_params`). ``dataset``
    overrides the graph ``base`` names; ``on_trial(study, trial)`` is called after each."""
    optuna = import_optuna()
    if base.distributed:
        raise ValueError("graphdim tune trains in one process: drop --distributed")
    space = search_space(base.model, settings.only, settings.fixed)
    graph = dataset if dataset is not None else load_config_graph(base)
    hidden, real, split = split_graphs(graph, settings.sampler_seed)
    study = open_study(optuna, storage, settings,
                       _record(base, graph, space, settings, split), base)
    recorded_space = study.user_attrs[SETUP_ATTR]['space']  # a study searches its own space
    space = {name: spec for name, spec in space.items() if name in recorded_space}
    if not study.trials:  # a new study tries the recipe it searches around first
        study.enqueue_trial(base_params(base.model, space, flat_options(asdict(base))),
                            skip_if_exists=True)
    missing = settings.trials - finished_trials(optuna, study)
    if missing < settings.trials:
        note(f"resuming the study {settings.study_name!r}: {settings.trials - missing} of "
             f"{settings.trials} trials finished" + ('' if missing > 0 else ', none to run'))
    if missing > 0:
        states = optuna.trial.TrialState
        study.optimize(objective(optuna, base, space, hidden, settings.trial_seeds),
                       n_trials=missing, callbacks=[
                           optuna.study.MaxTrialsCallback(settings.trials,
                                                          states=(states.COMPLETE,
                                                                  states.PRUNED)),
                           *([on_trial] if on_trial else [])])
    return final_run(optuna, study, base, space, real, settings, split, progress)


def final_run(optuna, study, base: NodeConfig, space, graph: NodeDataset,
              settings: TuneSettings, split: str, progress: bool = True) -> TuneResult:
    """The best trial's recipe on ``graph`` (real labels), seeds from
    :data:`FINAL_FIRST_SEED`, beside the random-init encoder and the training-free
    baseline; none without ``settings.final``."""
    completed = study.get_trials(deepcopy=False,
                                 states=(optuna.trial.TrialState.COMPLETE, ))
    if not completed:
        raise ValueError(f"the study {settings.study_name!r} has no completed trial to "
                         f"choose from")
    values = decoded(space, study.best_trial.params)
    best = trial_config(base, values, seed=FINAL_FIRST_SEED, seeds=settings.final_seeds,
                        random_baseline=True)
    final = node_run_summary(best, progress=progress, dataset=graph) if settings.final \
        else None
    return TuneResult(study, space, best, final, split)

