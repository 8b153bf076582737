"""Your own graph: from networkx, from an edge-list file (+ feature matrix), and its clean-up.

Every reader returns a PyG ``Data`` with ``x``, ``edge_index``, optional ``y`` and
``node_ids`` (the original node names, in row order), ready for training and embedding.

Graph hygiene is explicit (:func:`prepare_graph`), with these defaults:

* **directed edges** are made undirected (both directions), as GCN-style DIM assumes;
  ``undirected=False`` keeps the direction (messages then flow source -> target);
* **duplicate edges** are merged (weights averaged) so an edge is not counted twice, and an
  edge listed in both directions keeps its weight;
* **self-loops** in the input are removed, since GCN adds one per node itself;
  ``self_loops='keep'`` keeps them;
* **isolated nodes** need nothing: they keep their own features through the self-loop;
* **a graph without features** fails unless ``missing_features=`` says what to use: ``'degree'``
  (one-hot degree, capped), ``'identity'`` (one-hot node id, transductive only) or ``'ones'``.
"""
import math
import re
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, degree, remove_self_loops, to_undirected

from ..graph.checks import GraphInputError
from ..runtime import check_memory

FEATURE_FALLBACKS = ('degree', 'identity', 'ones')
MAX_DEGREE_FEATURE = 64


def degree_features(edge_index: torch.Tensor, num_nodes: int,
                    max_degree: int = MAX_DEGREE_FEATURE) -> torch.Tensor:
    """One-hot in-degree, capped at ``max_degree`` (``[num_nodes, max_degree + 1]``, float):
    every node of degree ``max_degree`` or more shares the last column (GIN, InfoGraph)."""
    check_memory(4.0 * num_nodes * (max_degree + 1), f"one-hot degree features of "
                 f"{num_nodes:,} nodes x {max_degree + 1:,} columns", "lower --max-degree")
    deg = degree(edge_index[1], num_nodes).long().clamp(max=max_degree)
    return torch.nn.functional.one_hot(deg, max_degree + 1).float()


