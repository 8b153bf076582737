"""``graphdim embed RUN_DIR``: embed data with a saved model; write .pt and .npy files.

Node-level runs embed the nodes of their graph (or another named dataset, or your own graph
file), graph-level runs every graph of their dataset, image runs the test images of theirs.
On the run's own data (and reinforcement) these are the embeddings its probe scored, which the
run folder keeps: read, not computed again (a run written before they were kept: computed).
"""
import contextlib
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

from ..data.custom import FEATURE_FALLBACKS
from ..data.images import load_image_dataset
from ..data.provenance import check_recorded_inputs
from ..experiments.graph import graph_embeddings, load_config_dataset
from ..experiments.image import image_embeddings
from ..experiments.node import load_config_graph
from ..experiments.scaling import node_embeddings
from ..graph.checks import GraphInputError, check_graph
from ..graph.reinforcement import MAX_HOPS, MODES, check_hops, check_mode, reinforce
from ..experiments.reload import load_model
from ..experiments.results import RunSummary
from ..export import output_paths, save_embeddings
from ..runs import RunFolder
from ..plots import reinforcement_name
from ..progress import enabled, note, waiting
from ..runtime import atomic_write_text, resolve_device

# What ``graphdim embed`` writes, besides the matrix, in OUT.json: which embeddings they are.
FORMS = {'add': 'z + A^K z', 'replace': 'A^K z'}
REVERSE_FORMS = {form: mode for mode, form in FORMS.items()}
PLAIN = {'embeddings': 'plain', 'hops': 0, 'form': 'z'}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'embed', help='embed data with a trained model from a run directory',
        description='Load the model saved by `graphdim train --out RUN_DIR` (or `graphdim '
                    'image --out RUN_DIR`) and write the embeddings of its dataset, another '
                    'named dataset, or (node-level runs) your own graph file as OUT.pt '
                    '({embeddings, node_ids}), OUT.npy and OUT.node_ids.npy. Rows are nodes '
                    '(node-level runs), graphs (graph-level runs) or test images (image runs).')
    p.add_argument('run_dir', help='a directory written by graphdim train --out')
    source = p.add_mutually_exclusive_group()
    source.add_argument('--dataset', help="a named dataset (default: the run's own)")
    source.add_argument('--graph', help='an edge list (.txt/.csv/.edgelist) or .graphml/.gml')
    p.add_argument('--features', help='feature matrix for --graph (.npy/.pt/.csv; row i = node i)')
    p.add_argument('--missing-features', choices=FEATURE_FALLBACKS,
                   help='features to use when the graph has none')
    p.add_argument('--root', help='local data root (default: $GRAPHDIM_DATA)')
    p.add_argument('--seed', type=int, help="which seed's model (default: the first)")
    p.add_argument('--out', help='output path without extension (default: '
                                 'RUN_DIR/embeddings_<dataset>)')
    p.add_argument('--device', default='auto')
    p.add_argument('--hops', type=int, metavar='K',
                   help="node-level runs: embedding reinforcement z + A^K z (0: none; default: "
                        "the run's own, as its probe used it)")
    p.add_argument('--quiet', action='store_true', help='no progress lines')
    p.set_defaults(run=run)


def _source_name(args, saved) -> str:
    return args.graph or args.dataset or saved['config'].get('graph') or \
        saved['config'].get('dataset', 'its data')


def _check_input_size(saved, found) -> None:
    """The data must have the input size the model was built for."""
    expected = {key: saved[key] for key in found}
    if expected != found:
        raise GraphInputError(f"the model takes {_sizes(expected)} but this data has "
                              f"{_sizes(found)}; embed data of the same shape")


def _sizes(sizes) -> str:
    return ', '.join(f'{key} {value}' for key, value in sizes.items())


def _embed_nodes(args, model, config, saved, device):
    own = not (args.graph or args.dataset)
    kept = _scored_node_embeddings(args, config) if own and args.hops is None else None
    if kept is not None and config.graph is None:  # a named dataset: no node ids to read
        return kept[0], None, kept[2], 'nodes', kept[1]
    source = config  # the run's own graph: a named dataset or a file of its own
    if not own:
        source = replace(config, dataset=args.dataset or config.dataset, graph=args.graph,
                         features=args.features, labels=None,
                         missing_features=args.missing_features)
    else:  # only the very files the run was made from (the folder may come from elsewhere)
        check_recorded_inputs(saved, RunFolder(args.run_dir).config_path, ('graph', 'features'))
    with waiting(f"loading {source.graph or source.dataset}"):
        dataset = load_config_graph(replace(source, root=args.root or config.root, labels=None))
    data = dataset.data
    check_graph(data)
    if kept is not None and kept[0].size(0) == data.num_nodes:  # the graph's node ids only
        return kept[0], getattr(data, 'node_ids', None), dataset.name, 'nodes', kept[1]
    _check_input_size(saved, {'in_channels': data.num_features})
    with waiting(f"embedding {data.num_nodes} nodes"):
        embeddings = node_embeddings(config, model, data, device, progress=enabled())
    hops, mode, why = _run_reinforcement(args, config)
    if hops:
        with waiting(f"reinforcing: {reinforcement_name(hops, mode)}"):
            embeddings = reinforce(embeddings, data.edge_index, hops,
                                   getattr(data, 'edge_weight', None), mode=mode)
    return (embeddings, getattr(data, 'node_ids', None), dataset.name, 'nodes',
            _which(hops, mode, why))


