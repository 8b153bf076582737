"""Property-based fuzz of ``linear_probe`` (issue 24): labels and masks of any kind are scored or
refused with a ValueError, never silently mis-scored."""
import torch
from hypothesis import given, strategies as st

from helpers import FUZZ, no_warnings
from graphdim.eval import Split, linear_probe


@FUZZ
@given(labels=st.lists(st.sampled_from([-1, 0, 1, 2, 10 ** 9]), min_size=12, max_size=12),
       assignment=st.lists(st.sampled_from([0, 1, 2, 3]), min_size=12, max_size=12),
       mask_dtype=st.sampled_from([torch.bool, torch.bool, torch.long]),
       overlap=st.booleans())
def test_linear_probe_scores_or_refuses(labels, assignment, mask_dtype, overlap):
    labels = torch.tensor(labels)
    where = torch.tensor(assignment)
    masks = [(where == k) for k in range(3)]
    if overlap:
        masks[2] = masks[2] | masks[0]
    x = torch.randn(12, 3, generator=torch.Generator().manual_seed(0))
    split = Split(*(m.to(mask_dtype) for m in masks), 'fuzz')
    try:
        with no_warnings():
            result = linear_probe(x, labels, split, c_grid=(1.0, ))
    except ValueError as error:
        assert str(error)
        return
    assert mask_dtype == torch.bool and not overlap
    assert 0.0 <= result.test_acc <= 1.0
    assert set(result.test_pred.tolist()) <= set(labels.tolist())
