"""--hops and --reinforcement through the command line: chosen on validation, recorded per
seed, applied again by graphdim embed."""
import json

import torch

import graphdim as gd
from graphdim import cli


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