def _structural_features(kind: str, edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    if kind == 'identity':
        check_memory(4.0 * num_nodes * num_nodes, f"--missing-features identity on "
                     f"{num_nodes:,} nodes (a dense {num_nodes:,} x {num_nodes:,} matrix)",
                     "use --missing-features degree or ones, or give a feature matrix "
                     "(--features)")
        return torch.eye(num_nodes)
    if kind == 'ones':
        return torch.ones(num_nodes, 1)
    if kind == 'degree':
        return degree_features(edge_index, num_nodes)
    raise ValueError(f"unknown feature fallback {kind!r}; choose one of "
                     f"{', '.join(FEATURE_FALLBACKS)}")


def prepare_graph(data: Data, undirected: bool = True, self_loops: str = 'remove',
                  missing_features: Optional[str] = None) -> Data:
    """Apply the documented clean-up: undirected, merged duplicates, self-loops, features."""
    if self_loops not in ('remove', 'keep'):
        raise ValueError(f"self_loops must be 'remove' or 'keep'; got {self_loops!r}")
    num_nodes = data.num_nodes
    edge_index, edge_weight = data.edge_index, getattr(data, 'edge_weight', None)
    if self_loops == 'remove':
        edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    if undirected:
        edge_index, edge_weight = to_undirected(edge_index, edge_weight, num_nodes,
                                                reduce='mean')
    else:
        edge_index, edge_weight = coalesce(edge_index, edge_weight, num_nodes, reduce='mean')
    data.edge_index = edge_index
    if edge_weight is not None:
        data.edge_weight = edge_weight
    if getattr(data, 'x', None) is None:
        if missing_features is None:
            raise GraphInputError("the graph has no node features; give a feature matrix or "
                                  "pass missing_features='degree', 'identity' or 'ones' (CLI: "
                                  "--missing-features)")
        data.x = _structural_features(missing_features, edge_index, num_nodes)
    return data


def _label_tensor(values: Sequence) -> torch.Tensor:
    classes = sorted(set(values), key=str)
    return torch.tensor([classes.index(v) for v in values])


def from_networkx(graph, feature_attributes: Optional[Sequence[str]] = None,
                  label_attribute: Optional[str] = None, **prepare_kwargs) -> Data:
    """A networkx graph as ``Data``: node attributes as features, an optional label attribute.

    ``feature_attributes`` lists numeric node attributes (scalars or vectors) concatenated
    into ``x``; by default every numeric attribute except the label. Labels of any hashable
    type are mapped to class indices in sorted order. An edge attribute ``weight`` (where
    any edge has one; networkx's convention, 1 where it is missing) becomes ``edge_weight``.
    """
    nodes = list(graph.nodes())
    index = {node: i for i, node in enumerate(nodes)}
    edges = list(graph.edges(data=True))
    pairs = [(index[u], index[v]) for u, v, _ in edges]
    edge_index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    edge_weight = None
    if any('weight' in attributes for _, _, attributes in edges):
        try:
            edge_weight = torch.tensor([float(a.get('weight', 1.0)) for _, _, a in edges],
                                       dtype=torch.float32)
        except (TypeError, ValueError):
            bad = next(a['weight'] for _, _, a in edges if not _is_number(a.get('weight', 1)))
            raise GraphInputError(f"edge attribute 'weight' must be a number on every edge; "
                                  f"found {bad!r}") from None
    attributes = [graph.nodes[n] for n in nodes]
    if feature_attributes is None:
        feature_attributes = sorted({k for a in attributes for k, v in a.items()
                                     if k != label_attribute and _is_numeric(v)})
    x = None
    if feature_attributes:
        try:
            rows = [np.concatenate([np.atleast_1d(np.asarray(a[k], dtype=np.float32))
                                    for k in feature_attributes]) for a in attributes]
        except KeyError as missing:
            raise GraphInputError(f"node attribute {missing} is missing on some nodes; give "
                                  f"every node the same feature attributes") from None
        x = torch.from_numpy(np.stack(rows))
    data = Data(x=x, edge_index=edge_index, num_nodes=len(nodes))
    if edge_weight is not None and bool((edge_weight != 1).any()):
        data.edge_weight = edge_weight
    if label_attribute is not None:
        try:
            data.y = _label_tensor([a[label_attribute] for a in attributes])
        except KeyError:
            have = sorted({str(k) for a in attributes for k in a})
            raise GraphInputError(f"label attribute {label_attribute!r} is missing on some "
                                  f"nodes; the nodes' attributes are: "
                                  f"{', '.join(have) or 'none'}") from None
    data.node_ids = nodes
    return prepare_graph(data, **prepare_kwargs)


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _is_numeric(value) -> bool:
    try:
        return np.asarray(value, dtype=np.float32).ndim <= 1
    except (TypeError, ValueError):
        return False


def _read_matrix(path: Path, what: str) -> np.ndarray:
    """A numeric matrix from ``.npy``, ``.pt`` (a plain tensor) or text; any failure is a
    :class:`GraphInputError` naming the file and what it should hold."""
    if not path.is_file():
        raise GraphInputError(f"{what} file {path} not found" + (
            " (it is a directory; give the file inside it)" if path.is_dir() else ""))
    try:
        if path.suffix == '.npy':
            return np.load(path, allow_pickle=False)
        if path.suffix == '.pt':
            tensor = torch.load(path, weights_only=True)
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"it holds a {type(tensor).__name__}, not a tensor")
            return tensor.numpy()
        return np.loadtxt(path, delimiter=',' if path.suffix == '.csv' else None, ndmin=2)
    except Exception as error:  # numpy, torch and pickle each raise their own types
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise GraphInputError(
            f"{path}: not a readable {what} file ({reason}); give a .npy array, a .pt file "
            f"holding one tensor (torch.save(tensor, path)), or numbers as text / .csv with "
            f"one row per node") from None


def _read_labels(path: Path, num_nodes: int) -> torch.Tensor:
    """Class indices ``0..C-1``, one per node: float values must be whole numbers."""
    values = _read_matrix(path, 'labels')
    if values.ndim > 2 or (values.ndim == 2 and 1 not in values.shape):
        raise GraphInputError(f"{path}: labels must be one class index per node (a single "
                              f"column); it holds shape {list(values.shape)}: give the "
                              f"column of labels alone")
    values = values.reshape(-1)
    if values.size != num_nodes:
        raise GraphInputError(f"{path}: {values.size} labels for {num_nodes} nodes")
    if not np.issubdtype(values.dtype, np.number):
        raise GraphInputError(f"{path}: labels must be numbers (class indices); it holds "
                              f"{values.dtype}")
    fractional = ~np.isfinite(values) | (values != np.round(values))
    if fractional.any():
        raise GraphInputError(f"{path}: labels must be whole numbers (class indices); found "
                              f"{values[fractional][0]}")
    if values.min() < 0:
        raise GraphInputError(f"{path}: labels must be class indices 0..C-1; found "
                              f"{int(values.min())} (give unlabelled nodes a class, or leave "
                              f"out --labels)")
    if values.max() >= 2 ** 62:
        raise GraphInputError(f"{path}: labels must be class indices 0..C-1; found "
                              f"{values.max():g}")
    labels = values.astype(np.int64)
    distinct = np.unique(labels).size
    if int(labels.max()) > 10 * distinct + 1000:  # a classifier allocates one row per id
        raise GraphInputError(f"{path}: labels must be class indices 0..C-1; they run to "
                              f"{int(labels.max())} but only {distinct} distinct values "
                              f"appear: renumber the classes 0..{distinct - 1}")
    return torch.from_numpy(labels)


