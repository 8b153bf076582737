"""Feature row normalisation is applied only where it is defined, and says what it did."""
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
