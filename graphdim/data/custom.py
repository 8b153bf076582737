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
import re
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, degree, remove_self_loops, to_undirected

from ..graph.checks import GraphInputError, shown
from ..runtime import check_memory
from .matrices import (WEIGHT_UNDERFLOW, check_weight_range, read_features, read_labels,
                       short_reason)

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


def _label_tensor(values: Sequence, attribute: str) -> torch.Tensor:
    """Class indices in the sorted order of the label values (one dict lookup per node:
    20,000 distinct labels map in milliseconds); a value that is not a single class (a list,
    a dict) is a :class:`GraphInputError` naming the attribute."""
    try:
        classes = {value: index for index, value in enumerate(sorted(set(values), key=str))}
    except TypeError:  # unhashable: a list or a dict is no class
        bad = next(value for value in values if not _hashable(value))
        raise GraphInputError(f"label attribute {shown(attribute)} must hold one class per "
                              f"node (a number or a name); found {shown(bad)} (a "
                              f"{type(bad).__name__})") from None
    return torch.tensor([classes[value] for value in values], dtype=torch.long)


def _hashable(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


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
    edge_weight = _edge_weights(edges)
    attributes = [graph.nodes[n] for n in nodes]
    data = Data(x=_node_features(attributes, feature_attributes, label_attribute),
                edge_index=edge_index, num_nodes=len(nodes))
    if edge_weight is not None and bool((edge_weight != 1).any()):
        data.edge_weight = edge_weight
    if label_attribute is not None:
        try:
            data.y = _label_tensor([a[label_attribute] for a in attributes], label_attribute)
        except KeyError:
            have = sorted({str(k)[:30] for a in attributes for k in a})
            raise GraphInputError(f"label attribute {shown(label_attribute)} is missing on "
                                  f"some nodes; the nodes' attributes are: "
                                  f"{', '.join(have[:10]) or 'none'}"
                                  f"{', ...' if len(have) > 10 else ''}") from None
    data.node_ids = nodes
    return prepare_graph(data, **prepare_kwargs)


def _edge_weights(edges: list) -> Optional[torch.Tensor]:
    """The edges' ``weight`` attribute (1 where missing) as float32, or None where no edge
    has one; a weight that is no real number, or that float32 cannot hold, is refused."""
    if not any('weight' in attributes for _, _, attributes in edges):
        return None
    weights = [a.get('weight', 1.0) for _, _, a in edges]
    bad = next((w for w in weights if not _is_number(w)), None)
    if bad is not None:
        raise GraphInputError(f"edge attribute 'weight' must be a number on every edge; "
                              f"found {shown(bad)}")
    values = np.asarray([float(w) for w in weights], dtype=np.float64)
    check_weight_range(values, "edge attribute 'weight'")
    return torch.from_numpy(values.astype(np.float32))


def _node_features(attributes: list, feature_attributes: Optional[Sequence[str]],
                   label_attribute: Optional[str]) -> Optional[torch.Tensor]:
    """``x`` from the nodes' numeric attributes (every real-valued one but the label, unless
    ``feature_attributes`` names them), or None where there are none."""
    if feature_attributes is None:
        feature_attributes = sorted({k for a in attributes for k, v in a.items()
                                     if k != label_attribute and _is_numeric(v)}, key=str)
    if not feature_attributes:
        return None
    try:
        rows = [np.concatenate([_feature_values(name, a[name]) for name in feature_attributes])
                for a in attributes]
    except KeyError as missing:
        raise GraphInputError(f"node attribute {shown(missing.args[0])} is missing on some "
                              f"nodes; give every node the same feature attributes") from None
    return torch.from_numpy(np.stack(rows))


def _feature_values(name, value) -> np.ndarray:
    """One node attribute as float32 features: a real number, a vector of them or their text;
    anything else (complex numbers among it: their imaginary part would be dropped) is a
    :class:`GraphInputError` naming the attribute."""
    array = np.atleast_1d(np.asarray(value))
    if array.ndim == 1 and not np.iscomplexobj(array):
        try:
            return array.astype(np.float32)
        except (TypeError, ValueError):
            pass
    raise GraphInputError(f"node attribute {shown(name)} must be a real number or a vector "
                          f"of them on every node; found {shown(value)} (complex numbers are "
                          f"refused, not cut to their real part)")


def _is_number(value) -> bool:
    if isinstance(value, complex) or np.iscomplexobj(value):
        return False
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _is_numeric(value) -> bool:
    """Whether a node attribute is a feature by default: a number (complex ones too, to be
    refused rather than dropped), a vector of them, or their text."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return False
    if array.ndim > 1:
        return False
    if np.iscomplexobj(array):
        return True
    try:
        array.astype(np.float32)
        return True
    except (TypeError, ValueError):
        return False


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
    the line and what the field must be (the field shown cut short, never the whole line)."""
    for field in fields[:2]:
        if not _NODE_ID.fullmatch(field):
            raise GraphInputError(f"{path}:{number}: node ids must be integers 0..N-1 in plain "
                                  f"ASCII digits (no signs, '_' or other scripts); got "
                                  f"{shown(field, 30)}")
        if len(field) > 19 or int(field) > _MAX_NODE_ID:  # int() refuses 4,300+ digits
            raise GraphInputError(f"{path}:{number}: node id {shown(field, 30)} is above "
                                  f"2**63 - 1; renumber the nodes 0..N-1")
    u, v = int(fields[0]), int(fields[1])
    if len(fields) == 2:
        return u, v, 1.0
    if not _WEIGHT.fullmatch(fields[2]):
        raise GraphInputError(f"{path}:{number}: the weight must be a decimal number in "
                              f"plain ASCII (e.g. 0.5 or 1e-3); got {shown(fields[2], 30)}")
    weight = float(fields[2])
    if weight == 0 and fields[2].lower().split('e')[0].strip('+-.0'):  # 1e-400: 0 already
        raise GraphInputError(f"{path}:{number}: the weight {shown(fields[2], 30)} is "
                              f"{WEIGHT_UNDERFLOW}; rescale the weights")
    check_weight_range(np.array([weight]), f"{path}:{number}")
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
                                  f"{len(line)} fields ({shown(' '.join(line), 40)})")
        rows.append(_parse_edge(path, number, line))
    if not rows:
        raise GraphInputError(f"{path} holds no edges")
    edge_index = torch.tensor([row[:2] for row in rows], dtype=torch.long).t().contiguous()
    weights = torch.tensor([row[2] for row in rows], dtype=torch.float32)
    x = read_features(Path(features)) if features else None
    num_nodes = x.size(0) if x is not None else _count_nodes(path, edge_index)
    if int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes:
        raise GraphInputError(f"{path}: node ids must be in [0, {num_nodes}) (one feature "
                              f"row per node); found {int(edge_index.min())}.."
                              f"{int(edge_index.max())}")
    data = Data(x=x, edge_index=edge_index, num_nodes=num_nodes)
    if bool((weights != 1).any()):
        data.edge_weight = weights
    if labels:
        data.y = read_labels(Path(labels), num_nodes)
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


# The longest node name a graph file may give (names are kept, as node ids, in the files
# ``graphdim embed`` writes: numpy stores every name at the longest one's width).
MAX_NODE_NAME = 1000


def _read_networkx(path: Path):
    import networkx as nx
    if not path.is_file():
        raise FileNotFoundError(f"graph file {path} not found")
    try:
        graph = nx.read_graphml(path) if path.suffix == '.graphml' else nx.read_gml(path)
    except Exception as error:  # networkx, XML and decoding errors alike
        raise GraphInputError(f"{path}: not a readable {path.suffix[1:].upper()} file "
                              f"({short_reason(error)})") from None
    long_name = next((node for node in graph if len(str(node)) > MAX_NODE_NAME), None)
    if long_name is not None:
        raise GraphInputError(f"{path}: node names must be at most {MAX_NODE_NAME} "
                              f"characters; one has {len(str(long_name)):,} "
                              f"({shown(str(long_name), 30)})")
    return graph
