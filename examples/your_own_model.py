"""Add your own DIM model: one class, its options, one registry entry, and the whole CLI runs it.

    python examples/your_own_model.py

A tiny node-level model (one PyG GCN layer, each node scored against the sigmoid of the mean
embedding by a plain dot product, negatives from shuffled rows: DGI without its critic) is
registered as ``--model tiny`` with an option of its own (``--critic``), trained and probed
beside its untrained self, and reloaded from its run folder, with no change to the package.
"""
import os
import tempfile
from dataclasses import dataclass

import torch
from torch_geometric.nn import GCNConv

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'


@dataclass
class TinyOptions:
    """TinyDIM's own options, declared beside it: each is a command-line option in the
    model's group (``graphdim train --model tiny --help``) and a key of a run's
    ``model_options``; given with another ``--model``, it is refused."""
    critic: str = gd.option('dot', 'score nodes against the summary by their dot product or '
                                'cosine (default %(default)s)', choices=('dot', 'cosine'),
                         search=['dot', 'cosine'])


class TinyDIM(torch.nn.Module):
    r"""Nodes against the graph summary: :math:`H = \mathrm{PReLU}(\hat A X W)`,
    :math:`s = \sigma(\frac{1}{N}\sum_i h_i)`, scores :math:`T = h^\top s` (or their cosine)
    of clean against row-shuffled nodes, DGI's binary cross-entropy (any graphdim estimator
    works)."""
    def __init__(self, in_channels: int, hidden_channels: int, estimator: str = 'bce',
                 critic: str = 'dot'):
        super().__init__()
        self.conv, self.act = GCNConv(in_channels, hidden_channels), torch.nn.PReLU()
        self.estimator, self.critic = estimator, critic

    def reset_parameters(self):
        self.conv.reset_parameters()

    def forward(self, x, edge_index):
        return self.act(self.conv(x, edge_index))

    def loss(self, positive, negative, summary):
        if self.critic == 'cosine':
            positive, negative, summary = (torch.nn.functional.normalize(h, dim=-1)
                                           for h in (positive, negative, summary))
        return gd.mi_loss(positive @ summary, negative @ summary, self.estimator)

    # What graphdim.fit and graphdim.embed call:
    def training_loss(self, data):
        positive = self(data.x, data.edge_index)
        negative = self(data.x[torch.randperm(data.num_nodes)], data.edge_index)
        return self.loss(positive, negative, torch.sigmoid(positive.mean(0)))

    def embed(self, data):
        return self(data.x, data.edge_index)


# The registry entry: its options, how to build the model from them and the settings every
# node model reads (hidden size, layers, activation, estimator), and its line in the summary.
gd.register_model(gd.ModelEntry(
    'tiny', 'node', 'one GCN layer, dot-product critic (the docs example)',
    options=TinyOptions,
    build=lambda options, in_channels, hidden_channels, estimator, **shared: TinyDIM(
        in_channels, hidden_channels, estimator, options.critic),
    recipe=lambda config: f"gcn {config['hidden_channels']}, {config['critic']} critic, "
                          f"{config['estimator']}"))

# From here on the model is a --model choice like any other: `graphdim train --model tiny`,
# `graphdim embed RUN`, `graphdim plot RUN`, `graphdim train --config RUN` all run it.
with tempfile.TemporaryDirectory() as run:
    config = gd.NodeConfig(model='tiny', model_options={'critic': 'dot'},
                           dataset='karate' if smoke else 'Cora', hidden_channels=256, seeds=2,
                           random_baseline=True)
    summary = gd.run_node_experiment(config, progress=False, out_dir=run, overwrite=True)
    model, saved = gd.load_model(run)  # rebuilt from the run folder through the registry
    print(f"--model {saved.model} ({type(model).__name__}) on {summary['dataset']}: test "
          f"accuracy {summary['test_acc_mean']:.1f}%, untrained "
          f"{summary['random_init_test_acc_mean']:.1f}%")
