"""Issue 24, probes: integer 0/1 masks, unlabelled rows (-1), a single class, overlapping
masks and sparse class ids are refused or honoured, never silently mis-scored."""
import pytest
import torch

from graphdim.eval import Split, linear_probe, mlp_probe, random_split


def _masks(n=60):
    train = torch.zeros(n, dtype=torch.bool)
    val, test = train.clone(), train.clone()
    train[:20], val[20:40], test[40:] = True, True, True
    return train, val, test


def _data(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    x = torch.randn(n, 4, generator=g) + 3 * labels[:, None].float()
    return x, labels


@pytest.mark.parametrize('probe', [linear_probe, mlp_probe])
def test_integer_masks_are_refused_not_read_as_indices(probe):
    x, labels = torch.randn(60, 4), torch.arange(60) % 2
    train, val, test = (m.long() for m in _masks())
    with pytest.raises(ValueError, match=r'Split.train must be a bool mask.*mask.bool\(\)'):
        probe(x, labels, Split(train, val, test, 'ints'))


def test_masks_of_the_wrong_length_are_refused():
    x, labels = _data()
    train, val, test = _masks()
    with pytest.raises(ValueError, match=r'Split.test must be a bool mask .*\[60\]'):
        linear_probe(x, labels, Split(train, val, test[:50], 'short'))


def test_overlapping_train_and_test_masks_are_refused():
    x, labels = _data()
    train, val, test = _masks()
    test[:5] = True
    with pytest.raises(ValueError, match='5 rows are in both the train and the test split'):
        linear_probe(x, labels, Split(train, val, test, 'leaky'))


def test_unlabelled_rows_are_left_out_not_scored_as_errors():
    x, labels = _data()
    train, val, test = _masks()
    clean = linear_probe(x, labels, Split(train, val, test, 's'))
    marked = labels.clone()
    marked[50:] = -1  # half the test rows unlabelled (PyG's convention)
    with pytest.warns(UserWarning, match='labelled below 0.*10 test'):
        probe = linear_probe(x, marked, Split(train, val, test, 's'))
    assert clean.test_acc == 1.0 and probe.test_acc == 1.0
    assert probe.test_pred.shape == (20, )  # still one prediction per test row


def test_a_single_class_is_refused():
    x = torch.randn(60, 4)
    with pytest.raises(ValueError, match='one class only'):
        linear_probe(x, torch.zeros(60, dtype=torch.long), Split(*_masks(), 'one'))


@pytest.mark.parametrize('probe', [linear_probe, mlp_probe])
def test_sparse_class_ids_are_two_classes_not_a_billion(probe):
    x, labels = _data()
    sparse = labels * 10 ** 9
    result = probe(x, sparse, Split(*_masks(), 's'))  # would allocate [1e9, 4] weights
    assert result.test_acc > 0.9
    if result.test_pred is not None:
        assert set(result.test_pred.tolist()) <= {0, 10 ** 9}


def test_float_labels_are_refused_with_the_fix():
    x, labels = _data()
    with pytest.raises(ValueError, match=r'integer class ids.*labels.long\(\)'):
        linear_probe(x, labels.float(), Split(*_masks(), 's'))


def test_random_split_puts_unlabelled_nodes_in_no_split():
    labels = torch.tensor([0, 1] * 10 + [-1] * 5)
    split = random_split(labels, 0)
    assert not (split.train | split.val | split.test)[20:].any()
