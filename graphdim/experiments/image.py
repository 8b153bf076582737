"""Image DIM experiments: for each seed, train DIM, freeze the encoder, probe its features
against the same probes on raw pixels and on the same encoder at random initialisation.

``run_image_experiment(ImageConfig(dataset='mnist', mode='local'))`` is what
``graphdim image`` runs; its result dictionary is what ``--json`` emits
(:func:`image_run_summary`: the same, typed, as the CLI prints it).
"""
import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch

from ..data.images import IMAGE_DATASETS, ImageBatches, load_image_dataset
from ..estimators import MEASURES
from ..eval import FEATURES, Split, holdout_split, image_features, probe_features, raw_pixels
from ..image.dim import MODES, ImageDIM, mode_weights
from ..runtime import resolve_device
from ..train import fit
from .config import OPTIMIZER_RATE_MAX, SEED_MAX, RunConfig, option
from .results import ImageScores, MeanStd, RunSummary, SeedResult
from .skeleton import Experiment, run_experiment

PROBES = ('linear', 'mlp')


@dataclass
class ImageConfig(RunConfig):
    """Every setting of an image DIM run.

    The defaults follow DIM (encoder, batch 64, JSD, the mode's alpha / beta / gamma, prior
    discriminator 1000-200 at Adam 1e-4) except where CPU time decides: the critic's width
    ``mi_units`` (DIM's code: 2048) and the encoder's learning rate (DIM: 1e-4; 1e-3 learns
    more in the few epochs a CPU affords).
    """
    dataset: str = option('mnist', 'mnist (local .npz copy) or, with torchvision installed, '
                                   'cifar10, cifar100, stl10', choices=IMAGE_DATASETS)
    root: Optional[str] = option(None, 'local data root holding images/mnist/{train,test}.npz '
                                       '(default: $GRAPHDIM_DATA)')
    mode: str = option('local', 'local: DIM(L) (alpha 0, beta 1, gamma 0.1); global: DIM(G) '
                                '(1, 0, 1); local+global: (0.5, 1, 0.1)', choices=tuple(MODES))
    estimator: str = option('jsd', choices=MEASURES)
    alpha: Optional[float] = option(None, "weight of the global MI term (default: the mode's)", minimum=0)
    beta: Optional[float] = option(None, "weight of the local MI term (default: the mode's)", minimum=0)
    gamma: Optional[float] = option(None, "weight of the prior term (default: the mode's)", minimum=0)
    mi_units: int = option(256, "width of the critic heads (default %(default)s; DIM's code: "
                                "2048)", minimum=1)
    out_dim: int = option(64, 'size of the representation Y (default %(default)s)', minimum=1)
    batch_size: int = option(64, minimum=2)
    lr: float = option(1e-3, above=0, maximum=OPTIMIZER_RATE_MAX)
    epochs: int = option(3, minimum=1)
    train_size: Optional[int] = option(None, 'train DIM on this many training images (default: '
                                             'all outside the validation set)', minimum=1)
    val_size: int = option(5000, 'validation images held out of the training set', minimum=1)
    probe_train_size: Optional[int] = option(10000, 'training images the probes are fitted on '
                                                    '(default %(default)s)', minimum=1)
    probes: Tuple[str, ...] = option(('linear', ), 'linear (always run: the headline) and/or mlp '
                                                   '(200 hidden units)', choices=PROBES)
    features: Tuple[str, ...] = option(('y', ), 'encoder outputs to probe (y always)',
                                       choices=FEATURES)
    mlp_epochs: int = option(30, minimum=1)
    baselines: bool = option(True, 'skip the raw-pixel and random-encoder probes')
    seeds: int = option(1, 'number of seeds', minimum=1)
    seed: int = option(0, 'first seed', maximum=SEED_MAX)
    device: str = option('auto', 'cpu, cuda, cuda:1, or auto (default)')
    download: bool = option(True, 'fail instead of downloading a missing torchvision dataset')

    def check(self) -> None:
        """Reject bad settings before any data is loaded."""
        mode_weights(self.mode)
        for name in ('probes', 'features'):
            allowed = PROBES if name == 'probes' else FEATURES
            bad = [v for v in getattr(self, name) if v not in allowed]
            if bad or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty list of {', '.join(allowed)}; "
                                 f"got {list(getattr(self, name))}")
        if self.train_size is not None and self.train_size < self.batch_size:
            raise ValueError(f"train_size ({self.train_size}) must be at least one batch "
                             f"({self.batch_size} images)")