def read_label_names(path: Union[str, Path], num_classes: int) -> list:
    """The names of classes ``0..num_classes-1`` from a text file (CLI ``--label-names``):
    one name per line (line i names class i), or ``id<TAB>name`` lines in any order. Every
    class needs one name; names are kept as written (at most 200 characters each)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size > 2 ** 20:
        raise GraphInputError(f"--label-names {path}: not a file of class names (missing, a "
                              f"folder, or over 1 MiB): give a text file, one name per line")
    try:
        lines = path.read_text(encoding='utf-8-sig').rstrip('\r\n').splitlines()
    except UnicodeDecodeError as error:
        raise GraphInputError(f"--label-names {path} is not UTF-8 text ({error.reason} at "
                              f"byte {error.start}): give one class name per line") from None
    tabbed = [re.fullmatch(r'\s*(\d{1,9})\t(.*)', line) for line in lines]
    pairs = [(int(m[1]), m[2]) for m in tabbed] if lines and all(tabbed) else list(
        enumerate(lines))
    names = dict(pairs)
    bad = next((f"line {i + 1}: {name!r:.60}" for i, (_, name) in enumerate(pairs)
                if not name.strip() or len(name) > 200 or not name.isprintable()), None)
    if bad or len(names) != len(pairs) or sorted(names) != list(range(num_classes)):
        why = f"a name must be 1 to 200 printable characters ({bad})" if bad else (
            f"it names {len(pairs)} class(es) for the labels' {num_classes} (classes 0.."
            f"{num_classes - 1}, each once)")
        raise GraphInputError(f"--label-names {path}: {why}; give one name per line (line i "
                              f"names class i) or 'id<TAB>name' lines")
    return [names[i].strip() for i in range(num_classes)]


def _read_features(path: Path) -> torch.Tensor:
    x = _read_matrix(path, 'features')
    if x.ndim != 2:
        raise GraphInputError(f"{path}: features must be a 2-D matrix [num_nodes, "
                              f"num_features]; it holds shape {list(x.shape)} (one feature "
                              f"per node: reshape it to [N, 1])")
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise GraphInputError(f"{path}: features must be numbers; it holds {x.dtype}")
    return torch.from_numpy(x.astype(np.float32))


def _read_lines(path: Path) -> list:
    try:  # UTF-8; a byte-order mark (Windows editors write one) is dropped
        return path.read_text(encoding='utf-8-sig').splitlines()
    except UnicodeDecodeError as error:
        raise GraphInputError(f"{path} is not a text edge list (not UTF-8: {error.reason} at "
                              f"byte {error.start}); give 'u v [weight]' lines, or a "
                              f".graphml / .gml file") from None


def _count_nodes(path: Path, edge_index: torch.Tensor) -> int:
    """Largest id plus one, unless the ids are clearly not ``0..N-1`` (far more ids than
    appear, which would allocate a matrix for nodes that do not exist)."""
    num_nodes = int(edge_index.max()) + 1
    distinct = int(torch.unique(edge_index).numel())
    if num_nodes > 10 * distinct + 1_000_000:
        raise GraphInputError(f"{path}: node ids must be 0..N-1; they run to {num_nodes - 1} "
                              f"but only {distinct} distinct ids appear: renumber the nodes "
                              f"0..{distinct - 1}, or give a feature matrix with one row per "
                              f"node")
    return num_nodes


# Edge-list fields, ASCII only: Python's int() and float() also take '1_0' (10), signs and
# the digits of other scripts, which no edge-list writer means.
_NODE_ID = re.compile(r'[0-9]+', re.ASCII)
_WEIGHT = re.compile(r'[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?', re.ASCII)
_MAX_NODE_ID = 2 ** 63 - 1  # torch.long


def _parse_edge(path: Path, number: int, fields: list) -> tuple:
    """``(u, v, weight)`` of one edge-list line, or a :class:`GraphInputError` naming the file,
    the line and what the field must be."""
    got = ' '.join(fields)
    if not (_NODE_ID.fullmatch(fields[0]) and _NODE_ID.fullmatch(fields[1])):
        raise GraphInputError(f"{path}:{number}: node ids must be integers 0..N-1 in plain "
                              f"ASCII digits (no signs, '_' or other scripts); got {got!r}")
    u, v = int(fields[0]), int(fields[1])
    if max(u, v) > _MAX_NODE_ID:
        raise GraphInputError(f"{path}:{number}: node id {max(u, v)} is above 2**63 - 1; "
                              f"renumber the nodes 0..N-1")
    if len(fields) == 2:
        return u, v, 1.0
    if not _WEIGHT.fullmatch(fields[2]):
        raise GraphInputError(f"{path}:{number}: the weight must be a decimal number in "
                              f"plain ASCII (e.g. 0.5 or 1e-3); got {got!r}")
    weight = float(fields[2])
    if not math.isfinite(weight) or abs(weight) > torch.finfo(torch.float32).max:
        raise GraphInputError(f"{path}:{number}: the weight {fields[2]} is outside float32's "
                              f"range; rescale the weights")
    return u, v, weight


def read_edge_list(edges: Union[str, Path], features: Optional[Union[str, Path]] = None,
                   labels: Optional[Union[str, Path]] = None, **prepare_kwargs) -> Data:
    """An edge-list text file (``u v`` or ``u v weight`` per line, ``#`` comments; commas or
    white space) with an optional feature matrix (``.npy``, ``.pt``, ``.csv`` or text; row i
    is node i) and optional labels (one integer per node, same formats).

    Node ids must be integers ``0..N-1``; ``N`` is the number of feature rows when features
    are given, else the largest id plus one.
    """
    path = Path(edges)
    if not path.is_file():
        raise FileNotFoundError(f"edge list {path} not found")
    rows = []
    for number, line in enumerate(_read_lines(path), start=1):
        line = line.split('#', 1)[0].replace(',', ' ').split()
        if not line:
            continue
        if len(line) not in (2, 3):
            raise GraphInputError(f"{path}:{number}: expected 'u v' or 'u v weight', got "
                                  f"{' '.join(line)!r}")
        rows.append(_parse_edge(path, number, line))
    if not rows:
        raise GraphInputError(f"{path} holds no edges")
    edge_index = torch.tensor([row[:2] for row in rows], dtype=torch.long).t().contiguous()
    weights = torch.tensor([row[2] for row in rows], dtype=torch.float32)
    x = _read_features(Path(features)) if features else None
    num_nodes = x.size(0) if x is not None else _count_nodes(path, edge_index)
    if int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes:
        raise GraphInputError(f"{path}: node ids must be in [0, {num_nodes}) (one feature "
                              f"row per node); found {int(edge_index.min())}.."
                              f"{int(edge_index.max())}")
    data = Data(x=x, edge_index=edge_index, num_nodes=num_nodes)
    if bool((weights != 1).any()):
        data.edge_weight = weights
    if labels:
        data.y = _read_labels(Path(labels), num_nodes)
    data.node_ids = list(range(num_nodes))
    return prepare_graph(data, **prepare_kwargs)


def read_graph_file(path: Union[str, Path], features: Optional[str] = None,
                    labels: Optional[str] = None, label_attribute: Optional[str] = None,
                    **prepare_kwargs) -> Data:
    """A graph file by extension: GraphML / GML through networkx, anything else an edge list.

    A GraphML / GML file carries its features and labels as node attributes (every numeric
    one is a feature) and its edge weights as the edge attribute ``weight``; ``labels``
    (CLI ``--labels``) then names the node attribute holding the labels, like
    ``label_attribute``.
    """
    path = Path(path)
    if path.suffix in ('.graphml', '.gml'):
        if features:
            raise GraphInputError(f"{path}: --features and --labels go with edge lists as "
                                  f"files; a {path.suffix} file carries features as numeric "
                                  f"node attributes (--labels ATTR names its label "
                                  f"attribute), or convert it to an edge list")
        if labels is not None:
            if Path(labels).is_file() or label_attribute not in (None, labels):
                raise GraphInputError(f"{path}: a {path.suffix} file carries labels as a node "
                                      f"attribute; give --labels the attribute's name (e.g. "
                                      f"--labels club), not a file")
            label_attribute = str(labels)
        return from_networkx(_read_networkx(path), label_attribute=label_attribute,
                             **prepare_kwargs)
    return read_edge_list(path, features, labels, **prepare_kwargs)


def _read_networkx(path: Path):
    import networkx as nx
    if not path.is_file():
        raise FileNotFoundError(f"graph file {path} not found")
    try:
        return nx.read_graphml(path) if path.suffix == '.graphml' else nx.read_gml(path)
    except Exception as error:  # networkx, XML and decoding errors alike
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise GraphInputError(f"{path}: not a readable {path.suffix[1:].upper()} file "
                              f"({reason})") from None
