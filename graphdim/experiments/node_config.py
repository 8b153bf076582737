"""The node level's config: :class:`NodeConfig`, every setting of a node-level run that is
not a model's own (the data, the settings every model reads, training, the probe, scaling).
A model's own options live in its file (:mod:`graphdim.registry`); ``graphdim train``'s
options are generated from these fields (:mod:`graphdim.cli.options`).
"""
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from ..data.custom import FEATURE_FALLBACKS
from ..estimators import MEASURES
from ..eval.linear import C_GRIDS, AdamSchedule
from ..eval.reinforced import HOPS_GRID
from ..graph import models as _models  # noqa: F401  (registers the models)
from ..graph.encoders import ACTIVATIONS
from ..graph.reinforcement import MAX_HOPS, MODES
from ..registry import model_names
from .config import (OPTIMIZER_RATE_MAX, SEED_MAX, ModelChoices, RunConfig,
                     model_options_field, option)


PROBE_OPTIMIZERS = ('lbfgs', 'adam')


@dataclass
class NodeConfig(RunConfig):
    """Every setting of a node-level run: the data, the settings every model reads, training,
    the probe, scaling; the defaults are the default model's transductive recipe. The model's
    own options are ``model_options``, an instance of its options class (declared in its file,
    :mod:`graphdim.registry`), or a dict of them (``NodeConfig(model=NAME,
    model_options={OPTION: VALUE})``); :meth:`from_dict` also takes them flat."""
    LEVEL = 'node'
    MODEL_ARGUMENTS = ('hidden_channels', 'num_layers', 'activation', 'estimator')
    MODEL_DEFAULTS = {'estimator': 'bce'}
    model: str = option(model_names('node')[0], 'the node-level model (graphdim.registry)',
                        choices=ModelChoices('node'))
    model_options: Any = model_options_field()
    dataset: str = option('karate', '%(default)s (built in, default), Cora, CiteSeer, PubMed, '
                               'amazon-photo, amazon-computers, coauthor-cs, coauthor-physics')
    root: Optional[str] = option(None, 'local data root laid out as planetoid/Cora/raw/... '
                                       '(default: $GRAPHDIM_DATA, else download)')
    # search: what `graphdim tune` tries of the options every model reads (each model's own
    # options declare theirs; graphdim.experiments.tune_space merges both).
    hidden_channels: int = option(512, 'embedding size (default %(default)s)', flag='--hidden',
                                  minimum=1, search=[256, 512, 1024, 1536, 2048])
    num_layers: int = option(1, flag='--layers', minimum=1)
    activation: str = option('prelu', choices=ACTIVATIONS)
    # None: the model's own objective (MODEL_DEFAULTS: the model's, else the level's).
    estimator: Optional[str] = option(None, f"the MI estimator (default: the model's own "
                                            f"objective; {MODEL_DEFAULTS['estimator']} where "
                                            f"the model names none)", choices=MEASURES)
    lr: float = option(0.001, above=0, maximum=OPTIMIZER_RATE_MAX,
                       search={'low': 1e-4, 'high': 1e-2, 'log': True})
    weight_decay: float = option(0.0, minimum=0, maximum=OPTIMIZER_RATE_MAX,
                                 search=[0.0, 1e-5, 1e-4, 1e-3])
    epochs: int = option(1000, 'maximum epochs', minimum=1, search=[100, 200, 500])
    patience: int = option(20, 'early-stopping patience on the training loss (0: off)', minimum=0)
    min_epochs: int = option(50, 'no early stop before this epoch', minimum=0)
    choose_epoch: str = option('loss', "the epoch whose parameters are kept: the lowest "
                                       "training loss (default) or the probe's best "
                                       "validation accuracy (test labels unread)",
                               choices=('loss', 'validation'), search=['loss', 'validation'])
    validate_every: int = option(50, 'with --choose-epoch validation: score every K epochs and '
                                     'at the last (default %(default)s)', metavar='K', minimum=1)
    seeds: int = option(1, 'number of seeds', minimum=1)
    # Embedding reinforcement at inference (graphdim.graph.reinforcement): for every model.
    hops: Tuple[int, ...] = option((0, ), 'embedding reinforcement before the probe: z + '
                                          'A^K z with K hops of the GCN-normalised adjacency '
                                          '(0, default: off); several values: K chosen on '
                                          'the validation split', metavar='K', minimum=0,
                                   maximum=MAX_HOPS,
                                   search=[(0, ), HOPS_GRID])  # off, or K chosen on validation
    reinforcement: Tuple[str, ...] = option(('add', ), "with --hops: add (z + A^K z) "
                                                    "and/or replace (A^K z); both: chosen on "
                                                    "validation with K", choices=MODES)
    hops_cv: int = option(0, 'with several --hops: choose the form and K by FOLDS-fold '
                             'cross-validation on the training and validation labels '
                             'together (0, default: on the validation split alone)',
                          metavar='FOLDS', minimum=0)
    # The probe's penalties: C_GRIDS['node'] (1e-6 .. 1e6: far past any C the probe needs,
    # and finite in float32 at n = 1e6 training rows, where the penalty is 1 / (2 C n)).
    probe_c: Tuple[float, ...] = option(C_GRIDS['node'], 'the inverse L2 penalties C the '
                                                         'linear probe chooses among on '
                                                         'validation (default %(default)s); '
                                                         'a single value fixes it',
                                        metavar='C', minimum=1e-6, maximum=1e6,
                                        search=[(0.001, 0.01, 0.1), C_GRIDS['node'],
                                                (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)])
    # How the probe is fitted: L-BFGS to convergence, or Adam stopped early (the step chosen
    # on validation with C), the probe of several self-supervised papers. Not in the
    # search space: Adam's validation score is the best of 1000 steps, optimistic against
    # L-BFGS's one solution, so a search comparing them by it would favour Adam unfairly.
    probe_optimizer: str = option('lbfgs', "the probe's fit: L-BFGS to convergence (default) "
                                           "or adam (--probe-epochs steps of --probe-lr from "
                                           "zero, the step chosen on validation with C)",
                                  choices=PROBE_OPTIMIZERS)  # not searched: see above
    probe_lr: float = option(AdamSchedule.lr, 'with --probe-optimizer adam: its rate (default '
                                              '%(default)s)', above=0, maximum=1.0)
    probe_epochs: int = option(AdamSchedule.epochs, 'with --probe-optimizer adam: its steps, '
                                                    'the best on validation kept (default '
                                                    '%(default)s)', minimum=1, maximum=100000)
    random_baseline: bool = option(False, 'also probe the same encoder untrained (random '
                                          'init), beside every trained figure')
    seed: int = option(0, 'first seed', maximum=SEED_MAX)
    device: str = option('auto', 'cpu, cuda, cuda:1, or auto (default)')
    normalize_features: bool = option(True, 'keep raw features (default: row-normalise)')
    download: bool = option(True, 'fail instead of downloading a missing dataset')
    # Your own graph instead of a named dataset (see graphdim.data.custom).
    graph: Optional[str] = option(None, 'your own graph instead of --dataset: an edge list '
                                        '(u v [weight] per line) or a .graphml/.gml file',
                                  metavar='FILE')
    features: Optional[str] = option(None, 'feature matrix for --graph (.npy/.pt/.csv/text; '
                                           'row i = node i)', metavar='FILE')
    labels: Optional[str] = option(None, 'labels for --graph (one integer per node); without '
                                         'them the graph is trained and embedded but not probed',
                                   metavar='FILE')
    label_names: Optional[str] = option(None, "names of --labels' classes for the plots' "
                                              "legends: one per line (line i = class i), or "
                                              "id<TAB>name lines", metavar='FILE')
    missing_features: Optional[str] = option(None, 'features for a graph that has none',
                                             choices=FEATURE_FALLBACKS)
    # Past one machine (graphdim.experiments.scaling): 0 = full-batch.
    batch_size: int = option(0, 'seed nodes per mini-batch (per process), %(default)s '
                                '(default): full-batch', minimum=0)
    num_neighbors: Optional[str] = option(
        None, "fan-outs per layer, e.g. 10,10: PyG's NeighborLoader (needs pyg-lib or "
              "torch-sparse); default: full neighbourhoods, no extension needed",
        metavar='F1,F2')
    inference_batch_size: int = option(8192, 'nodes per batch of the layer-wise whole-graph '
                                             'inference', minimum=1)
    distributed: bool = option(False, 'DistributedDataParallel under torchrun (gloo on CPU, '
                                      'nccl on GPU)')
    checkpoint_every: int = option(0, 'save DIR/seed_<s>/checkpoint.pt every K epochs (needs '
                                      '--out)', metavar='K', minimum=0)
    resume: bool = option(False, 'continue the run in --out DIR from its checkpoints')
