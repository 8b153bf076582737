"""``graphdim embed RUN_DIR``: embed a graph with a saved model; write .pt and .npy files."""
from pathlib import Path

from ..data import load_node_dataset
from ..data.custom import read_graph_file
from ..data.nodes import maybe_row_normalize
from ..graph.checks import GraphInputError, check_graph
from ..runs import load_model, read_run_config, save_embeddings
from ..runtime import resolve_device
from ..train import embed


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'embed', help='embed a graph with a trained model from a run directory',
        description='Load the model saved by `graphdim train --out RUN_DIR` and write the node '
                    'embeddings of its dataset, another named dataset, or your own graph file '
                    'as OUT.pt ({embeddings, node_ids}), OUT.npy and OUT.node_ids.npy.')
    p.add_argument('run_dir', help='a directory written by graphdim train --out')
    source = p.add_mutually_exclusive_group()
    source.add_argument('--dataset', help="a named dataset (default: the run's own)")
    source.add_argument('--graph', help='an edge list (.txt/.csv/.edgelist) or .graphml/.gml')
    p.add_argument('--features', help='feature matrix for --graph (.npy/.pt/.csv; row i = node i)')
    p.add_argument('--missing-features', choices=('degree', 'identity', 'ones'),
                   help='features to use when the graph has none')
    p.add_argument('--root', help='local data root (default: $GRAPHDIM_DATA)')
    p.add_argument('--seed', type=int, help="which seed's model (default: the first)")
    p.add_argument('--out', help='output path without extension (default: '
                                 'RUN_DIR/embeddings_<graph>)')
    p.add_argument('--device', default='auto')
    p.set_defaults(run=run)


def run(args) -> None:
    device = resolve_device(args.device)
    model, config = load_model(args.run_dir, args.seed, device)
    if args.graph:
        data = read_graph_file(args.graph, args.features,
                               missing_features=args.missing_features)
        if config.normalize_features:
            data.x = maybe_row_normalize(data.x)
        name = Path(args.graph).stem
    else:
        name = args.dataset or config.dataset
        data = load_node_dataset(name, args.root or config.root,
                                 normalize_features=config.normalize_features).data
    check_graph(data)
    in_channels = read_run_config(args.run_dir)['in_channels']
    if data.num_features != in_channels:
        raise GraphInputError(f"the model takes {in_channels} input features but this graph has "
                              f"{data.num_features}; embed a graph with the same feature space")
    embeddings = embed(model, data, device)
    out = args.out or str(Path(args.run_dir) / f"embeddings_{name.replace(':', '_')}")
    pt_path, npy_path = save_embeddings(embeddings, out, getattr(data, 'node_ids', None))
    print(f"embedded {embeddings.size(0)} nodes -> {embeddings.size(1)}-d; wrote {pt_path} "
          f"and {npy_path}")
