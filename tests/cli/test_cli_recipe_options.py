"""The frontier recipes' options through the command line: --hops and --reinforcement chosen
on validation, recorded per seed and applied again by graphdim embed; GGD as its authors run it
(the presets, --mask-clean, a fixed epoch budget, --hops-cv); the training-free baseline."""
import json

import pytest
import torch

import graphdim as gd
from graphdim import cli
from graphdim.presets import preset_defaults


def test_hops_are_chosen_on_validation_recorded_and_applied_by_embed(tmp_path, capsys):
    out = tmp_path / 'run'
    assert cli.main(['train', '--dataset', 'karate', '--epochs', '5', '--min-epochs', '1',
                     '--hidden', '16', '--seeds', '2', '--hops', '0', '1', '3',
                     '--reinforcement', 'add', 'replace', '--random-baseline', '--quiet',
                     '--out', str(out), '--json']) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for run in summary['runs']:
        assert run['hops'] in (0, 1, 3) and run['reinforcement'] in ('add', 'replace')
        assert run['random_init_hops'] in (0, 1, 3)
        assert 'plain_test_acc' in run and 'random_init_plain_test_acc' in run
    assert 'plain_test_acc_mean' in summary
    # embed: the encoder's embeddings reinforced as the seed's probe chose
    run = summary['runs'][1]
    assert cli.main(['embed', str(out), '--seed', '1', '--out', str(tmp_path / 'z')]) == 0
    embedded = torch.load(tmp_path / 'z.pt', weights_only=True)['embeddings']
    model, _ = gd.load_model(out, seed=1)
    data = gd.load_node_dataset('karate').data
    expected = gd.reinforce(gd.embed(model, data), data.edge_index, run['hops'],
                            mode=run['reinforcement'])
    assert torch.allclose(embedded, expected, atol=1e-5)
    # --hops K overrides the run's choice
    assert cli.main(['embed', str(out), '--hops', '2', '--out', str(tmp_path / 'z2')]) == 0
    assert 'K=2' in capsys.readouterr().out


def test_ggd_presets_follow_the_authors_code():
    for name, hidden, lr in (('ggd-cora', None, None), ('ggd-citeseer', 1536, 0.0005),
                             ('ggd-pubmed', 1024, None)):
        values = preset_defaults('train', name)
        assert values['model'] == 'ggd' and values['mask_clean'] is True
        assert (values['epochs'], values['patience']) == (500, 0)  # no early stopping
        assert (values['hops'], values['reinforcement']) == ([5], ['add'])
        assert values.get('hidden_channels') == hidden and values.get('lr') == lr


def test_mask_clean_and_hops_cv_from_the_command_line(tmp_path, capsys):
    out = tmp_path / 'run'
    assert cli.main(['train', '--model', 'ggd', '--dataset', 'karate', '--mask-clean',
                     '--epochs', '6', '--patience', '0', '--hidden', '8', '--hops', '0', '2',
                     '--hops-cv', '2', '--quiet', '--json', '--out', str(out)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    config = summary['config']  # the model's options under model_options
    assert config['model_options']['mask_clean'] is True and config['hops_cv'] == 2
    assert summary['runs'][0]['epochs'] == 6  # --patience 0: the whole budget
    assert summary['runs'][0]['hops'] in (0, 2)
    model, _ = gd.load_model(out)
    assert model.mask_clean is True
    # an option of GGD's given to DGI is refused, naming who reads it
    assert cli.main(['train', '--model', 'dgi', '--dataset', 'karate', '--mask-clean']) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and '--mask-clean' in error[0] and 'ggd' in error[0]


def test_random_baseline_brings_the_training_free_baseline(capsys):
    assert cli.main(['train', '--dataset', 'karate', '--epochs', '3', '--hidden', '8',
                     '--seeds', '2', '--random-baseline', '--quiet', '--json']) == 0
    output = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(output[-1])
    runs = summary['runs']
    assert all(r['training_free_hops'] in (0, *gd.eval.reinforced.MULTISCALE_HOPS) for r in runs)
    assert summary['training_free_test_acc_mean'] == pytest.approx(
        sum(r['training_free_test_acc'] for r in runs) / 2)
    assert any(line.startswith('training-free baseline') for line in output)
