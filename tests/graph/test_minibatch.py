"""Mini-batch node DIM: the loaders' subgraphs, the per-batch objective, layer-wise inference."""
import pytest
import torch

import graphdim as gd
from graphdim.data.synthetic import synthetic_graph
from graphdim.graph.minibatch import MiniBatchDGI, layerwise_embed, uses_gcn
from graphdim.loaders import NeighborhoodLoader, node_loader, parse_num_neighbors

from conftest import random_graph


def _model(encoder='gcn', layers=1, in_channels=16, hidden=32, seed=0, **kwargs):
    torch.manual_seed(seed)
    return gd.DeepGraphInfomax.from_options(in_channels, hidden, encoder=encoder,
                                            num_layers=layers, **kwargs)


def test_batches_put_seeds_first_and_cover_every_seed_once_per_epoch():
    data = synthetic_graph(300, 5, 16)
    loader = NeighborhoodLoader(data, 64, num_layers=2, seed=3)
    seen = []
    for batch in loader:
        seeds = batch.n_id[:batch.batch_size]
        assert batch.n_id.unique().numel() == batch.n_id.numel()  # no node twice
        assert torch.equal(batch.x, data.x[batch.n_id])
        # every edge of the subgraph is an edge of the graph (global ids)
        edges = set(map(tuple, data.edge_index.t().tolist()))
        assert all(tuple(e) in edges for e in batch.n_id[batch.edge_index].t().tolist())
        seen.append(seeds)
    assert len(seen) == len(loader) == 5
    first = torch.cat(seen)
    assert torch.equal(first.sort().values, torch.arange(300))
    loader.set_epoch(1)
    second = torch.cat([b.n_id[:b.batch_size] for b in loader])
    assert not torch.equal(first, second)  # reshuffled by epoch
    loader.set_epoch(0)
    assert torch.equal(first, torch.cat([b.n_id[:b.batch_size] for b in loader]))


def test_ranks_split_the_seeds():
    data = random_graph(50, 4, 150)
    parts = [torch.cat([b.n_id[:b.batch_size] for b in NeighborhoodLoader(
        data, 8, rank=r, world_size=2, seed=1)]) for r in range(2)]
    assert parts[0].numel() == parts[1].numel() == 25
    assert torch.equal(torch.cat(parts).sort().values, torch.arange(50))


@pytest.mark.parametrize('encoder,layers', [('gcn', 1), ('gcn', 2), ('sage', 2), ('gat', 2),
                                            ('gin', 1)])
