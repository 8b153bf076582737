"""Every model family on a CUDA device: the same function as on the CPU, tensors where expected.

Skipped where no CUDA device is present (CI has none); run on a GPU machine with
``pytest tests/graph/test_models_on_cuda.py``.
"""
import copy

import pytest
import torch
from torch_geometric.loader import DataLoader
from torch_geometric.nn.conv.gcn_conv import gcn_norm

import graphdim as gd
from graphdim.data.synthetic import synthetic_graph
from graphdim.graph.minibatch import uses_gcn
from graphdim.graph.propagation import PropagationMatrix

from test_fast_path import assert_same_function, random_graph

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
CUDA = torch.device('cuda')


@pytest.mark.parametrize('sparse_features', [False, True], ids=['dense-x', 'sparse-x'])
def test_fast_path_equals_plain_path_on_cuda(sparse_features):
    data = random_graph(sparse_features=sparse_features).to(CUDA)
    torch.manual_seed(0)
    model = gd.DeepGraphInfomax.from_options(data.num_features, 32).to(CUDA)
    assert_same_function(model, data)


def test_every_propagation_backend_gives_the_same_encoder_output_on_cuda():
    data = random_graph(sparse_features=True, directed=True, weighted=True).to(CUDA)
    torch.manual_seed(0)
    encoder = gd.GraphEncoder(data.num_features, 16, num_layers=2).to(CUDA)
    for conv in encoder.convs:
        conv.fast_path = False
    reference = encoder(data.x, data.edge_index, data.edge_weight)  # PyG's message passing
    norm_index, norm_weight = gcn_norm(data.edge_index, data.edge_weight, data.num_nodes)
    matrix = PropagationMatrix(norm_index, norm_weight, data.num_nodes)
    for fast in (True, False):
        for conv in encoder.convs:
            conv.fast_path = fast
        for name, graph in (('cached', (data.edge_index, data.edge_weight)),
                            ('given', (matrix, ))):
            output = encoder(data.x, *graph)
            assert output.is_cuda
            torch.testing.assert_close(output, reference, atol=1e-5, rtol=1e-4,
                                       msg=f'{name}, fast_path={fast}')


def test_cuda_training_matches_cpu_training(monkeypatch):
    """Same seed, same recipe: the CUDA run ends where the CPU run ends (float tolerance)."""
    # the two devices draw different random numbers: give both runs the same row orders
    orders = torch.Generator()

    def permutation(num_nodes, device):
        return torch.randperm(num_nodes, generator=orders).to(device)
    monkeypatch.setattr(gd.RowShuffle, 'permutation', staticmethod(permutation))
    data = random_graph(sparse_features=True)
    states = {}
    for device in ('cpu', 'cuda'):
        gd.seed_everything(0)
        orders.manual_seed(3)
        model = gd.DeepGraphInfomax.from_options(data.num_features, 32)
        result = gd.fit(model, data, epochs=5, min_epochs=5, device=device, progress=False)
        states[device] = ({k: v.cpu() for k, v in model.state_dict().items()}, result.losses)
    for name, value in states['cpu'][0].items():
        torch.testing.assert_close(states['cuda'][0][name], value, atol=1e-4, rtol=1e-3)
    assert states['cuda'][1] == pytest.approx(states['cpu'][1], rel=1e-4)


def test_probe_on_cuda_matches_cpu():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(3, (300, ), generator=generator)
    embeddings = torch.randn(300, 16, generator=generator) + 2 * torch.nn.functional.one_hot(
        labels, 16).float()
    split = gd.random_split(labels, 0, train_fraction=0.2, val_fraction=0.2)
    cpu = gd.linear_probe(embeddings, labels, split)
    gpu = gd.linear_probe(embeddings.to(CUDA), labels.to(CUDA), split, device=CUDA)
    assert abs(gpu.test_acc - cpu.test_acc) <= 0.01 and gpu.test_acc > 0.8


def test_infograph_trains_and_embeds_on_cuda():
    torch.manual_seed(0)
    graphs = [random_graph(num_nodes=6 + i, num_features=5, num_edges=20, seed=i)
              for i in range(12)]
    for i, graph in enumerate(graphs):
        graph.y = torch.tensor([i % 2])
    model = gd.InfoGraph(5, hidden_channels=8, num_layers=3)
    result = gd.fit(model, DataLoader(graphs, batch_size=4, shuffle=True), epochs=2,
                    patience=0, device='cuda', progress=False)
    assert next(model.parameters()).is_cuda and len(result.losses) == 2
    embeddings = gd.embed(model, DataLoader(graphs, batch_size=5), device='cuda')
    assert embeddings.shape == (12, 24) and torch.isfinite(embeddings).all()


def test_minibatch_training_and_layerwise_inference_on_cuda():
    data = synthetic_graph(400, 6, 16)
    torch.manual_seed(0)
    model = gd.DeepGraphInfomax.from_options(16, 32, num_layers=2)
    loader = gd.node_loader(data, 64, 2, gcn_normalized=uses_gcn(model), seed=0)
    result = gd.fit(gd.MiniBatchDGI(model), loader, epochs=2, patience=0, device='cuda',
                    progress=False)
    assert len(result.losses) == 2 and next(model.parameters()).is_cuda
    model.eval()
    cpu_encoder = copy.deepcopy(model.encoder).cpu()
    whole = cpu_encoder(data.x, data.edge_index).detach()
    embedded = gd.layerwise_embed(model.encoder, data, batch_size=50)
    torch.testing.assert_close(embedded.cpu(), whole, atol=1e-4, rtol=1e-3)


def test_image_dim_step_on_cuda():
    torch.manual_seed(0)
    model = gd.ImageDIM.from_options(28, 1, 'local+global', mi_units=16, fc_units=32,
                                     out_dim=8).to(CUDA)
    loss = model.training_loss(torch.randn(6, 1, 28, 28, device=CUDA))
    loss.backward()
    assert loss.is_cuda and torch.isfinite(loss)
    assert all(p.grad is None or (p.grad.is_cuda and torch.isfinite(p.grad).all())
               for p in model.parameters())


def test_mvgrl_embeds_on_cuda_as_on_cpu_and_trains_there():
    data = random_graph()
    torch.manual_seed(0)
    cpu = gd.MVGRL(data.num_features, 16, top_k=8)
    gpu = copy.deepcopy(cpu).to(CUDA)
    assert torch.allclose(gd.embed(cpu, data), gd.embed(gpu, data.to(CUDA)), atol=1e-4)
    for sample_size in (0, data.num_nodes // 2):
        gpu.sample_size = sample_size
        loss = gpu.training_loss(data.to(CUDA))
        loss.backward()
        assert loss.device.type == 'cuda' and torch.isfinite(loss)
        assert all(p.grad.device.type == 'cuda' for p in gpu.parameters())


def test_graph_mvgrl_on_cuda_as_on_cpu():
    graphs = [gd.DiffusionView()(synthetic_graph(12, 4, seed=s)) for s in range(4)]
    torch.manual_seed(0)
    cpu = gd.GraphMVGRL(graphs[0].num_features, 8, num_layers=2).eval()
    gpu = copy.deepcopy(cpu).to(CUDA)
    batch = next(iter(DataLoader(graphs, batch_size=4)))
    assert torch.allclose(cpu.embed(batch), gpu.embed(batch.to(CUDA)).cpu(), atol=1e-4)
    gpu.train()
    loss = gpu.training_loss(batch.to(CUDA))
    loss.backward()
    assert torch.isfinite(loss) and loss.device.type == 'cuda'
