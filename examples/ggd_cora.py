"""GGD on Cora: group discrimination, embeddings reinforced over the graph, beside the same
encoder untrained and reinforced the same way (minutes on a 2-core CPU).

    GRAPHDIM_DATA=../shared/data python examples/ggd_cora.py

The reinforcement's form (z + Â^K z or Â^K z) and depth K are chosen on the validation
split, for the trained and the untrained encoder alike: an untrained GCN followed by Â^K is
already a strong baseline (close to SGC), and the trained model has to beat it.
"""
import os

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'  # a few epochs, for the test suite

data = gd.load_node_dataset('Cora').data
split = gd.public_split(data)
gd.seed_everything(0)
model = gd.GGD.from_options(data.num_features, hidden_channels=64 if smoke else 512)
untrained = gd.choose_hops(gd.embed(model, data), data, split, modes=('add', 'replace'))
history = gd.fit(model, data, lr=0.001, epochs=5 if smoke else 1000, patience=20)
trained = gd.choose_hops(gd.embed(model, data), data, split, modes=('add', 'replace'))
print(f"GGD: {history.epochs} epochs in {sum(history.epoch_seconds):.1f} s; test accuracy "
      f"{100 * trained.test_score:.1f}% (K={trained.hops}, {trained.mode}; without "
      f"reinforcement {100 * trained.plain.test_score:.1f}%), untrained encoder "
      f"{100 * untrained.test_score:.1f}% (K={untrained.hops}, {untrained.mode})")
