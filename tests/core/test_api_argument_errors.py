"""The Python API's misuse (issue 27, cause 8): a ValueError naming the argument, never a
crash or a silent result; embed works on a model without parameters."""
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

import graphdim as gd
from graphdim.registry import ModelEntry, register_model, unregister_model


def _probe_inputs():
    labels = torch.arange(20) % 2
    return torch.randn(20, 4) + labels[:, None], labels, gd.random_split(labels, 0, 0.4, 0.2)


def _resume_with_other_epochs(tmp_path):
    data = gd.data.karate_club()
    model = gd.DeepGraphInfomax(16, gd.GraphEncoder(data.num_features, 16))
    checkpoint = tmp_path / 'checkpoint.pt'
    gd.fit(model, data, epochs=3, checkpoint=checkpoint, checkpoint_every=1, progress=False,
           patience=0, min_epochs=0)
    gd.fit(model, data, epochs=5, checkpoint=checkpoint, checkpoint_every=1, resume=True,
           progress=False, patience=0, min_epochs=0)


def _register(**fields):
    entry = ModelEntry(**{'name': 'r4toy', 'level': 'node', 'description': 'test',
                          'build': lambda config, n: None, **fields})
    try:
        register_model(entry)
    finally:
        unregister_model('node', 'r4toy')


EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
Z = torch.randn(3, 4)

API_MISUSE = {
    'c_grid negative': (lambda: gd.linear_probe(*_probe_inputs(), c_grid=(-1.0, )), 'c_grid'),
    'c_grid empty': (lambda: gd.linear_probe(*_probe_inputs(), c_grid=()), 'c_grid'),
    'c_grid zero': (lambda: gd.linear_probe(*_probe_inputs(), c_grid=(0, )), 'c_grid'),
    'negative weights': (lambda: gd.reinforce(Z, EDGES, 1, edge_weight=-torch.ones(4)),
                         'edge_weight'),
    'NaN weights': (lambda: gd.reinforce(Z, EDGES, 1, edge_weight=torch.full((4, ), np.nan)),
                    'edge_weight'),
    'float edge_index': (lambda: gd.reinforce(Z, EDGES.float(), 1), 'edge_index'),
    'transposed edge_index': (lambda: gd.reinforce(Z, EDGES.t(), 1), 'edge_index'),
    'train_fraction 1.5': (lambda: gd.random_split(torch.arange(10) % 2, 0, 1.5),
                           'train_fraction'),
    'resume, epochs changed': (None, 'epochs'),
    'build None': (lambda: _register(build=None), 'build'),
    'unknown option': (lambda: _register(options=('no_such_option', )), 'options'),
    'mlp epochs 0': (lambda: gd.mlp_probe(*_probe_inputs(), epochs=0), 'epochs'),
    'public_split without masks': (lambda: gd.public_split(Data(x=Z, edge_index=EDGES)),
                                   'train_mask'),
    'check_graph(None)': (lambda: gd.check_graph(None), 'check_graph'),
}


@pytest.mark.parametrize('case', list(API_MISUSE))
def test_api_misuse_is_a_value_error_naming_the_argument(case, tmp_path):
    call, argument = API_MISUSE[case]
    with pytest.raises(ValueError, match=argument):
        call() if call is not None else _resume_with_other_epochs(tmp_path)


def test_embed_works_on_a_model_without_parameters():
    class Features(torch.nn.Module):
        def embed(self, batch):
            return batch.x
    data = Data(x=torch.randn(3, 2), edge_index=EDGES)
    assert torch.equal(gd.embed(Features(), data), data.x)