def build_image_model(config: ImageConfig, image_size: int, channels: int) -> ImageDIM:
    """The model a config describes (used for training and for reloading saved states)."""
    return ImageDIM.from_options(image_size, channels, config.mode, config.estimator,
                                 config.mi_units, config.alpha, config.beta, config.gamma,
                                 config.out_dim)


def _probe_set(dataset, split: Split):
    """Images, labels and split restricted to the probe-training, validation and test
    images (features are computed for these only)."""
    images = torch.cat([dataset.train_images, dataset.test_images])
    labels = torch.cat([dataset.train_labels, dataset.test_labels])
    used = split.train | split.val | split.test
    return images[used], labels[used], Split(split.train[used], split.val[used],
                                             split.test[used], split.description)


def image_embeddings(model: ImageDIM, images, device=None):
    """The representation ``Y`` of each image (eval mode, on the CPU)."""
    return image_features(model.encoder, images, ('y', ), device=device)['y']


def run_image_experiment(config: ImageConfig, progress: bool = True,
                         out_dir: Optional[str] = None,
                         overwrite: bool = False) -> Dict[str, Any]:
    """Train and probe once per seed; return the summary (accuracies in percent).

    The headline (``test_acc_mean`` / ``test_acc_std``) is the linear probe on ``y``;
    ``baselines`` holds the same probes on raw pixels and on the random-init encoder.
    With ``out_dir``: a :class:`~graphdim.runs.RunFolder` with ``config.json``,
    ``results.json``, ``labels.pt`` (the test labels) and per seed the model state, the
    embeddings ``Y`` of the test images and the loss log. A folder holding another run is
    refused unless ``overwrite`` (:meth:`~graphdim.runs.RunFolder.begin`).
    """
    return image_run_summary(config, progress, out_dir, overwrite).to_json()


def image_run_summary(config: ImageConfig, progress: bool = True,
                      out_dir: Optional[str] = None, overwrite: bool = False) -> RunSummary:
    """:func:`run_image_experiment`'s summary, typed."""
    config.check()
    return run_experiment(ImageExperiment(config, progress), out_dir, overwrite)


def _dim_training_images(dataset, split: Split, train_size: Optional[int], seed: int):
    """DIM trains on training images outside the validation set (a seeded subset)."""
    num_train = dataset.train_images.size(0)
    pool = (~split.val[:num_train]).nonzero().view(-1)
    pool = pool[torch.randperm(pool.numel(), generator=torch.Generator().manual_seed(seed))]
    return dataset.train_images[pool[:train_size]]


