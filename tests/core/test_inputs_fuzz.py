"""Issue 24: property-based fuzz of what graphdim reads and checks.

Every input either works or raises one of graphdim's own errors with a message (a
``GraphInputError`` naming the file for data files, a ``ValueError`` for configs and API
arguments, a ``NotEnoughMemoryError`` naming the option for allocations that cannot fit),
and nothing is written outside the temporary folder a test works in. Readers: edge lists,
feature and label files, GraphML; config readers: ``--config`` files, presets, a run's
``config.json``, run folders under ``--overwrite``; API checks: ``check_graph``,
``linear_probe``, ``fit``'s settings, devices. The whole file runs in well under a minute.
"""
import json
import os
import string
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from torch_geometric.data import Data

from graphdim.cli import build_parser
from graphdim.cli.common import apply_config_defaults
from graphdim.cli.options import config_from_args
from graphdim.data import read_graph_file
from graphdim.eval import Split, linear_probe
from graphdim.experiments import GraphConfig, ImageConfig, NodeConfig
from graphdim.graph.checks import GraphInputError, check_graph
from graphdim.presets import PRESETS
from graphdim.runs import RUN_FILES, RunFolder
from graphdim.runtime import NotEnoughMemoryError, resolve_device
from graphdim.train import check_fit_options

FUZZ = settings(max_examples=int(os.environ.get('GRAPHDIM_FUZZ_EXAMPLES', 60)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
FALLBACKS = st.sampled_from([None, 'degree', 'ones', 'identity'])


@contextmanager
def sandbox():
    """A temporary folder that is also the working directory; afterwards nothing may have
    appeared outside it (the parent folder lists the same entries)."""
    parent = Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory() as folder:
        before = set(os.listdir(parent))
        previous = os.getcwd()
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(previous)
        created = {name for name in set(os.listdir(parent)) - before
                   if not name.startswith(('tmp', 'pytest', 'graphdim-hypothesis'))}
        assert not created, f"files created outside the sandbox: {created}"


def _reads_or_refuses(read, path: Path):
    """``read()`` returns a graph that passes check_graph (once features are there), or
    raises a GraphInputError / NotEnoughMemoryError with a message."""
    try:
        data = read()
    except GraphInputError as error:
        assert str(error)
        return None
    except NotEnoughMemoryError as error:
        assert '--' in str(error)
        return None
    except FileNotFoundError as error:
        assert path.name in str(error)
        return None
    if data.x is not None:
        try:
            check_graph(data)
        except GraphInputError as error:
            assert str(error)
    return data


# --- edge lists ---------------------------------------------------------------------------
_ID = st.one_of(st.integers(0, 40).map(str),
                st.sampled_from(['-1', '2147483648', '1000000000000', '1e3', 'x', '0x1', '',
                                 '৩', '1_0']))
_WEIGHT = st.one_of(st.floats(-5, 5, allow_nan=False).map(repr),
                    st.sampled_from(['nan', 'inf', '-inf', '1e400', 'w', '0']))
_LINE = st.one_of(
    st.tuples(_ID, _ID).map(' '.join),
    st.tuples(_ID, _ID, _WEIGHT).map(lambda t: ','.join(t)),
    st.tuples(_ID, _ID, _WEIGHT, _ID).map(' '.join),
    st.sampled_from(['# comment', '', '   ', '0 1 # trailing', '\t0\t1']),
    st.text(alphabet=string.printable, max_size=12))


@FUZZ
@given(lines=st.lists(_LINE, max_size=12), fallback=FALLBACKS,
       raw=st.one_of(st.none(), st.binary(max_size=40)))
def test_edge_lists_read_or_are_refused(lines, fallback, raw):
    with sandbox() as folder:
        path = folder / 'edges.txt'
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text('\n'.join(lines))
        data = _reads_or_refuses(lambda: read_graph_file(path, missing_features=fallback), path)
        if data is not None:
            assert data.edge_index.dtype == torch.long and data.num_nodes >= 1
        assert sorted(os.listdir(folder)) == ['edges.txt']


# --- feature and label files ----------------------------------------------------------------
_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_, np.complex64,
                           np.uint8, np.float16, np.dtype('<U3')]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))


def _write_matrix(path: Path, kind: str, array: np.ndarray, text: str):
    if kind == 'npy':
        np.save(path, array, allow_pickle=False)
    elif kind == 'pt':
        obj = {'t': torch.zeros(2)} if array.dtype.kind == 'U' else \
            torch.from_numpy(array.astype(np.float32))
        torch.save(obj, path)
    else:
        path.write_text(text)


_MATRIX_FILES = st.tuples(st.sampled_from(['npy', 'pt', 'csv', 'txt']), _ARRAYS,
                          st.text(alphabet='0123456789.,-e \nnaif#', max_size=40))


