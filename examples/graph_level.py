"""Graph-level DIM (InfoGraph): one embedding per graph, learned without labels, then an SVM.

    GRAPHDIM_DATA=../shared/data python examples/graph_level.py

Trains InfoGraph on MUTAG (188 molecules), freezes the graph embeddings and reports the
10-fold cross-validated accuracy of an SVM whose C is chosen on the training folds only.
"""
import os

from torch_geometric.loader import DataLoader

import graphdim as gd

SMOKE = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'

dataset = gd.load_graph_dataset('MUTAG', root=os.environ.get('GRAPHDIM_DATA'))
print(f"{dataset.name}: {len(dataset)} graphs, {dataset.num_features} node features, "
      f"{dataset.num_classes} classes")

gd.seed_everything(0)
model = gd.InfoGraph(dataset.num_features, hidden_channels=8 if SMOKE else 32,
                     num_layers=2 if SMOKE else 5, estimator='jsd')
loader = DataLoader(dataset.graphs, batch_size=128, shuffle=True)
history = gd.fit(model, loader, epochs=2 if SMOKE else 20, lr=0.01, patience=0,
                 device='cpu', progress=not SMOKE)
print(f"trained {history.epochs} epochs, final loss {history.losses[-1]:.3f}")

embeddings = gd.embed(model, DataLoader(dataset.graphs, batch_size=256))  # [188, 160]
result = gd.cross_validate(embeddings, dataset.labels, 'svm', folds=3 if SMOKE else 10,
                           inner_folds=2 if SMOKE else 5)
print(f"SVM accuracy: {100 * result.mean:.2f} ± {100 * result.std:.2f} % "
      f"over {len(result.fold_accuracies)} folds (C per fold: {result.chosen})")
