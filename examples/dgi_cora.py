"""Deep Graph Infomax on Cora: train, freeze the node embeddings, probe them.

    GRAPHDIM_DATA=../shared/data python examples/dgi_cora.py

Offline, the dataset is read from $GRAPHDIM_DATA (laid out as planetoid/Cora/raw/...).
"""
import os

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'  # a few epochs, for the test suite

data = gd.load_node_dataset('Cora').data
gd.seed_everything(0)
model = gd.DeepGraphInfomax.from_options(data.num_features, hidden_channels=64 if smoke else 512)
history = gd.fit(model, data, epochs=5 if smoke else 1000, patience=20)
z = gd.embed(model, data)
result = gd.linear_probe(z, data.y, gd.public_split(data))
print(f'{history.epochs} epochs, test accuracy {100 * result.test_acc:.1f}% '
      f'(probe C={result.c:g}, chosen on the validation split)')
