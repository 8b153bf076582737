"""Multi-view DIM (MVGRL): the adjacency and a diffusion as two views, at node and graph level.

    GRAPHDIM_DATA=../shared/data python examples/multiview.py

Node level: two GCN encoders, one over Cora's normalised adjacency and one over its
personalised-PageRank diffusion, each view's nodes scored against the other view's summary;
the embedding is the sum of both, probed with logistic regression (C chosen on validation),
beside the same encoder untrained. Graph level: graph-level MVGRL on MUTAG, every graph given
its diffusion by ``DiffusionView``, then a cross-validated SVM.
"""
import os

from torch_geometric.loader import DataLoader

import graphdim as gd

SMOKE = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'
root = os.environ.get('GRAPHDIM_DATA')

# Node level: Cora, public split.
cora = gd.load_node_dataset('Cora', root=root).data
split = gd.public_split(cora)
gd.seed_everything(0)
model = gd.MVGRL(cora.num_features, hidden_channels=64 if SMOKE else 512, diffusion='ppr',
                 alpha=0.2, top_k=128)
untrained = gd.linear_probe(gd.embed(model, cora), cora.y, split)  # the diffusion: once
history = gd.fit(model, cora, epochs=5 if SMOKE else 1000, patience=20, progress=not SMOKE)
probe = gd.linear_probe(gd.embed(model, cora), cora.y, split)
print(f"Cora MVGRL: test {100 * probe.test_acc:.2f} % (random init "
      f"{100 * untrained.test_acc:.2f} %) after {history.epochs} epochs")

# Graph level: MUTAG, each graph with its diffusion edges.
dataset = gd.load_graph_dataset('MUTAG', root=root)
view = gd.DiffusionView('ppr', alpha=0.2)
graphs = [view(graph) for graph in dataset.graphs]
gd.seed_everything(0)
graph_model = gd.GraphMVGRL(dataset.num_features, hidden_channels=32, num_layers=4)
gd.fit(graph_model, DataLoader(graphs, batch_size=64, shuffle=True), epochs=2 if SMOKE else 20,
       patience=0, progress=not SMOKE)
embeddings = gd.embed(graph_model, DataLoader(graphs, batch_size=256))
result = gd.cross_validate(embeddings, dataset.labels, 'svm', folds=3 if SMOKE else 10,
                           inner_folds=2 if SMOKE else 5)
print(f"MUTAG graph-level MVGRL: SVM {100 * result.mean:.2f} ± {100 * result.std:.2f} %")
