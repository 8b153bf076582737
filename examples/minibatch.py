"""Mini-batch DGI on a graph too large for full-batch training, then layer-wise inference.

    python examples/minibatch.py                      # synthetic graph of 200,000 nodes
"""
import os

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'
nodes = 2_000 if smoke else 200_000
dataset = gd.load_node_dataset(f'synthetic:{nodes}:10:64')
data = dataset.data

gd.seed_everything(0)
model = gd.DeepGraphInfomax.from_options(data.num_features, 32 if smoke else 256)
# Seeds in batches of 256 with their full 1-hop neighbourhoods (the encoder has one layer);
# corruption and summary are computed per batch.
loader = gd.node_loader(data, batch_size=256, num_layers=1, gcn_normalized=True, seed=0)
history = gd.fit(gd.MiniBatchDGI(model), loader, epochs=2 if smoke else 5, patience=0,
                 progress=not smoke)
# Every node's embedding, one layer at a time over batches of nodes.
embeddings = gd.layerwise_embed(model.encoder, data, batch_size=4096)
split = gd.random_split(data.y, seed=0)
probe = gd.linear_probe(embeddings, data.y, split)
print(f"{dataset.name}: {history.epochs} epochs of {len(loader)} batches, "
      f"embeddings {tuple(embeddings.shape)}, probe test accuracy {100 * probe.test_acc:.1f}%")