class ImageExperiment(Experiment):
    """An image DIM run: DIM on training images outside a validation set, probes on the
    encoder's features beside raw pixels and the same encoder at random initialisation."""
    kind = 'image'

    def __init__(self, config: ImageConfig, progress: bool = True):
        super().__init__(config, progress)
        self.device = resolve_device(config.device)

    def load(self) -> None:
        config = self.config
        self.dataset = load_image_dataset(config.dataset, config.root, config.download)

    def check_inputs(self) -> None:
        """The validation and probe-training sizes against the dataset's training images
        (the split's sizes are every seed's), before anything is trained or written."""
        config, dataset = self.config, self.dataset
        holdout_split(dataset.train_images.size(0), dataset.test_images.size(0),
                      config.val_size, config.seed, config.probe_train_size)

    def header(self) -> str:
        config = self.config
        # ' | ' parts: progress.fit_width packs them into lines of 100 columns
        return (f"graphdim: image DIM ({config.mode}) on {config.dataset} | device "
                f"{self.device} | {config.seeds} seed(s) | {config.estimator}, mi_units "
                f"{config.mi_units}, batch {config.batch_size}, lr {config.lr:g}, "
                f"{config.epochs} epochs")

    def seed_note(self, run: SeedResult) -> str:
        return (f"  seed {run.seed}: linear/y test {run.scores.test_acc:.2f} %, val "
                f"{run.scores.val_acc:.2f} %; {run.train_seconds:.1f} s training")

    def labels(self):
        return self.dataset.test_labels

    def input_size(self) -> Dict[str, int]:
        return {'image_size': self.dataset.image_size, 'channels': self.dataset.channels}

    def build(self) -> ImageDIM:
        return build_image_model(self.config, self.dataset.image_size, self.dataset.channels)

    def random_init(self, model: ImageDIM, seed: int) -> Dict[str, ImageScores]:
        # Probed after training, beside the trained encoder, on the same images.
        self.random_encoder = copy.deepcopy(model.encoder)
        return {}

    def train(self, model: ImageDIM, seed: int, checkpoint):
        config, dataset = self.config, self.dataset
        self.split = holdout_split(dataset.train_images.size(0), dataset.test_images.size(0),
                                   config.val_size, seed, config.probe_train_size)
        self.train_images = _dim_training_images(dataset, self.split, config.train_size, seed)
        return fit(model, ImageBatches(self.train_images, config.batch_size, seed=seed),
                   epochs=config.epochs, lr=config.lr, patience=0, device=self.device,
                   progress=self.progress, desc=f'{dataset.name} seed {seed}')

    def embed(self, model: ImageDIM):
        self.model = model
        config = self.config
        self.images, self.probe_labels, self.probe_split = _probe_set(self.dataset, self.split)
        self.features = tuple(config.features) if 'y' in config.features \
            else ('y', ) + tuple(config.features)
        return image_features(model.encoder, self.images, self.features, device=self.device)

    def probe(self, dim_features, seed: int) -> ImageScores:
        return ImageScores(self._probes(dim_features, seed), self.split.description,
                           self.train_images.size(0))

    def baselines_beside(self, seed: int) -> Dict[str, ImageScores]:
        """The same probes on the raw pixels and on the untrained encoder, same images."""
        if not self.config.baselines:
            return {}
        return {'raw_pixels': ImageScores(self._probes(
                    {'pixels': raw_pixels(self.images)}, seed)),
                'random_encoder': ImageScores(self._probes(image_features(
                    self.random_encoder.to(self.device), self.images, self.features,
                    device=self.device), seed))}

    def _probes(self, features, seed: int) -> Dict[str, Dict[str, Any]]:
        config = self.config
        probes = tuple(config.probes) if 'linear' in config.probes \
            else ('linear', ) + tuple(config.probes)
        return probe_features(features, self.probe_labels, self.probe_split, probes,
                              mlp_epochs=config.mlp_epochs, seed=seed, device=self.device)

    def kept_embeddings(self, dim_features):
        # The probe set ends with every test image, in order: their Y are the embeddings.
        return dim_features['y'][self.probe_split.test]

    def summarize(self, seeds, runs) -> RunSummary:
        return _summarize(self.config, self.dataset, seeds, runs, self.model, self.device)


def _summarize(config: ImageConfig, dataset, seeds, runs: List[SeedResult], model: ImageDIM,
               device) -> RunSummary:
    def scores(run: SeedResult, whose: str) -> ImageScores:  # the trained encoder's: ''
        return run.baselines[whose] if whose else run.scores
    figures = {'': {'test_acc': MeanStd.of(r.scores.test_acc for r in runs),
                    'val_acc': MeanStd.mean_of(r.scores.val_acc for r in runs)}}
    figures.update({whose: {'test_acc': MeanStd.of(r.baselines[whose].test_acc for r in runs)}
                    for whose in runs[0].baselines})
    probe_figures = {whose: {probe: MeanStd.of(scores(r, whose).figure(probe) for r in runs)
                             for probe in scores(runs[0], whose).probes} for whose in figures}
    facts = {
        'mode': config.mode,
        'weights': {'alpha': model.alpha, 'beta': model.beta, 'gamma': model.gamma},
        'train_images': runs[0].scores.train_images, 'epochs': config.epochs,
        'device': str(device),
        'split': runs[0].scores.split.replace(f"(seed {seeds[0]})", "(seed = run seed)"),
        'num_train': dataset.train_images.size(0), 'num_test': dataset.test_images.size(0),
        'image_shape': [dataset.channels, dataset.image_size, dataset.image_size]}
    return RunSummary('image', dataset.name, seeds, figures, probe_figures, facts)
