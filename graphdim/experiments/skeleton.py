"""The one experiment skeleton of node, graph and image runs.

:func:`run_experiment` does what every run does, in one order: load the data, build the model
once (so bad options, data and models fail before anything is written), begin the run
folder, then per seed: seed, build, the random-init encoder's figures (where asked for),
train, embed, probe, save; then summarise and write the results. A level
(:class:`Experiment` subclass) supplies only what differs: how it loads data, builds and
trains its model, embeds and probes, and the figures of its summary.
"""
import contextlib
import statistics
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, Dict, Iterator, List, Optional

import torch

from ..progress import fit_width, note, showing, waiting
from ..runs import RunFolder
from ..runtime import package_versions, peak_rss_mb, seed_everything
from ..train import FitResult


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

    def seed_note(self, run: Dict[str, Any]) -> str:
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

    def random_init(self, model: torch.nn.Module, seed: int) -> Dict[str, Any]:
        """The untrained model's figures (``random_init_*``) where the config asks for them;
        the RNG is left as it was, so the trained run is the same with or without them."""
        if not getattr(self.config, 'random_baseline', False):
            return {}
        with torch.random.fork_rng(devices=[]):
            figures = self.probe(self.embed(model), seed)
        return {f'random_init_{key}': figures[key] for key in self.baseline_keys
                if key in figures}

    def baselines(self) -> str:
        """What :meth:`random_init` probes, as its phase line names it ('' where nothing)."""
        return 'the untrained encoder' if getattr(self.config, 'random_baseline', False) \
            else ''

    baseline_keys = ('test_acc', 'val_acc', 'hops', 'reinforcement', 'plain_test_acc',
                     'plain_val_acc')

    def train(self, model: torch.nn.Module, seed: int,
              checkpoint: Optional[str]) -> FitResult:
        raise NotImplementedError

    def embed(self, model: torch.nn.Module) -> torch.Tensor:
        raise NotImplementedError

    def probe(self, embeddings: torch.Tensor, seed: int) -> Dict[str, Any]:
        """The seed's figures (accuracies in percent); empty without labels."""
        raise NotImplementedError

    def kept_embeddings(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The rows saved as the seed's ``embeddings.pt``."""
        return embeddings

    def summarize(self, seeds: List[int], runs: List[Dict[str, Any]]) -> Dict[str, Any]:
        """The level's figures of the summary (the skeleton adds timing, config, versions)."""
        raise NotImplementedError


# What a run folder's lock names as its holder, for each kind of run.
COMMAND_OF_KIND = {'node': 'graphdim train', 'graph': 'graphdim train --level graph',
                   'image': 'graphdim image'}


def run_experiment(experiment: Experiment, out_dir: Optional[str] = None,
                   overwrite: bool = False, tensorboard: bool = False) -> Dict[str, Any]:
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
        summary.update({
            'epochs_mean': statistics.fmean(r['epochs'] for r in runs),
            'epoch_seconds_median': statistics.median(
                s for r in runs for s in r['epoch_seconds']),
            'train_seconds_total': sum(r['train_seconds'] for r in runs),
            'seconds_total': sum(r['seconds'] for r in runs),
            'peak_rss_mb': peak_rss_mb(), 'torch_threads': torch.get_num_threads(),
            'config': asdict(config), 'versions': package_versions(),
            'runs': [{k: v for k, v in r.items() if k not in ('epoch_seconds', 'losses')}
                     for r in runs]})
        if folder is not None:
            folder.write_results(summary)
            summary['out_dir'] = str(out_dir)
    return summary


def _one_seed(experiment: Experiment, seed: int, checkpoints: Optional[RunFolder],
              folder: Optional[RunFolder], tensorboard: bool) -> Dict[str, Any]:
    start = time.perf_counter()
    seed_everything(seed)
    model = experiment.build()
    with _baselines_named(experiment, seed):  # random init, training-free
        run: Dict[str, Any] = {'seed': seed, **experiment.random_init(model, seed)}
    train_start = time.perf_counter()
    history = experiment.train(model, seed, checkpoints.checkpoint_path(seed)
                               if checkpoints is not None else None)
    train_seconds = time.perf_counter() - train_start
    embeddings = experiment.embed(model)
    with waiting(f"seed {seed}: probe of the trained embeddings"):  # above the probe's bars
        run.update(experiment.probe(embeddings, seed))
    run.update({'epochs': history.epochs, 'best_epoch': history.best_epoch,
                'final_loss': history.best_loss, 'train_seconds': train_seconds,
                'seconds': time.perf_counter() - start,
                'epoch_seconds': history.epoch_seconds, 'losses': history.losses})
    line = experiment.seed_note(run)
    if line:
        note(line)  # each seed's figure as it ends, not only in the final summary
    if folder is not None:
        folder.write_seed(seed, model, history, experiment.config.lr,
                          experiment.kept_embeddings(embeddings))
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
