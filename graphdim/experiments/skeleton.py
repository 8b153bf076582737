"""The one experiment skeleton of node, graph and image runs.

:func:`run_experiment` does what every run does, in one order: load the data, build the model
once (so bad options, data and models fail before anything is written), begin the run
folder, then per seed: seed, build, the random-init encoder's figures (where asked for),
train, embed, probe, save; then summarise and write the results. A level
(:class:`Experiment` subclass) supplies only what differs: how it loads data, builds and
trains its model, embeds and probes, and the figures of its summary. Results are typed
(:mod:`graphdim.experiments.results`): a level's probe gives a scores object, each seed a
:class:`~graphdim.experiments.results.SeedResult`, the run a
:class:`~graphdim.experiments.results.RunSummary`, whose JSON is ``results.json``.
"""
import contextlib
import statistics
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict
from typing import Dict, Iterator, List, Optional

import torch

from ..progress import fit_width, note, showing, waiting
from ..runs import RunFolder
from ..runtime import package_versions, peak_rss_mb, seed_everything
from ..train import FitResult
from .results import RunSummary, Scores, SeedResult


class Experiment:
    """A level's part of a run (see the module docstring); ``config`` is its config."""
    kind: str = ''

    def __init__(self, config, progress: bool = True):
        self.config, self.progress = config, progress
        self.rank = 0  # the process that writes the run folder and reports

    @contextmanager
    def session(self) -> Iterator[None]:
        """Around the whole run (a process group at node level)."""
        yield

    def header(self) -> str:
        """One line printed before anything loads: model, dataset, recipe, device."""
        return ''

    def data_name(self) -> str:
        """What :meth:`load` loads, as the progress line names it."""
        return str(getattr(self.config, 'dataset', 'the data'))

    def seed_note(self, run: SeedResult) -> str:
        """The progress line of a finished seed (its figures), or ''."""
        return ''

    def load(self) -> None:
        """Load (and check) the data."""
        raise NotImplementedError

    def check_inputs(self) -> None:
        """Refuse what the config and the loaded data cannot do together (folds against
        class sizes, a split against the data's size), before the run folder is written: a
        run that would fail at its first probe fails here, leaving the folder as it was."""

    def labels(self) -> Optional[torch.Tensor]:
        """The labels of the embedded rows, saved as the folder's ``labels.pt``."""
        return None

    def input_size(self) -> Dict[str, int]:
        """What rebuilding the model needs besides the config (saved in ``config.json``)."""
        raise NotImplementedError

    def build(self) -> torch.nn.Module:
        raise NotImplementedError

    def random_init(self, model: torch.nn.Module, seed: int) -> Dict[str, Scores]:
        """The baselines' scores by name: the untrained model's (``'random_init'``) where
        the config asks for them; the RNG is left as it was, so the trained run is the same
        with or without them."""
        if not getattr(self.config, 'random_baseline', False):
            return {}
        with torch.random.fork_rng(devices=[]):
            return {'random_init': self.probe(self.embed(model), seed)}

    def baselines(self) -> str:
        """What :meth:`random_init` probes, as its phase line names it ('' where nothing)."""
        return 'the untrained encoder' if getattr(self.config, 'random_baseline', False) \
            else ''

    def train(self, model: torch.nn.Module, seed: int,
              checkpoint: Optional[str]) -> FitResult:
        raise NotImplementedError

    def embed(self, model: torch.nn.Module) -> torch.Tensor:
        raise NotImplementedError

    def probe(self, embeddings: torch.Tensor, seed: int) -> Scores:
        """The scores of the level's probe of ``embeddings``."""
        raise NotImplementedError

    def baselines_beside(self, seed: int) -> Dict[str, Scores]:
        """Baselines probed after training, beside the trained encoder's probe, by name
        (image runs: the raw pixels and the untrained encoder, on the same images)."""
        return {}

    def kept_embeddings(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The rows saved as the seed's ``embeddings.pt``."""
        return embeddings

    def scored_embeddings(self) -> Optional[torch.Tensor]:
        """The embeddings the last :meth:`probe` scored where they are not the kept ones
        (reinforced node embeddings), saved as the seed's ``scored_embeddings.pt``; None
        where the probe scored the kept embeddings themselves."""
        return None

    def summarize(self, seeds: List[int], runs: List[SeedResult]) -> RunSummary:
        """The level's part of the summary: dataset, figures over the seeds, facts (the
        skeleton adds the runs, timing, config, versions)."""
        raise NotImplementedError


# What a run folder's lock names as its holder, for each kind of run.
COMMAND_OF_KIND = {'node': 'graphdim train', 'graph': 'graphdim train --level graph',
                   'image': 'graphdim image'}


def run_experiment(experiment: Experiment, out_dir: Optional[str] = None,
                   overwrite: bool = False, tensorboard: bool = False) -> RunSummary:
    """Run ``experiment`` once per seed of its config; return the summary. With ``out_dir``,
    the run folder (:class:`~graphdim.runs.RunFolder`) is checked first and, with
    ``overwrite``, cleared only after the data has loaded and the model has been built once:
    bad input fails before anything is written or replaced."""
    config = experiment.config
    seeds = config.seed_list()
    resume = getattr(config, 'resume', False)
    if out_dir is not None:  # refused before anything is loaded; nothing deleted yet
        RunFolder(out_dir).begin(experiment.kind, asdict(config), resume=resume,
                                 overwrite=overwrite)
    with contextlib.ExitStack() as held, experiment.session(), \
            showing(experiment.progress and experiment.rank == 0):
        header = experiment.header()  # first: what runs where, before any loading
        if header:
            note(fit_width(header))
        with waiting(f"loading {experiment.data_name()} and building the model"):
            experiment.load()
            experiment.check_inputs()
            experiment.build()  # a model that cannot be built fails before the folder is touched
        folder = RunFolder(out_dir) if out_dir is not None and experiment.rank == 0 else None
        if folder is not None:
            # One writer per run folder (graphdim.runlock), held until results.json is
            # written; checked again under it: another run may have written there since.
            held.enter_context(folder.lock(COMMAND_OF_KIND[experiment.kind]))
            with warnings.catch_warnings():  # its warnings were given by the first check
                warnings.simplefilter('ignore')
                folder.begin(experiment.kind, asdict(config), resume=resume,
                             overwrite=overwrite)
            if overwrite:  # the inputs and the model are checked: replace the old run,
                folder.set_aside()  # kept aside until this one has finished (or failed)
                held.push(lambda failed, *_: folder.end_replacing(failed is None))
            labels = experiment.labels()
            if labels is not None:
                folder.write_labels(labels)
            folder.write_config(experiment.kind, asdict(config), seeds,
                                **experiment.input_size())
        # Every process reads its own checkpoints; rank 0 alone writes the folder.
        checkpoints = RunFolder(out_dir) if out_dir is not None else None
        runs = [_one_seed(experiment, seed, checkpoints, folder, tensorboard)
                for seed in seeds]
        summary = experiment.summarize(seeds, runs)
        summary.runs = runs
        summary.epochs_mean = statistics.fmean(r.epochs for r in runs)
        summary.epoch_seconds_median = statistics.median(
            s for r in runs for s in r.epoch_seconds)
        summary.train_seconds_total = sum(r.train_seconds for r in runs)
        summary.seconds_total = sum(r.seconds for r in runs)
        summary.peak_rss_mb, summary.torch_threads = peak_rss_mb(), torch.get_num_threads()
        summary.config, summary.versions = asdict(config), package_versions()
        if folder is not None:
            folder.write_results(summary.to_json())
            summary.out_dir = str(out_dir)
    return summary


def _one_seed(experiment: Experiment, seed: int, checkpoints: Optional[RunFolder],
              folder: Optional[RunFolder], tensorboard: bool) -> SeedResult:
    start = time.perf_counter()
    seed_everything(seed)
    model = experiment.build()
    with _baselines_named(experiment, seed):  # random init, training-free
        baselines = experiment.random_init(model, seed)
    train_start = time.perf_counter()
    history = experiment.train(model, seed, checkpoints.checkpoint_path(seed)
                               if checkpoints is not None else None)
    train_seconds = time.perf_counter() - train_start
    embeddings = experiment.embed(model)
    with waiting(f"seed {seed}: probe of the trained embeddings"):  # above the probe's bars
        scores = experiment.probe(embeddings, seed)
        baselines.update(experiment.baselines_beside(seed))
    run = SeedResult(seed, scores, baselines, history.epochs, history.best_epoch,
                     history.best_loss, train_seconds, time.perf_counter() - start,
                     history.epoch_seconds, history.losses)
    line = experiment.seed_note(run)
    if line:
        note(line)  # each seed's figure as it ends, not only in the final summary
    if folder is not None:
        folder.write_seed(seed, model, history, experiment.config.lr,
                          experiment.kept_embeddings(embeddings),
                          experiment.scored_embeddings())
        if tensorboard:
            from ..logs import write_tensorboard
            write_tensorboard(history, experiment.config.lr, folder.tensorboard_dir(seed))
    return run


def _baselines_named(experiment: Experiment, seed: int):
    """The baselines' phase line, where the run has baselines (seconds on a large graph,
    before the first epoch: named, not silent)."""
    probed = experiment.baselines()
    return waiting(f"seed {seed}: baselines before training ({probed})") if probed \
        else contextlib.nullcontext()
