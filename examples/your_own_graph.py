"""Train DIM on your own graph (a networkx graph here), then save its node embeddings.

    python examples/your_own_graph.py

Nodes keep their own ids; features come from a node attribute, labels from another.
"""
import os
import tempfile

import networkx as nx
import numpy as np

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'

graph = nx.karate_club_graph()
for node in graph.nodes:  # any numeric node attribute becomes a feature
    graph.nodes[node]['features'] = np.eye(graph.number_of_nodes(), dtype=np.float32)[node]
data = gd.from_networkx(graph, feature_attributes=['features'], label_attribute='club')

gd.seed_everything(0)
model = gd.DeepGraphInfomax.from_options(data.num_features, hidden_channels=32)
gd.fit(model, data, epochs=10 if smoke else 300, progress=not smoke)
z = gd.embed(model, data)
result = gd.linear_probe(z, data.y, gd.random_split(data.y, seed=0))
print(f'probe accuracy on a random 10/10/80 split: {100 * result.test_acc:.1f}%')

out = os.path.join(tempfile.mkdtemp(), 'karate_embeddings')
pt_path, npy_path = gd.save_embeddings(z, out, data.node_ids)
print(f'wrote {pt_path} and {npy_path}')