@FUZZ
@given(features=_MATRIX_FILES, labels=st.one_of(st.none(), _MATRIX_FILES))
def test_feature_and_label_files_read_or_are_refused(features, labels):
    with sandbox() as folder:
        edges = folder / 'edges.txt'
        edges.write_text('0 1\n1 2\n2 3\n')
        feature_path = folder / f'x.{features[0]}'
        _write_matrix(feature_path, *features)
        label_path = None
        if labels is not None:
            label_path = folder / f'y.{labels[0]}'
            _write_matrix(label_path, *labels)
        data = _reads_or_refuses(lambda: read_graph_file(
            edges, str(feature_path), str(label_path) if label_path else None), edges)
        if data is not None:
            assert data.x.dtype == torch.float32 and data.x.size(0) == data.num_nodes
            if label_path is not None:
                assert data.y.dtype == torch.long and int(data.y.min()) >= 0


# --- GraphML ------------------------------------------------------------------------------
_ATTRIBUTE = st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                       st.sampled_from(['a', 'b', '', 'nan']), st.booleans())


@FUZZ
@given(num_nodes=st.integers(1, 6), edges=st.lists(st.tuples(st.integers(0, 5),
                                                             st.integers(0, 5)), max_size=10),
       node_attributes=st.dictionaries(st.sampled_from(['f', 'g', 'club']), _ATTRIBUTE,
                                       max_size=3),
       missing=st.booleans(), weight=st.one_of(st.none(), _ATTRIBUTE),
       labels=st.sampled_from([None, 'club', 'nope']), fallback=FALLBACKS,
       suffix=st.sampled_from(['.graphml', '.gml']))
def test_graphml_and_gml_read_or_are_refused(num_nodes, edges, node_attributes, missing,
                                             weight, labels, fallback, suffix):
    import networkx as nx
    graph = nx.Graph()
    graph.add_nodes_from(range(num_nodes))
    for node in graph.nodes:
        if not (missing and node == 0):
            graph.nodes[node].update(node_attributes)
    for u, v in edges:
        graph.add_edge(u, v, **({} if weight is None else {'weight': weight}))
    with sandbox() as folder:
        path = folder / f'g{suffix}'
        try:
            (nx.write_graphml if suffix == '.graphml' else nx.write_gml)(graph, path)
        except (nx.NetworkXError, ValueError):
            return  # networkx cannot write it: nothing to read
        data = _reads_or_refuses(lambda: read_graph_file(path, labels=labels,
                                                         missing_features=fallback), path)
        if data is not None and labels == 'club':
            assert data.y.numel() == data.num_nodes


@FUZZ
@given(text=st.text(alphabet='<>/="graphmlnodeid edgesourcetarget01 key', max_size=120),
       suffix=st.sampled_from(['.graphml', '.gml']))
def test_broken_graphml_text_is_refused(text, suffix):
    with sandbox() as folder:
        path = folder / f'g{suffix}'
        path.write_text(text)
        _reads_or_refuses(lambda: read_graph_file(path, missing_features='ones'), path)


# --- config readers -----------------------------------------------------------------------
_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 10 ** 12),
                               st.floats(allow_nan=False), st.text(max_size=8)),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
_OPTION_NAMES = sorted(set(NodeConfig.field_names()) | set(GraphConfig.field_names())
                       | set(ImageConfig.field_names()) | {'out', 'overwrite', 'resume', 'x'})


def _config_from(argv):
    parser = build_parser()
    args = apply_config_defaults(parser, parser.parse_args(argv), argv)
    if args.command == 'image':
        return config_from_args(ImageConfig, args)
    config_class = GraphConfig if getattr(args, 'level', 'node') == 'graph' else NodeConfig
    names = set(config_class.field_names())
    return config_class.from_dict({k: v for k, v in vars(args).items() if k in names})


@FUZZ
@given(values=st.dictionaries(st.sampled_from(_OPTION_NAMES), _JSON, max_size=4),
       command=st.sampled_from(['train', 'image']), wrap=st.booleans(),
       raw=st.one_of(st.none(), st.binary(max_size=30)))
def test_config_files_work_or_are_refused(values, command, wrap, raw):
    with sandbox() as folder:
        path = folder / 'recipe.json'
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(json.dumps({'kind': 'node', 'config': values, 'seeds': [0]}
                                       if wrap else values))
        try:
            config = _config_from([command, '--config', str(path)])
        except ValueError as error:
            assert str(error)
            if {'out', 'overwrite'} & set(values) or ('resume' in values and not wrap):
                pass  # refused, as it must be (or for an earlier reason)
        except SystemExit as error:  # argparse's own refusal of a value it converts
            assert error.code == 2
        else:
            assert not {'out', 'overwrite'} & set(values)
            assert config.seeds >= 1
        assert sorted(os.listdir(folder)) == ['recipe.json']


