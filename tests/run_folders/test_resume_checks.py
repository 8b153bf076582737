"""--resume continues only the run that wrote the checkpoint, and a bad checkpoint is one
clear message, never a traceback from torch or pickle."""
import pickle

import pytest

import graphdim as gd

from conftest import random_graph


def _fit(path, lr, resume=False, epochs=4):
    gd.seed_everything(0)
    model = gd.DeepGraphInfomax.from_options(8, 8)
    config = {'lr': lr, 'hidden_channels': 8, 'resume': resume}
    return gd.fit(model, random_graph(20, 8, 40), epochs=epochs, lr=lr, patience=0,
                  progress=False, checkpoint=path, checkpoint_every=2, resume=resume,
                  checkpoint_config=config)


def test_resume_refuses_a_checkpoint_of_other_settings_and_names_them(tmp_path):
    path = tmp_path / 'checkpoint.pt'
    _fit(path, lr=0.05, epochs=2)
    with pytest.raises(ValueError, match=r'other settings: lr \(was 0\.05, now 0\.001\)'):
        _fit(path, lr=0.001, resume=True)
    assert _fit(path, lr=0.05, resume=True).epochs == 2  # the same settings: its finished run


@pytest.mark.parametrize('content', [b'', b'\x80\x04truncated', pickle.dumps({'a': 1})])
def test_a_bad_checkpoint_is_one_message_naming_the_file(tmp_path, content):
    path = tmp_path / 'checkpoint.pt'
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r'checkpoint\.pt is not a (readable )?graphdim '
                                         r'checkpoint.*delete it') as info:
        _fit(path, lr=0.01, resume=True)
    assert 'weights_only=False' not in str(info.value)