def _which(hops: int, mode: str, why: str):
    """What OUT.json says of node embeddings: plain or reinforced, K, form, why this K."""
    return {'embeddings': 'reinforced' if hops else 'plain', 'hops': hops,
            'form': (FORMS[mode] if hops else 'z'), 'reinforcement_source': why}


def _scored_node_embeddings(args, config):
    """``(embeddings, which, dataset name)``: those the seed's probe scored on the run's own
    graph (plain, or reinforced as it chose), kept by the run; None where the folder lacks
    them or its results.json (a run written before they were kept, an unfinished run)."""
    folder = RunFolder(args.run_dir)
    seed = folder.seed_or_first(args.seed)
    results = folder.read_results()
    name = RunSummary.from_json(results, 'node').dataset if results is not None else None
    if name is None:
        return None
    hops, mode, why = _run_reinforcement(args, config)
    if check_hops(hops):  # (a config.json changed by hand: refused as when reinforcing)
        check_mode(mode)
    with waiting(f"reading the embeddings seed {seed}'s probe scored"):
        embeddings = folder.read_embeddings(seed, scored=bool(hops))
    return None if embeddings is None else (embeddings, _which(hops, mode, why), name)


def _run_reinforcement(args, config):
    """``(K, mode)``: ``--hops`` (with the run's first mode), else what the run's probe used:
    its one setting, or the one its validation chose for this seed (results.json)."""
    if args.hops is not None:
        return args.hops, config.reinforcement[0], '--hops'
    if len(config.hops) == 1 and len(config.reinforcement) == 1:
        return config.hops[0], config.reinforcement[0], "the run's own --hops"
    folder = RunFolder(args.run_dir)
    seed = folder.seed_or_first(args.seed)
    results = folder.read_results()  # a JSON object with a list of runs, or one error line
    if results is None:
        raise ValueError(f"{args.run_dir} chose --hops on validation but holds no "
                         f"results.json (an unfinished run): pass --hops K")
    run = RunSummary.from_json(results, 'node').run(seed)
    hops, mode = (run.scores.hops, run.scores.reinforcement) if run else (None, None)
    if hops is None or not 0 <= hops <= MAX_HOPS or mode not in MODES:  # 10**12: no end
        raise ValueError(f"{folder.results_path} records no chosen hops (0 .. {MAX_HOPS}) for "
                         f"seed {seed}: pass --hops K")
    return hops, mode, f"chosen on validation for seed {seed} (results.json)"


def _kept_embeddings(args):
    """The seed's embeddings the run kept (its own data's: those its probe scored), or None."""
    folder = RunFolder(args.run_dir)
    seed = folder.seed_or_first(args.seed)
    with waiting(f"reading the embeddings seed {seed}'s probe scored"):
        return folder.read_embeddings(seed)


def _embed_graphs(args, model, config, saved, device):
    name = args.dataset or config.dataset
    kept = _kept_embeddings(args) if not args.dataset else None
    if kept is not None:
        return kept, None, name, 'graphs', PLAIN
    # The model's own preparation of every graph too (a diffusion view), as in training.
    with waiting(f"loading {name}"):
        dataset = load_config_dataset(replace(config, dataset=name,
                                              root=args.root or config.root))
    _check_input_size(saved, {'in_channels': dataset.num_features})
    with waiting(f"embedding {len(dataset)} graphs"):
        embeddings = graph_embeddings(model, dataset, device)
    return embeddings, None, name, 'graphs', PLAIN


def _embed_images(args, model, config, saved, device):
    name = args.dataset or config.dataset
    kept = _kept_embeddings(args) if not args.dataset else None
    if kept is not None:
        return kept, None, name, 'test images', PLAIN
    with waiting(f"loading {name}"):
        dataset = load_image_dataset(name, args.root or config.root, config.download)
    _check_input_size(saved, {'image_size': dataset.image_size, 'channels': dataset.channels})
    with waiting(f"embedding {dataset.test_images.size(0)} test images"):
        embeddings = image_embeddings(model, dataset.test_images, device)
    return embeddings, None, name, 'test images', PLAIN


def _written(out):
    """Every file ``graphdim embed --out OUT`` writes: OUT.pt, OUT.npy, OUT.node_ids.npy and
    OUT.json."""
    paths = output_paths(out)
    return (*paths, paths[0].with_suffix('.json'))


