"""The reinforcement chosen by cross-validation (graphdim.eval.reinforced): stratified folds,
hand cases, and no choice that sees a test label (the recipes' options through the command
line: tests/cli/test_cli_recipe_options.py)."""
import pytest
import torch
from torch_geometric.data import Data

import graphdim as gd
from graphdim.eval.reinforced import cross_validated_accuracy
from graphdim.eval.splits import Split


def _labelled_graph(seed: int = 0, nodes: int = 120, classes: int = 3):
    """Two noisy views of the class: features (weakly) and homophilous edges (strongly)."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(nodes) % classes
    x = torch.nn.functional.one_hot(y, classes).float() + 1.5 * torch.randn(
        nodes, classes, generator=generator)
    x = torch.cat([x, torch.randn(nodes, 5, generator=generator)], dim=1)
    src = torch.randint(0, nodes, (6 * nodes, ), generator=generator)
    dst = torch.randint(0, nodes, (6 * nodes, ), generator=generator)
    keep = (y[src] == y[dst]) | (torch.rand(src.numel(), generator=generator) < 0.2)
    edge_index = torch.stack([src[keep], dst[keep]])
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    order = torch.randperm(nodes, generator=generator)
    masks = [torch.zeros(nodes, dtype=torch.bool) for _ in range(3)]
    masks[0][order[:30]], masks[1][order[30:60]], masks[2][order[60:]] = True, True, True
    data = Data(x=x, edge_index=edge_index, y=y, train_mask=masks[0], val_mask=masks[1],
                test_mask=masks[2])
    return data, Split(*masks, 'test graph')


def _relabelled_test_rows(data, split, shift: bool):
    """The test rows' labels shuffled among them, or each moved to another class."""
    changed = data.clone()
    test = split.test.nonzero().view(-1)
    changed.y = data.y.clone()
    if shift:
        changed.y[test] = (data.y[test] + 1) % 3
    else:
        permuted = test[torch.randperm(test.numel(), generator=torch.Generator().manual_seed(1))]
        changed.y[test] = data.y[permuted]
    return changed


@pytest.mark.parametrize('folds', [0, 2])
def test_shuffling_test_labels_changes_no_choice(folds):
    """K, the form, C and the normalisation are chosen without the test labels: scrambling
    them changes the test score and nothing else (the epoch is chosen on the training loss,
    which reads no label at all)."""
    data, split = _labelled_graph()
    z = torch.randn(data.num_nodes, 8, generator=torch.Generator().manual_seed(3)) + data.x[:, :8]
    # cross-validation fits 10 probes a fold and a candidate: a small grid
    grid, modes = ((0, 2), ('add', 'replace')) if not folds else ((0, 2), ('add', ))
    # an embedding, and the training-free baseline's raw features
    for features in ((z, data.x) if not folds else (z, )):
        a = gd.choose_hops(features, data, split, grid, modes, folds=folds)
        for shift in (False, True):
            changed = _relabelled_test_rows(data, split, shift)
            b = gd.choose_hops(features, changed, split, grid, modes, folds=folds)
            assert (a.hops, a.mode, a.result.c, a.result.normalization) == \
                (b.hops, b.mode, b.result.c, b.result.normalization)
            assert a.val_scores == b.val_scores
        # the test labels do count: every one moved, the same predictions score otherwise
        assert b.test_score != a.test_score


def test_cross_validated_accuracy_against_hand_cases():
    data, split = _labelled_graph()
    # features that are the label: every held-out fold is classified right
    perfect = torch.nn.functional.one_hot(data.y, 3).float() * 5
    assert cross_validated_accuracy(perfect, data.y, split, 2) == 1.0
    # features that are noise: about chance (3 classes), never perfect
    noise = torch.randn(data.num_nodes, 4, generator=torch.Generator().manual_seed(0))
    assert cross_validated_accuracy(noise, data.y, split, 2) < 0.7
    with pytest.raises(ValueError, match='folds'):
        gd.choose_hops(perfect, data, split, (0, 1), folds=1)


def test_cross_validation_reads_no_test_row():
    """The test rows' features can be anything: the cross-validated score is the same."""
    data, split = _labelled_graph()
    x = data.x.clone()
    before = cross_validated_accuracy(x, data.y, split, 2)
    x[split.test] = 1e3 * torch.randn(int(split.test.sum()), x.size(1))
    assert cross_validated_accuracy(x, data.y, split, 2) == before


def test_every_fold_trains_on_every_class():
    """The folds are stratified: a class of two training and validation rows is in each
    fold's training part, so features that are the label score every held-out row right.
    The two rows are ones the former unstratified folds (a fixed permutation, seed 0) put
    in the same fold, where the class was never trained on."""
    nodes = 40
    y = torch.arange(nodes) % 2
    rare = torch.randperm(20, generator=torch.Generator().manual_seed(0))[[0, 2]]
    y[rare] = 2
    y[-1] = 2  # and one test row
    row = torch.arange(nodes)
    split = Split(row < 10, (row >= 10) & (row < 20), row >= 20, 'test graph')
    perfect = torch.nn.functional.one_hot(y, 3).float() * 5
    assert cross_validated_accuracy(perfect, y, split, 2) == 1.0


def test_more_folds_than_the_largest_class_has_rows_is_one_error():
    data, split = _labelled_graph()  # 60 training and validation rows, about 20 a class
    with pytest.raises(ValueError, match='stratified cross-validation needs a class with at '
                                         'least 25 labelled training and validation rows; '
                                         r'the largest has 2\d$'):
        cross_validated_accuracy(data.x, data.y, split, 25)
