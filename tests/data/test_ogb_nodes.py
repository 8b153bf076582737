"""OGB node datasets: a tiny copy in OGB's raw layout, read offline from a read-only root."""
import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim.data.ogb_nodes import ogb_accuracy, ogb_required_files

pytest.importorskip('ogb')


def write_tiny_ogbn_arxiv(root: Path, num_nodes: int = 80, seed: int = 0) -> Path:
    """OGB's raw layout of ogbn-arxiv (csv.gz files, time split, release marker), tiny."""
    rng = np.random.default_rng(seed)
    folder = root / 'ogb' / 'ogbn_arxiv'
    (folder / 'raw').mkdir(parents=True)
    (folder / 'split' / 'time').mkdir(parents=True)
    y = rng.integers(0, 4, num_nodes)
    src, dst = rng.integers(0, num_nodes, (2, 300))
    keep = src != dst

    def write(path, rows):
        with gzip.open(folder / path, 'wt') as file:
            file.write(''.join(','.join(str(v) for v in np.atleast_1d(row)) + '\n'
                               for row in rows))
    write('raw/edge.csv.gz', np.stack([src[keep], dst[keep]], 1))  # directed, one per line
    write('raw/num-node-list.csv.gz', [num_nodes])
    write('raw/num-edge-list.csv.gz', [int(keep.sum())])
    write('raw/node-feat.csv.gz', np.round(rng.normal(size=(num_nodes, 8)) + y[:, None], 4))
    write('raw/node-label.csv.gz', y[:, None])
    write('raw/node_year.csv.gz', 2000 + rng.integers(0, 20, (num_nodes, 1)))
    order = rng.permutation(num_nodes)
    write('split/time/train.csv.gz', order[:40])
    write('split/time/valid.csv.gz', order[40:55])
    write('split/time/test.csv.gz', order[55:])
    (folder / 'RELEASE_v1.txt').write_text('tiny test copy\n')
    return folder


@pytest.fixture
def ogb_root(tmp_path):
    root = tmp_path / 'data'
    folder = write_tiny_ogbn_arxiv(root)
    for path in [*folder.rglob('*'), folder]:  # read-only, like the shared data folder
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield root, folder
    for path in [folder, *folder.rglob('*')]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_required_files_follow_ogbs_layout():
    files = ogb_required_files('ogbn-arxiv')
    assert 'raw/edge.csv.gz' in files and 'raw/node_year.csv.gz' in files
    assert 'split/time/train.csv.gz' in files and 'RELEASE_v1.txt' in files


def test_tiny_arxiv_loads_offline_from_a_read_only_root(ogb_root):
    root, folder = ogb_root
    dataset = gd.load_node_dataset('ogbn-arxiv', root=str(root), download=False)
    data = dataset.data
    assert dataset.name == 'ogbn-arxiv' and dataset.public_split
    assert data.x.shape == (80, 8) and data.y.shape == (80, ) and data.y.dtype == torch.long
    train = torch.from_numpy(np.loadtxt(folder / 'split/time/train.csv.gz', dtype=np.int64))
    assert torch.equal(data.train_mask.nonzero().view(-1), train.sort().values)
    assert int(data.val_mask.sum()) == 15 and int(data.test_mask.sum()) == 25
    assert not (data.train_mask & data.test_mask).any()
    # the directed citation edges are made undirected
    edges = set(map(tuple, data.edge_index.t().tolist()))
    assert all((b, a) in edges for a, b in edges)
    assert not (folder / 'processed').exists()  # nothing written into the root


def test_evaluator_scores_like_plain_accuracy():
    y = torch.tensor([0, 1, 2, 3, 1])
    assert ogb_accuracy('ogbn-arxiv', y, torch.tensor([0, 1, 2, 0, 0])) == pytest.approx(0.6)


def test_unsupported_and_missing_ogb_datasets_explain(tmp_path):
    with pytest.raises(ValueError, match='multi-label'):
        gd.load_node_dataset('ogbn-proteins')
    with pytest.raises(gd.DatasetNotFoundError, match='ogb/ogbn_products'):
        gd.load_node_dataset('ogbn-products', root=str(tmp_path), download=False)


def test_cli_minibatch_run_on_tiny_arxiv(ogb_root):
    root, _ = ogb_root
    proc = subprocess.run(
        [sys.executable, '-m', 'graphdim', 'train', '--dataset', 'ogbn-arxiv', '--root',
         str(root), '--no-download', '--hidden', '16', '--batch-size', '32', '--epochs', '3',
         '--quiet', '--json', '--device', 'cpu'],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary['dataset'] == 'ogbn-arxiv' and summary['split'] == 'public'
    assert summary['num_nodes'] == 80 and 0.0 <= summary['test_acc_mean'] <= 100.0
