"""The Python API checks its input before any step: fit and embed name the problem and the fix
instead of crashing (a negative index once segfaulted the fast path's sparse product)."""
import pytest
import torch
from torch_geometric.data import Data

import graphdim as gd
from graphdim.runtime import atomic_save, atomic_write_text, resolve_device


def _graph(num_nodes=6, features=4):
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    return Data(x=torch.rand(num_nodes, features), edge_index=edge_index)


def _broken(kind):
    data = _graph()
    if kind == 'negative index':
        data.edge_index = data.edge_index.clone()
        data.edge_index[0, 0] = -1
    elif kind == 'index past the nodes':
        data.edge_index = torch.cat([data.edge_index, torch.tensor([[0], [9]])], dim=1)
    elif kind == 'float edge_index':
        data.edge_index = data.edge_index.float()
    elif kind == 'too few feature rows':
        data.num_nodes = 6
        data.x = data.x[:4]
    return data


@pytest.mark.parametrize('kind, message', [
    ('negative index', 'negative node index'),
    ('index past the nodes', 'refers to node 9'),
    ('float edge_index', 'dtype torch.long'),
    ('too few feature rows', '4 rows but the graph has num_nodes=6'),
])
@pytest.mark.parametrize('entry', ['fit', 'embed'])
def test_fit_and_embed_reject_malformed_graphs(kind, message, entry):
    model = gd.DeepGraphInfomax.from_options(4, 8)
    call = (lambda d: gd.fit(model, d, epochs=1, progress=False)) if entry == 'fit' \
        else (lambda d: gd.embed(model, d))
    with pytest.raises(gd.GraphInputError, match=message):
        call(_broken(kind))


def test_wrong_in_channels_is_named_with_the_fix():
    model = gd.DeepGraphInfomax.from_options(7, 8)
    with pytest.raises(gd.GraphInputError, match=r'takes 7 input features.*in_channels=4'):
        gd.fit(model, _graph(features=4), epochs=1, progress=False)


def test_unknown_device_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match=r"unknown device 'tpu'; use cpu, cuda"):
        resolve_device('tpu')


def test_the_meta_device_is_refused():
    with pytest.raises(ValueError, match="device 'meta' cannot train"):
        resolve_device('meta')


def test_atomic_writes_get_the_usual_mode_and_clear_stale_temporaries(tmp_path):
    import os
    stale = tmp_path / '.model.pt.abc123.tmp'  # what a writer killed mid-write leaves
    stale.write_bytes(b'partial')
    atomic_save({'a': torch.ones(2)}, tmp_path / 'model.pt')
    atomic_write_text('{}', tmp_path / 'config.json')
    umask = os.umask(0)
    os.umask(umask)
    for name in ('model.pt', 'config.json'):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['config.json', 'model.pt']


@pytest.mark.parametrize('bad', [-1, 6])
def test_the_models_own_forward_rejects_indices_outside_the_graph(bad):
    """PyG-style use (model(x, edge_index)) builds the cached operator: checked there."""
    data = _graph()
    data.edge_index[1, 0] = bad
    model = gd.DeepGraphInfomax.from_options(4, 8)
    with pytest.raises(gd.GraphInputError, match='node index|out of range'):
        model(data.x, data.edge_index)