def _inside(path, folder) -> bool:
    return os.path.abspath(path).startswith(os.path.abspath(folder) + os.sep)


def _check_out_path(out: str) -> None:
    """``--out OUT`` is where the files go: OUT.pt, OUT.npy, OUT.node_ids.npy and OUT.json,
    each a plain file, in a folder (missing folders are created). Refused, one line: an OUT
    that is a folder or a device or other special file (``/dev/null`` would have made
    ``/dev/null.pt``), a file to write that exists but is not a plain file, a folder above
    them that is a file (checked before anything is loaded)."""
    kinds = {stat.S_IFDIR: 'a folder', stat.S_IFCHR: 'a device', stat.S_IFBLK: 'a device',
             stat.S_IFIFO: 'a named pipe', stat.S_IFSOCK: 'a socket'}
    fix = (f"--out is a path prefix: embed writes OUT.pt, OUT.npy, OUT.node_ids.npy and "
           f"OUT.json; give one such as DIR/embeddings")
    for path in (Path(out), *_written(out)):
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        except OSError as error:  # a file above it (ENOTDIR), a loop of links
            raise ValueError(f"--out {out}: {path} cannot be written "
                             f"({error.strerror}); {fix}") from None
        if not stat.S_ISREG(mode):
            kind = kinds.get(stat.S_IFMT(mode), 'not a plain file')
            raise ValueError(f"--out {out}: {path} is {kind}; {fix}")


def _check_out(args, folder: RunFolder) -> None:
    """``--out`` may not replace (or sit among) the run's own files: refused, one line."""
    _check_out_path(args.out)
    for path in _written(args.out):
        clash = folder.clashes(path)
        if clash:
            raise ValueError(f"--out {args.out} would write {path}: {clash}; write the "
                             f"embeddings outside {args.run_dir}, or leave out --out (they go "
                             f"to {os.path.join(args.run_dir, 'embeddings_<dataset>.pt')})")


EMBED_BY_KIND = {'node': _embed_nodes, 'graph': _embed_graphs, 'image': _embed_images}


def run(args) -> None:
    device = resolve_device(args.device)
    folder = RunFolder(args.run_dir)
    saved = folder.read_config()
    if saved['kind'] != 'node' and (args.graph or args.features or args.missing_features
                                    or args.hops is not None):
        raise ValueError(f"--graph, --features, --missing-features and --hops embed the "
                         f"nodes of a graph with a node-level model; {args.run_dir} holds a "
                         f"{saved['kind']}-level run (use --dataset, or none for the run's "
                         f"own)")
    if args.hops is not None:
        try:
            check_hops(args.hops)
        except ValueError:
            raise ValueError(f"--hops must be from 0 (no reinforcement) to {MAX_HOPS}; got "
                             f"{args.hops}") from None
    for given, flag in ((args.features, '--features'),
                        (args.missing_features, '--missing-features')):
        if given and not args.graph:
            raise ValueError(f"{flag} is read with --graph FILE only (your own graph): add "
                             f"--graph FILE or drop it")
    if args.out:  # checked before anything is loaded: never over the run's own files
        _check_out(args, folder)
    seed = folder.seed_or_first(args.seed)
    note(f"graphdim embed: the {saved['kind']}-level model of {args.run_dir} (seed {seed}) on "
         f"{_source_name(args, saved)} | device {device}")
    model, config = load_model(args.run_dir, args.seed, device)
    embeddings, ids, name, rows, which = EMBED_BY_KIND[saved['kind']](args, model, config,
                                                                      saved, device)
    out = args.out or str(folder.path / f"embeddings_{name.replace(':', '_')}")
    held = folder.lock('graphdim embed') if any(
        _inside(path, folder.path) for path in _written(out)) else contextlib.nullcontext()
    with held:  # written into the run folder: one writer at a time
        pt_path, npy_path = save_embeddings(embeddings, out, ids)
        info_path = pt_path.with_suffix('.json')
        info = {'run_dir': str(folder.path.resolve()), 'kind': saved['kind'], 'seed': seed,
                'dataset': name, 'rows': rows, 'count': embeddings.size(0),
                'dim': embeddings.size(1), **which,
                'files': [pt_path.name, npy_path.name, pt_path.with_suffix('').name
                          + '.node_ids.npy'],
                'run_embeddings': f"seed_{seed}/embeddings.pt holds the plain embeddings "
                                  f"(before any reinforcement)"}
        atomic_write_text(json.dumps(info, indent=2) + '\n', info_path)  # temp + rename
    what = reinforcement_name(which['hops'], REVERSE_FORMS.get(which['form'], 'add'))
    source = (f" (K={which['hops']}: {which['reinforcement_source']})"
              if 'reinforcement_source' in which else '')
    print(f"embedded {embeddings.size(0)} {rows} -> {embeddings.size(1)}-d {what} embeddings"
          f"{source}; wrote {pt_path}, {npy_path} and {info_path} (which embeddings they are)")
