"""One forward path per model (issue 34 item 3): the fast path lives in CachedGCNConv, which
computes PyG's GCNConv; corrupted features are tensors; the encoder takes no model's
arguments; training gives what it gave before the change."""
import inspect

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv

import graphdim as gd
from graphdim.graph import propagation
from graphdim.graph.corruptions import FeatureMask, MaskedColumns, PermutedRows, RowShuffle
from graphdim.graph.minibatch import layerwise_embed
from graphdim.graph.propagation import CachedGCNConv, PropagationMatrix
from graphdim.loaders import node_loader


def _graph(seed=0, n=60, f=24, e=200, sparse=False, weighted=False):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, f, generator=generator)
    if sparse:  # below the density where features are held as CSR
        x = x * (torch.rand(n, f, generator=generator) < 0.04)
    edge_index = torch.randint(n, (2, e), generator=generator)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
    weight = torch.rand(edge_index.size(1), generator=generator) + 0.5 if weighted else None
    return Data(x=x, edge_index=edge_index, edge_weight=weight)


CASES = {  # model, graph
    'dgi': (lambda f: gd.DeepGraphInfomax.from_options(f, 16), {}),
    'dgi_deep_sparse': (lambda f: gd.DeepGraphInfomax.from_options(f, 16, num_layers=2),
                        {'sparse': True, 'weighted': True}),
    'dgi_edge_drop': (lambda f: gd.DeepGraphInfomax.from_options(f, 16,
                                                                 corruption='edge_drop'),
                      {'weighted': True}),
    'ggd': (lambda f: gd.GGD.from_options(f, 16), {'sparse': True}),
    'ggd_mask_clean_deep': (lambda f: gd.GGD.from_options(f, 16, num_layers=2,
                                                          mask_clean=True),
                            {'weighted': True}),
    'mvgrl': (lambda f: gd.MVGRL(f, 16, top_k=16), {}),
    'mvgrl_sampled': (lambda f: gd.MVGRL(f, 16, top_k=16, sample_size=30, subgraphs=2), {}),
}
# Recorded from the code before the change (commit d746d8e): the losses of 4 Adam steps
# (lr 0.01), then the sum and absolute sum of all parameters and of the embeddings.
BEFORE = {
    'dgi': ([1.416226, 1.386581, 1.381737, 1.38556], (2.77519, 111.6492),
            (84.8754, 187.5665)),
    'dgi_deep_sparse': ([1.386973, 1.384271, 1.383982, 1.381142], (-2.68019, 166.0772),
                        (13.9913, 27.2554)),
    'dgi_edge_drop': ([1.421253, 1.394982, 1.379756, 1.391853], (0.48369, 111.1298),
                      (84.2165, 191.4982)),
    'ggd': ([1.40221, 1.379163, 1.390164, 1.383136], (9.36939, 109.8344),
            (13.5806, 30.2871)),
    'ggd_mask_clean_deep': ([1.385467, 1.398185, 1.361297, 1.351291], (3.99896, 164.9649),
                            (70.0034, 99.2969)),
    'mvgrl': ([1.41676, 1.390939, 1.385045, 1.382147], (4.70618, 180.7038),
              (193.9664, 281.1873)),
    'mvgrl_sampled': ([1.403884, 1.390317, 1.396231, 1.387824], (4.07300, 182.1127),
                      (204.4886, 287.6093)),
}


@pytest.mark.parametrize('case', CASES)
def test_training_gives_the_losses_and_parameters_it_gave_before(case):
    build, graph = CASES[case]
    data = _graph(**graph)
    torch.manual_seed(0)
    model = build(data.num_features)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(4):
        optimizer.zero_grad()
        loss = model.training_loss(data)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    parameters = [p.detach() for p in model.state_dict().values()]
    z = model.embed(data).detach()
    expected_losses, expected_parameters, expected_embedding = BEFORE[case]
    assert losses == pytest.approx(expected_losses, abs=1e-5)
    assert (float(sum(p.sum() for p in parameters)),
            float(sum(p.abs().sum() for p in parameters))) == pytest.approx(
        expected_parameters, rel=1e-5, abs=1e-4)
    assert (float(z.sum()), float(z.abs().sum())) == pytest.approx(expected_embedding,
                                                                   rel=1e-5)


