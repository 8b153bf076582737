"""The MI estimators as plain losses inside your own PyTorch Geometric model.

    python examples/losses_in_your_model.py

A two-layer GCN learns node embeddings on Zachary's karate club (no download) with two DIM
objectives from graphdim: DGI's node-vs-summary loss (explicit positive and negative scores)
and an InfoNCE local-vs-global loss over sub-communities (a score matrix with a positive mask).
"""
import os

import torch
from torch_geometric.nn import GCNConv

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'


class MyEncoder(torch.nn.Module):
    def __init__(self, in_channels, hidden):
        super().__init__()
        self.conv1, self.conv2 = GCNConv(in_channels, hidden), GCNConv(hidden, hidden)
        self.critic = torch.nn.Bilinear(hidden, hidden, 1)  # T(h, s) = h^T W s + b

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


data = gd.load_node_dataset('karate').data
gd.seed_everything(0)
model = MyEncoder(data.num_features, 16)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
groups = torch.arange(data.num_nodes) % 4  # four fixed node groups, each with its own summary
for epoch in range(10 if smoke else 200):
    optimizer.zero_grad()
    h = model(data.x, data.edge_index)
    h_corrupt = model(data.x[torch.randperm(data.num_nodes)], data.edge_index)
    summary = torch.sigmoid(h.mean(dim=0, keepdim=True)).expand_as(h)
    # (a) explicit scores: every node against the summary vs every corrupted node against it
    dgi = gd.mi_loss(model.critic(h, summary), model.critic(h_corrupt, summary), measure='bce')
    # (b) a score matrix: node i vs every group's summary; positives where i is in the group
    group_summaries = torch.stack([h[groups == g].mean(dim=0) for g in range(4)])
    nce = gd.local_global_loss(h, group_summaries, gd.batch_pos_mask(groups, 4), 'infonce')
    loss = dgi + 0.1 * nce
    loss.backward()
    optimizer.step()
print(f'final losses: DGI (bce) {dgi.item():.3f}, InfoNCE {nce.item():.3f}')
