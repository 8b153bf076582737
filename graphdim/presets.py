"""Named presets (published recipes) and saved configs, as defaults for a CLI command.

``graphdim train --preset dgi-cora`` and ``graphdim train --config run/config.json`` both
turn into option defaults of the command: options given on the command line still win, so
``--preset dgi-cora --seeds 3`` runs the recipe with three seeds. Config files are read by
:func:`graphdim.cli.common.read_config_source`.
"""
import warnings
from typing import Any, Dict

# Embedding reinforcement with its form and depth chosen on validation (graphdim.eval.choose_hops).
REINFORCED = {'hops': [0, 1, 2, 3, 5, 10], 'reinforcement': ['add', 'replace']}
# GGD's training and inference as the authors' code runs them (see 'ggd-cora' below).
GGD_AUTHORS = {'mask_clean': True, 'epochs': 500, 'patience': 0, 'hops': [5],
               'reinforcement': ['add'], 'random_baseline': True}

# name -> (command, option defaults). Each states the paper's recipe; the README's tables
# are produced with these.
PRESETS: Dict[str, tuple] = {
    # DGI (Velickovic et al., 2019), transductive: 1-layer GCN 512, PReLU, sigmoid(mean)
    # summary, row-shuffle corruption, bilinear critic, BCE, Adam 1e-3, patience 20.
    'dgi-cora': ('train', {'dataset': 'Cora', 'seeds': 10}),
    'dgi-citeseer': ('train', {'dataset': 'CiteSeer', 'seeds': 10}),
    # The paper used 256 units on PubMed for GPU memory; 512 fits here, and is our default.
    'dgi-pubmed': ('train', {'dataset': 'PubMed', 'seeds': 10}),
    # InfoGraph (Sun et al., 2020): GIN 5 x 32 concatenated, sum readout, JSD, batch 128,
    # 20 epochs; lr 0.01 chosen by inner-CV accuracy on the training folds only.
    'infograph-mutag': ('train', {'level': 'graph', 'dataset': 'MUTAG', 'hidden_channels': 32,
                                  'num_layers': 5, 'estimator': 'jsd', 'batch_size': 128,
                                  'lr': 0.01, 'epochs': 20, 'patience': 0, 'seeds': 5}),
    # MVGRL (Hassani & Khasahmadi, 2020), node level: 1-layer GCN 512 per view (adjacency,
    # PPR alpha 0.2 kept to each node's 128 strongest entries), bilinear critic, BCE, Adam
    # 1e-3, patience 20; weight decay as chosen on validation (benchmarks/mvgrl_node.py).
    # PubMed as the paper trains large graphs: on 4 random subgraphs of 2,000 nodes a step
    # (DGL's reproduction, 79.8, samples too), about 7x faster an epoch than the whole graph.
    'mvgrl-cora': ('train', {'model': 'mvgrl', 'dataset': 'Cora', 'seeds': 10,
                             'random_baseline': True}),
    'mvgrl-citeseer': ('train', {'model': 'mvgrl', 'dataset': 'CiteSeer', 'seeds': 10,
                                 'random_baseline': True, 'weight_decay': 0.001}),
    'mvgrl-pubmed': ('train', {'model': 'mvgrl', 'dataset': 'PubMed', 'seeds': 10,
                               'random_baseline': True, 'sample_size': 2000}),
    # GGD (Zheng et al., 2022) as the authors' code runs it (GGD-citation/execute.py, commit
    # 7cf72db; Cora's settings are the released ones, CiteSeer's and PubMed's the paper's):
    # one GCN layer, hidden 512 / 1536 / 1024, lr 1e-3 / 5e-4 / 1e-3, weight decay 0, the
    # same 20% of the feature columns zeroed in both views (--mask-clean), 500 epochs with no
    # early stopping (--patience 0), the lowest training loss kept; embeddings z + A^5 z,
    # K = 5 being the recipe's published value, not a choice on validation (docs: results/node).
    'ggd-cora': ('train', {'model': 'ggd', 'dataset': 'Cora', 'seeds': 10, **GGD_AUTHORS}),
    'ggd-citeseer': ('train', {'model': 'ggd', 'dataset': 'CiteSeer', 'seeds': 10,
                               'hidden_channels': 1536, 'lr': 0.0005, **GGD_AUTHORS}),
    'ggd-pubmed': ('train', {'model': 'ggd', 'dataset': 'PubMed', 'seeds': 10,
                             'hidden_channels': 1024, **GGD_AUTHORS}),
    # GraphACL (Xiao et al., 2023) as the authors' code runs it (tengxiao1/GraphACL, homo/
    # run.sh): InfoNCE (the model's own estimator), a linear predictor, every node a negative,
    # no early stopping. Cora: GCN 2 x 2048, ReLU between the layers and none after the last,
    # 50 epochs, lr 5e-4, weight decay 1e-6, tau 1, target momentum 0.97. CiteSeer: one
    # linear GCN layer of 2048, 15 epochs, lr 1e-3, weight decay 1e-4, tau 0.99, momentum
    # 0.95. graphdim's probe (the authors': Adam, the test score at the best validation epoch).
    'graphacl-cora': ('train', {'model': 'graphacl', 'dataset': 'Cora', 'num_layers': 2,
                                'hidden_channels': 2048, 'activation': 'relu',
                                'linear_output': True, 'epochs': 50, 'patience': 0,
                                'lr': 0.0005, 'weight_decay': 1e-6, 'temperature': 1.0,
                                'momentum': 0.97, 'random_baseline': True, 'seeds': 10}),
    'graphacl-citeseer': ('train', {'model': 'graphacl', 'dataset': 'CiteSeer',
                                    'num_layers': 1, 'hidden_channels': 2048,
                                    'activation': 'relu', 'linear_output': True, 'epochs': 15,
                                    'patience': 0, 'lr': 0.001, 'weight_decay': 1e-4,
                                    'temperature': 0.99, 'momentum': 0.95,
                                    'random_baseline': True, 'seeds': 10}),
    # The best recipe on validation of a search around ggd-cora (16 trials, 3 seeds each, test
    # labels hidden): graphdim tune --preset ggd-cora --search lr weight_decay drop_feature_p
    # epochs choose_epoch probe_c hidden_channels --trials 16 --study
    # benchmarks/results/tune/best-cora.journal --out benchmarks/results/tune/best-cora. Seeds
    # from 100, which the search never trained: its final run there is this preset's figure.
    'best-cora': ('train', {'model': 'ggd', 'dataset': 'Cora', **GGD_AUTHORS,
                            'hidden_channels': 2048, 'lr': 0.003061797218827262,
                            'weight_decay': 0.0001, 'drop_feature_p': 0.3337719574960924,
                            'choose_epoch': 'validation',
                            'probe_c': [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0],
                            'seeds': 10, 'seed': 100}),
    # The same around ggd-citeseer (8 trials): graphdim tune --preset ggd-citeseer --search lr
    # weight_decay drop_feature_p epochs choose_epoch probe_c hidden_channels --trials 8
    # --study benchmarks/results/tune/best-citeseer.journal --out
    # benchmarks/results/tune/best-citeseer.
    'best-citeseer': ('train', {'model': 'ggd', 'dataset': 'CiteSeer', **GGD_AUTHORS,
                                'hidden_channels': 512, 'lr': 0.00017240460099242303,
                                'weight_decay': 0.0001, 'drop_feature_p': 0.4935471974998056,
                                'choose_epoch': 'validation', 'seeds': 10, 'seed': 100}),
    # The same around ggd-pubmed (6 trials, width fixed at 1024: a trial takes about ten
    # minutes on 2 cores): graphdim tune --preset ggd-pubmed --search lr weight_decay
    # drop_feature_p epochs choose_epoch probe_c --trials 6 --study
    # benchmarks/results/tune/best-pubmed.journal --out benchmarks/results/tune/best-pubmed.
    # No other trial beat the first, ggd-pubmed itself, on validation: its recipe, seeds 100-.
    'best-pubmed': ('train', {'model': 'ggd', 'dataset': 'PubMed', 'hidden_channels': 1024,
                              **GGD_AUTHORS, 'seeds': 10, 'seed': 100}),
    # Graph level, DGL's example: GCN 4 x 32 per view, batch 64, Adam 1e-3, 20 epochs.
    'mvgrl-mutag': ('train', {'level': 'graph', 'model': 'mvgrl', 'dataset': 'MUTAG',
                              'hidden_channels': 32, 'num_layers': 4, 'batch_size': 64,
                              'lr': 0.001, 'epochs': 20, 'seeds': 5, 'random_baseline': True}),
    # DIM(L) (Hjelm et al., 2019) on MNIST with the 28x28 encoder: alpha 0, beta 1, gamma 0.1,
    # JSD, batch 64; critic width 256 and 2 epochs on 32,000 images to fit 2 CPU cores.
    'dim-mnist': ('image', {'dataset': 'mnist', 'mode': 'local', 'estimator': 'jsd',
                            'epochs': 2, 'train_size': 32000, 'batch_size': 64, 'lr': 1e-3,
                            'mi_units': 256}),
}


def all_presets() -> Dict[str, tuple]:
    """:data:`PRESETS` and those of the registered models' entries (``ModelEntry.presets``,
    e.g. a model of another package): name -> (command, option defaults)."""
    from .registry import LEVELS, model_entries
    presets = dict(PRESETS)
    for level in LEVELS:
        for entry in model_entries(level):
            for name, values in entry.presets.items():
                if name in PRESETS:  # graphdim's own recipe keeps its name
                    warnings.warn(f"model {entry.name!r}: its preset {name!r} is one of "
                                  f"graphdim's own, which stays; name it otherwise")
                    continue
                implied = {'level': 'graph'} if level == 'graph' else {}
                presets[name] = ('train', {**implied, 'model': entry.name, **values})
    return presets


def preset_defaults(command: str, name: str) -> Dict[str, Any]:
    """The option defaults of preset ``name``; it must belong to ``command``."""
    presets = all_presets()
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(sorted(presets))}")
    preset_command, values = presets[name]
    if preset_command != command:
        raise ValueError(f"preset {name!r} is for `graphdim {preset_command}`, not "
                         f"`graphdim {command}`")
    return dict(values)