@pytest.mark.parametrize('name', sorted(PRESETS))
def test_every_preset_is_a_valid_config(name):
    command, values = PRESETS[name]
    assert not {'out', 'overwrite', 'resume'} & set(values)
    _config_from([command, '--preset', name])


@FUZZ
@given(saved=_JSON, raw=st.one_of(st.none(), st.binary(max_size=30)))
def test_a_run_config_json_reads_or_is_refused(saved, raw):
    with sandbox() as folder:
        run = RunFolder(folder)
        if raw is not None:
            run.config_path.write_bytes(raw)
        else:
            run.config_path.write_text(json.dumps(saved))
        try:
            config = run.read_config()
        except ValueError as error:
            assert 'config.json' in str(error)
        else:
            assert isinstance(config['config'], dict) and config['seeds']
            run.seed_or_first()


_NAMES = st.sampled_from(['config.json', 'results.json', 'labels.pt', 'loss.png',
                          'tsne_seed0.png', 'embeddings_cora.npy', 'notes.txt', 'seed_0',
                          'seed_x', 'tensorboard', '.hidden', 'model.pt', 'data'])


@FUZZ
@given(entries=st.lists(st.tuples(_NAMES, st.sampled_from(['file', 'dir'])), max_size=6),
       inner=st.lists(st.sampled_from(['model.pt', 'log.jsonl', 'mine.txt']), max_size=3),
       overwrite=st.booleans(), resume=st.booleans())
def test_overwrite_deletes_only_run_files(entries, inner, overwrite, resume):
    with sandbox() as folder:
        out = folder / 'run'
        out.mkdir()
        for name, kind in entries:
            path = out / name
            if path.exists():
                continue
            if kind == 'dir' or name.startswith('seed_') or name == 'tensorboard':
                path.mkdir()
                for file in inner:
                    (path / file).write_text('x')
            else:
                path.write_text('x')
        before = {p.relative_to(out) for p in out.rglob('*')}
        run = RunFolder(out)
        try:
            run.begin('node', {}, overwrite=overwrite, resume=resume)
            run.clear() if overwrite else None
        except ValueError as error:
            assert str(error)
            assert {p.relative_to(out) for p in out.rglob('*')} == before  # nothing deleted
            return
        finally:
            RunFolder(out)._key()  # the folder is still where it was
        left = {p.relative_to(out) for p in out.rglob('*')}
        deleted = before - left
        for path in deleted:
            top = path.parts[0]
            assert any(Path(top).match(pattern) for pattern in RUN_FILES) or \
                top.startswith('seed_') or top == 'tensorboard', path


# --- public API checks ----------------------------------------------------------------------
@FUZZ
@given(num_nodes=st.integers(0, 5), width=st.integers(0, 3),
       x_dtype=st.sampled_from([torch.float32, torch.float64, torch.int64, torch.bool,
                                torch.float16, None]),
       edges=st.lists(st.integers(-2, 6), max_size=8),
       edge_dtype=st.sampled_from([torch.long, torch.int32, torch.float32]),
       weight=st.one_of(st.none(), st.lists(st.floats(-1, 2) | st.sampled_from(
           [float('nan'), float('inf')]), max_size=8)),
       nan=st.booleans())
def test_check_graph_accepts_or_names_the_problem(num_nodes, width, x_dtype, edges,
                                                  edge_dtype, weight, nan):
    x = None if x_dtype is None else torch.ones(num_nodes, width).to(x_dtype)
    if nan and x is not None and x.numel() and x.is_floating_point():
        x[0, 0] = float('nan')
    edges = edges[:len(edges) // 2 * 2]
    edge_index = torch.tensor(edges, dtype=edge_dtype).view(2, -1)
    data = Data(x=x, edge_index=edge_index, num_nodes=num_nodes)
    if weight is not None:
        data.edge_weight = torch.tensor(weight, dtype=torch.float32)
    try:
        check_graph(data)
    except GraphInputError as error:
        assert str(error)
        return
    assert x.dtype == torch.float32 and bool(torch.isfinite(x).all())
    assert edge_index.numel() == 0 or 0 <= int(edge_index.min()) <= int(edge_index.max()) < \
        num_nodes


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
        with _no_warning_check():
            result = linear_probe(x, labels, split, c_grid=(1.0, ))
    except ValueError as error:
        assert str(error)
        return
    assert mask_dtype == torch.bool and not overlap
    assert 0.0 <= result.test_acc <= 1.0
    assert set(result.test_pred.tolist()) <= set(labels.tolist())


@contextmanager
def _no_warning_check():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield


@FUZZ
@given(epochs=_JSON, lr=_JSON, weight_decay=_JSON, patience=_JSON, min_epochs=_JSON)
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