def _pair(in_channels=24, out_channels=8, **kwargs):
    torch.manual_seed(0)
    fast = CachedGCNConv(in_channels, out_channels, **kwargs)
    with torch.no_grad():
        fast.bias.normal_()
    reference = GCNConv(in_channels, out_channels, **kwargs)
    reference.load_state_dict(fast.state_dict())  # the same parameters, the same names
    return fast, reference


@pytest.mark.parametrize('settings', [{}, {'improved': True}, {'add_self_loops': False},
                                      {'flow': 'target_to_source'}])
@pytest.mark.parametrize('sparse,weighted', [(False, False), (True, True)])
def test_cached_conv_computes_pyg_gcnconv(settings, sparse, weighted):
    data = _graph(sparse=sparse, weighted=weighted, seed=1)
    fast, reference = _pair(**settings)
    inputs = [(data.x, ), (data.x * 2, ), (RowShuffle().shuffle(data.x), ),
              (FeatureMask(0.5, exact=True).mask(data.x), )]
    for features, in inputs:
        graph = (data.edge_index, ) if data.edge_weight is None \
            else (data.edge_index, data.edge_weight)
        out = fast(features, *graph)
        expected = reference(features.clone() if isinstance(features, PermutedRows)
                             else features * 1, *graph)
        assert fast.report.name == 'cached-sparse'
        torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
        out.square().sum().backward()
        expected.square().sum().backward()
        for (name, a), b in zip(fast.named_parameters(), reference.parameters()):
            torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4, msg=name)
            a.grad, b.grad = None, None
    assert len(fast.graph_cache) == 1  # one matrix for the one graph


def test_derived_features_are_the_tensors_they_stand_for_gradients_included():
    x = torch.randn(7, 5, requires_grad=True)
    shuffled = RowShuffle().shuffle(x)
    masked = MaskedColumns(x, torch.tensor([True, False, True, True, False]))
    assert shuffled.shape == x.shape and shuffled.pending  # shape without computing
    assert torch.equal(shuffled * 1, x[shuffled.permutation])
    assert torch.equal(masked[:, 1], torch.zeros(7)) and torch.equal(masked[:, 0], x[:, 0])
    (shuffled.sum() + masked.sum()).backward()
    assert torch.equal(x.grad, torch.tensor([2., 1., 2., 2., 1.]).expand(7, 5))
    nested = RowShuffle().shuffle(masked)
    assert nested.root is x and torch.equal(nested * 1, masked.values()[nested.permutation])


def test_the_encoder_takes_no_model_arguments_and_nothing_shadows_pyg():
    parameters = list(inspect.signature(gd.GraphEncoder.forward).parameters)
    assert parameters == ['self', 'x', 'edge_index', 'edge_weight']
    assert not hasattr(gd.GraphEncoder, 'encode_views')
    assert not hasattr(propagation, 'MessagePassing')  # PyG's class has the name
    assert not hasattr(propagation, 'prenormalized_gcn')


def test_no_layer_flips_normalize_in_a_batch_or_layer_wise(monkeypatch):
    writes = []
    original = torch.nn.Module.__setattr__

    def recording(module, name, value):
        if name == 'normalize' and isinstance(module, GCNConv) and hasattr(module, 'lin'):
            writes.append(value)
        original(module, name, value)
    data = _graph(weighted=True)
    torch.manual_seed(0)
    model = gd.GGD.from_options(data.num_features, 16, num_layers=2)
    monkeypatch.setattr(torch.nn.Module, '__setattr__', recording)
    batch = next(iter(node_loader(data, 16, 2, gcn_normalized=True)))
    model.training_loss(batch).backward()
    assert model.propagation.name == 'subgraph-sparse'
    layerwise_embed(model.encoder, data, batch_size=20)
    assert writes == []


def test_a_given_matrix_is_used_as_it_is():
    data = _graph()
    fast, reference = _pair()
    matrix = PropagationMatrix(data.edge_index, torch.rand(data.edge_index.size(1)), 60,
                               name='given')
    expected = reference.propagate(matrix.edge_index, x=reference.lin(data.x),
                                   edge_weight=matrix.edge_weight) + reference.bias
    torch.testing.assert_close(fast(data.x, matrix), expected, atol=1e-5, rtol=1e-5)
    assert fast.report.name == 'given' and len(fast.graph_cache) == 0
    fast.fast_path = False
    torch.testing.assert_close(fast(data.x, matrix), expected, atol=1e-5, rtol=1e-5)
    assert fast.report == propagation.PropagationReport('message-passing', 'fast_path=False')
