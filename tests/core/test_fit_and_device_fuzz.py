"""Property-based fuzz of ``fit``'s settings and of the device names (issue 24): each is taken
or refused with a ValueError naming it."""
from hypothesis import given, strategies as st

from helpers import FUZZ, JSON_VALUES
from graphdim.runtime import resolve_device
from graphdim.train import check_fit_options


@FUZZ
@given(epochs=JSON_VALUES, lr=JSON_VALUES, weight_decay=JSON_VALUES, patience=JSON_VALUES,
       min_epochs=JSON_VALUES)
def test_fit_settings_are_checked(epochs, lr, weight_decay, patience, min_epochs):
    try:
        check_fit_options(epochs, lr, weight_decay, patience, min_epochs)
    except ValueError as error:
        assert str(error)
        return
    assert epochs >= 1 and lr > 0 and patience >= 0 and min_epochs >= 0


@FUZZ
@given(device=st.one_of(st.sampled_from(['cpu', 'auto', 'meta', 'cuda:99', 'mps', 'xla',
                                         'cpu:0', '']), st.text(max_size=8)))
def test_devices_resolve_or_are_refused(device):
    try:
        resolved = resolve_device(device)
    except ValueError as error:
        assert str(error)
        return
    assert resolved.type in ('cpu', 'cuda', 'mps')