def test_seed_embeddings_equal_whole_graph_encoder(encoder, layers):
    """Full neighbourhoods (and the full-graph GCN normalisation) make a batch exact."""
    data = synthetic_graph(400, 6, 16)
    model = _model(encoder, layers).eval()
    whole = model.encoder(data.x, data.edge_index)
    loader = node_loader(data, 50, layers, gcn_normalized=uses_gcn(model), shuffle=False)
    wrapper = MiniBatchDGI(model)
    batched = torch.cat([wrapper.embed(batch) for batch in loader])
    assert batched.shape == (400, 32)
    torch.testing.assert_close(batched, whole, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('encoder,layers,kwargs', [
    ('gcn', 2, {}), ('sage', 3, {}), ('gat', 2, {}),
    ('gin', 2, {'batch_norm': True, 'concat_layers': True})])
def test_layerwise_inference_equals_whole_graph(encoder, layers, kwargs):
    data = synthetic_graph(500, 7, 16, seed=2)
    model = _model(encoder, layers, **kwargs)
    model.train()
    for _ in range(2):  # give batch norm running statistics that are not the defaults
        model.encoder(data.x, data.edge_index)
    model.eval()
    whole = model.encoder(data.x, data.edge_index).detach()
    embedded = layerwise_embed(model.encoder, data, batch_size=37)
    assert embedded.shape == whole.shape
    torch.testing.assert_close(embedded, whole, atol=1e-5, rtol=1e-4)
    assert not model.training  # left as it was


@pytest.mark.parametrize('encoder', ['sage', 'gin', 'gat'])
def test_edge_weights_follow_one_rule_on_the_full_graph_in_batches_and_layer_wise(encoder):
    """A conv that takes no edge weights raises on a weighted graph on every path, with the
    same message (layer-wise inference used to drop the weights silently)."""
    data = synthetic_graph(100, 4, 16)
    data.edge_weight = torch.rand(data.num_edges, generator=torch.Generator().manual_seed(0))
    model = _model(encoder, 2)
    with pytest.raises(ValueError, match='does not use edge weights') as full:
        model.encoder(data.x, data.edge_index, data.edge_weight)
    with pytest.raises(ValueError) as layer_wise:
        layerwise_embed(model.encoder, data, batch_size=30)
    batch = next(iter(node_loader(data, 30, 2, gcn_normalized=uses_gcn(model))))
    with pytest.raises(ValueError) as batched:
        MiniBatchDGI(model).embed(batch)
    assert str(layer_wise.value) == str(batched.value) == str(full.value)
    assert model.encoder.training  # layer-wise inference left the mode as it was


@pytest.mark.parametrize('fast_path', [True, False])
def test_one_batch_of_all_nodes_gives_the_full_batch_loss(fast_path):
    """With every node a seed, the per-batch objective is DGI's full-batch objective (on the
    batch's fast path, which shares XW between the views, and on the plain PyG path)."""
    data = synthetic_graph(200, 5, 16)
    model = _model()
    model.fast_path = fast_path
    loader = NeighborhoodLoader(data, 200, gcn_normalized=True, shuffle=False)
    batch = next(iter(loader))
    assert torch.equal(batch.n_id, torch.arange(200))
    torch.manual_seed(5)
    full = gd.DeepGraphInfomax.training_loss(model, data)
    torch.manual_seed(5)
    batched = MiniBatchDGI(model).training_loss(batch)
    torch.testing.assert_close(batched, full, atol=1e-5, rtol=1e-5)


def test_loss_is_on_seeds_and_has_gradients():
    data = synthetic_graph(300, 6, 16)
    model = _model(layers=2)
    batch = next(iter(node_loader(data, 32, 2, gcn_normalized=True)))
    assert batch.num_nodes > batch.batch_size  # neighbours came along
    loss = MiniBatchDGI(model).training_loss(batch)
    loss.backward()
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in model.parameters() if p.requires_grad)
    assert all(conv.normalize for conv in model.encoder.convs)  # restored after the batch


def test_fit_on_batches_then_layerwise_embed_is_deterministic():
    data = synthetic_graph(600, 6, 16)

    def run():
        gd.seed_everything(0)
        model = _model()
        loader = node_loader(data, 128, gcn_normalized=True, seed=0)
        result = gd.fit(MiniBatchDGI(model), loader, epochs=4, patience=0, progress=False)
        return result, layerwise_embed(model.encoder, data, 100)
    (first, z1), (second, z2) = run(), run()
    assert first.epochs == 4 and first.losses == second.losses
    assert first.losses[-1] < first.losses[0]
    assert torch.equal(z1, z2)


def test_neighbor_loader_needs_an_extension_or_says_so():
    import torch_geometric.typing as pyg_typing
    data = random_graph()
    if pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE:
        batch = next(iter(node_loader(data, 4, 2, num_neighbors=[3, 3])))
        assert batch.batch_size == 4
        return
    with pytest.raises(ValueError, match=r"pyg-lib.*torch-sparse.*leave out --num-neighbors"):
        node_loader(data, 4, 2, num_neighbors=[3, 3])


@pytest.mark.parametrize('text,message', [('10,x', 'comma-separated integers'),
                                          ('10,0', 'must be positive'),
                                          ('-2', 'must be positive')])
def test_bad_fanouts_are_rejected(text, message):
    with pytest.raises(ValueError, match=message):
        parse_num_neighbors(text)


def test_fanouts_per_layer_and_batch_size_checked():
    assert parse_num_neighbors('10,-1') == [10, -1] and parse_num_neighbors(None) is None
    with pytest.raises(ValueError, match='one fan-out per encoder layer'):
        node_loader(random_graph(), 4, 2, num_neighbors=[5])
    with pytest.raises(ValueError, match='batch_size must be a positive integer'):
        node_loader(random_graph(), 0)
    with pytest.raises(ValueError, match='GraphEncoder'):
        layerwise_embed(torch.nn.Linear(3, 3), random_graph())


@pytest.mark.slow  # an accuracy run on Cora
def test_cora_minibatch_run_reaches_a_real_accuracy(data_root):
    """A short real run: 1-layer GCN DGI on Cora in batches of 512 seeds."""
    summary = gd.run_node_experiment(gd.NodeConfig(
        dataset='Cora', root=str(data_root), hidden_channels=256, batch_size=512, epochs=25,
        patience=0, download=False, device='cpu'), progress=False)
    assert summary['test_acc_mean'] > 76.0
