"""What a run was made from: the size and SHA-256 of every input file its config names,
recorded in its ``config.json`` at training time (:func:`input_record`), and the check that a
run folder read later reads only those files (:func:`check_recorded_inputs`).

A run folder may come from someone else, and its ``config.json`` may name any path
(``"graph": "/etc/passwd"``). ``graphdim embed`` and ``graphdim plot`` read the run's own
graph again, so before they do, every input file the config names must be the one the run
recorded: the same absolute path, a regular file of the same size and SHA-256. A run folder
can then only make graphdim read files whose content its author already had. A config naming
an input file without a record (a run written before graphdim recorded its inputs, or an
edited one) is refused too: deleting the record must not lift the check.
"""
import hashlib
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Sequence

from ..graph.checks import shown

# Config keys whose values are files a run reads (``labels`` names a node attribute, not a
# file, where the graph is a GraphML / GML file).
INPUT_FILE_KEYS = ('graph', 'features', 'labels', 'label_names')
# The key of config.json holding the record.
RECORD_KEY = 'inputs'
_CHUNK = 1 << 20


def file_fingerprint(path) -> Dict[str, Any]:
    """``{'size', 'sha256'}`` of the regular file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b''):
            digest.update(chunk)
    return {'size': os.path.getsize(path), 'sha256': digest.hexdigest()}


def input_files(config: Mapping[str, Any]) -> Dict[str, str]:
    """The input files ``config`` (a run's options as plain values) names, by key."""
    graph = config.get('graph')
    graph_carries_labels = isinstance(graph, str) and Path(graph).suffix in ('.graphml',
                                                                              '.gml')
    return {key: config[key] for key in INPUT_FILE_KEYS
            if isinstance(config.get(key), str) and config[key]
            and not (key == 'labels' and graph_carries_labels)}


def input_record(config: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """The record a run keeps of its input files: ``{key: {'path', 'size', 'sha256'}}``
    (absolute paths, as the run folder stores them)."""
    return {key: {'path': os.path.abspath(path), **file_fingerprint(path)}
            for key, path in input_files(config).items() if os.path.isfile(path)}


def check_recorded_inputs(saved: Mapping[str, Any], config_path,
                          keys: Sequence[str] = INPUT_FILE_KEYS) -> None:
    """Before a run's own input files (those of ``keys``) are read again: each must be the
    file ``saved`` (the run's ``config.json``, at ``config_path``) records, else a
    ``ValueError`` naming the file, in one line, without reading it."""
    record = saved.get(RECORD_KEY)
    for key, path in input_files(saved.get('config') or {}).items():
        if key not in keys:
            continue
        entry = record.get(key) if isinstance(record, dict) else None
        if not isinstance(entry, dict):
            raise ValueError(
                f"{config_path} names the {key} file {shown(path, 200)} but holds no record "
                f"of the file the run was made from (a run written before graphdim recorded "
                f"its inputs, or an edited config.json), and graphdim reads only those: "
                f"train the run again, or give the file yourself (graphdim embed RUN --graph "
                f"FILE)")
        if not _is_recorded_file(entry, path):
            raise ValueError(
                f"{config_path}: the {key} file {shown(path, 200)} is not the one this run was "
                f"made from (missing, moved, or another size or SHA-256 than the run "
                f"recorded); put that file back, train the run again, or give the file "
                f"yourself (graphdim embed RUN --graph FILE)")


def _is_recorded_file(entry: Mapping[str, Any], path: str) -> bool:
    """Whether ``path`` is the regular file ``entry`` records (the size first: no device or
    FIFO is ever opened, and a file of another size is never read)."""
    try:
        if entry.get('path') != os.path.abspath(path) or not os.path.isfile(path) \
                or os.path.getsize(path) != entry.get('size'):
            return False
        return file_fingerprint(path)['sha256'] == entry.get('sha256')
    except (OSError, TypeError, ValueError):  # unreadable, or a malformed record
        return False
