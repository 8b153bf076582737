"""Property-based fuzz of the config readers (issue 24): ``--config`` files, presets and a run's
``config.json`` either give a config or raise a ValueError with a message."""
import json
import os

import pytest
from hypothesis import given, strategies as st

from helpers import FUZZ, sandbox, JSON_VALUES
from graphdim.cli import build_parser
from graphdim.cli.common import apply_config_defaults
from graphdim.cli.options import config_from_args
from graphdim.experiments import GraphConfig, ImageConfig, NodeConfig
from graphdim.presets import PRESETS
from graphdim.runs import RunFolder


_OPTION_NAMES = sorted(set(NodeConfig.field_names()) | set(GraphConfig.field_names())
                       | set(ImageConfig.field_names()) | {'out', 'overwrite', 'resume', 'x'})


def _config_from(argv):
    parser = build_parser(argv)
    args = apply_config_defaults(parser, parser.parse_args(argv), argv)
    if args.command == 'image':
        return config_from_args(ImageConfig, args)
    config_class = GraphConfig if getattr(args, 'level', 'node') == 'graph' else NodeConfig
    names = set(config_class.field_names())
    return config_class.from_dict({k: v for k, v in vars(args).items() if k in names})


@FUZZ
@given(values=st.dictionaries(st.sampled_from(_OPTION_NAMES), JSON_VALUES, max_size=4),
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
@given(saved=JSON_VALUES, raw=st.one_of(st.none(), st.binary(max_size=30)))
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
