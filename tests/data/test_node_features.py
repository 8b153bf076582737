"""Feature row normalisation is applied only where it is defined, and says what it did."""
import warnings

import pytest
import torch

from graphdim.data.nodes import can_row_normalize, maybe_row_normalize


def test_non_negative_features_are_row_normalised():
    x = torch.tensor([[1.0, 3.0], [0.0, 0.0]])
    assert can_row_normalize(x)
    assert torch.equal(maybe_row_normalize(x), torch.tensor([[0.25, 0.75], [0.0, 0.0]]))


def test_negative_features_are_left_with_a_warning():
    x = torch.tensor([[1.0, -3.0], [2.0, 2.0]])
    assert not can_row_normalize(x)
    with pytest.warns(UserWarning, match='negative entries.*--no-normalize-features'):
        assert maybe_row_normalize(x) is x


@pytest.mark.parametrize('low, applied', [(-1.0, False), (0.0, True)])
def test_the_run_records_whether_features_were_row_normalised(tmp_path, low, applied):
    import numpy as np
    from graphdim import NodeConfig, run_node_experiment
    (tmp_path / 'edges.txt').write_text('0 1\n1 2\n2 3\n3 0\n')
    features = np.linspace(low, 1.0, 12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / 'x.npy', features)
    config = NodeConfig(graph=str(tmp_path / 'edges.txt'), features=str(tmp_path / 'x.npy'),
                        hidden_channels=4, epochs=2, patience=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        summary = run_node_experiment(config, progress=False)
    assert summary['features_row_normalized'] is applied
    assert summary['config']['normalize_features'] is True
    assert any('negative entries' in str(w.message) for w in caught) is not applied
