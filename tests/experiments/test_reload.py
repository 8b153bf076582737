"""Reloading a run's model (graphdim.experiments.reload.load_model): a ``config.json`` no model
can be built from (no in_channels, a model that is not a string, an unknown key) is one short
ValueError that starts with the file's path and says to train the run again."""
import pytest

from helpers import copy_changing_config as _copy, train_graph_run
from graphdim.experiments.reload import load_model


@pytest.fixture(scope='module')
def graph_run(tmp_path_factory):
    """A finished run on an edge list and a feature file of its own."""
    return train_graph_run(tmp_path_factory.mktemp('graph_run'))


@pytest.mark.parametrize('change, message', [
    (lambda saved: saved.pop('in_channels'), 'records no in_channels'),
    (lambda saved: saved['config'].update(model={}), 'model must be a string'),
    (lambda saved: saved['config'].update({'k' * 10 ** 5: 1}), 'unknown config keys'),
])
def test_load_model_names_the_config_file_it_cannot_use(graph_run, tmp_path, change, message):
    copy = _copy(graph_run[0], tmp_path, change)
    with pytest.raises(ValueError, match=message) as error:
        load_model(copy)
    assert str(error.value).startswith(str(copy / 'config.json'))
    assert len(str(error.value)) < 500 and 'train the run again' in str(error.value)
