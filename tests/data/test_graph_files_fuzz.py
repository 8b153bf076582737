"""Property-based fuzz of the graph file readers (issue 24): edge lists, feature and label files,
GraphML and GML either read into a graph that passes the checks or raise a GraphInputError
(or a NotEnoughMemoryError naming the option) with a message; nothing is written outside the
sandbox."""
import os
import string
from pathlib import Path

import numpy as np
import torch
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from helpers import FUZZ, FALLBACKS, sandbox
from graphdim.data import read_graph_file
from graphdim.graph.checks import GraphInputError, check_graph
from graphdim.runtime import NotEnoughMemoryError


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
