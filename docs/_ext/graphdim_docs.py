"""Sphinx extension for graphdim's site: results tables rendered from benchmarks/results, and
a check that the API reference documents every public name.

``results-table`` renders one of ``benchmarks/render_readme.TABLES`` at build time, with the
benchmark's own table function, so no figure of the site is copied by hand::

    ```{results-table} node-models
    ```

``preset-table`` lists ``graphdim.PRESETS``: each preset, its command and the options it
sets, written as command-line flags from the parser, so the list cannot leave a preset out::

    ```{preset-table}
    ```

``literalinclude`` of a script under ``examples/`` shows it as a user runs it: the test
suite's switch (``GRAPHDIM_EXAMPLE_SMOKE``, a tiny setting for ``tests/repo/test_examples.py``) is
taken out of the shown code (:func:`strip_test_switches`); the file itself keeps it.

At the end of reading, every name of ``graphdim.__all__`` must have a reference entry
(``graphdim.NAME`` in the Python domain) and every documented class and function a
docstring; each miss is a warning, which the strict build (``-W``) turns into a failure.
"""
import importlib
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.directives.code import LiteralInclude
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

import graphdim

REPO = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)

sys.path.insert(0, str(REPO / 'benchmarks'))  # the benchmark scripts, as modules
from render_readme import RESULTS, TABLES  # noqa: E402


class ResultsTable(SphinxDirective):
    """A results table by name, rendered from its JSON, with the files it came from."""
    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        if name not in TABLES:
            raise self.error(f"unknown results table {name!r}; known: {', '.join(TABLES)} "
                             f"(benchmarks/render_readme.py's TABLES)")
        table = TABLES[name]
        for source in table.sources:
            self.env.note_dependency(str(RESULTS / source))
        files = ', '.join(f'`benchmarks/results/{source}`' for source in table.sources)
        text = f"{table.render()}\n\nRendered from {files}.\n"
        container = nodes.container(classes=['results-table'])
        self.state.nested_parse(StringList(text.splitlines(), source=f'results:{name}'),
                                self.content_offset, container)
        return [container]


def preset_flags(values: dict, option_strings: dict) -> list:
    """A preset's values as the flags that set them: ``['--model ggd', '--mask-clean']``."""
    flags = []
    for key, value in values.items():
        flag = max(option_strings[key], key=len)  # the long form: --hidden, not -h
        if value is True:
            flags.append(flag)  # a switch
        else:
            words = value if isinstance(value, (list, tuple)) else [value]
            flags.append(' '.join([flag, *map(str, words)]))
    return flags


class PresetTable(SphinxDirective):
    """``graphdim.PRESETS`` as a table: name, command, the flags each preset sets."""

    def run(self):
        from graphdim.cli import build_parser
        from graphdim.presets import PRESETS
        self.env.note_dependency(str(REPO / 'graphdim' / 'presets.py'))
        parsers = build_parser().command_parsers
        rows = ['| preset | command | options it sets |', '| --- | --- | --- |']
        for name, (command, values) in PRESETS.items():
            strings = {a.dest: a.option_strings for a in parsers[command]._actions}
            flags = ' '.join(f'`{flag}`' for flag in preset_flags(values, strings))
            rows.append(f'| `{name}` | `graphdim {command}` | {flags} |')
        container = nodes.container(classes=['preset-table'])
        self.state.nested_parse(StringList(rows, source='graphdim.PRESETS'),
                                self.content_offset, container)
        return [container]


_SWITCH_LINE = re.compile(r"^(?P<name>\w+) = os\.environ\.get\('GRAPHDIM_EXAMPLE_SMOKE'\)"
                          r" == '1'.*\n", re.MULTILINE)


def strip_test_switches(code: str) -> str:
    """An example's code as a user runs it: without the test suite's tiny-setting switch.

    ``smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'`` goes, ``A if smoke else B``
    becomes ``B``, ``not smoke`` becomes ``True``, and ``import os`` goes where nothing else
    uses ``os``. Code without the switch is returned as it is.
    """
    match = _SWITCH_LINE.search(code)
    if match is None:
        return code
    name = match['name']
    code = _SWITCH_LINE.sub('\x00\n', code)  # and one of the blank lines around it
    code = re.sub(r'\n\n\x00\n\n', '\n\n', code).replace('\x00\n', '')
    value = r"(?:[\w.]+|'[^'\n]*'|\"[^\"\n]*\"|\([^()\n]*\))"  # a name, number, string, tuple
    code = re.sub(rf"{value} if {name} else ({value})", r"\1", code)
    code = re.sub(rf"\bnot {name}\b", 'True', code)
    if not re.search(r'\bos\.', code):
        code = re.sub(r'^import os\n', '', code, flags=re.MULTILINE)
    code = re.sub(r'\n{4,}', '\n\n\n', code)  # at most two blank lines where lines went
    code = re.sub(r'^(\s*\n)+', '', code)
    if re.search(rf'\b{name}\b', code):
        raise ValueError(f'{name!r} is still used after taking the test switch out; '
                         f'strip_test_switches knows "A if {name} else B" and "not {name}"')
    return code


class ExampleInclude(LiteralInclude):
    """``literalinclude``, with an example's test switch taken out of the shown code."""

    def run(self):
        result = super().run()
        if 'examples' not in Path(self.arguments[0]).parts:
            return result
        for block in (n for node in result for n in node.findall(nodes.literal_block)):
            shown = strip_test_switches(block.astext())
            if shown != block.astext():
                block.rawsource = shown
                block.children = [nodes.Text(shown)]
        return result


def _note_docstring(app, what, name, obj, options, lines):
    if name.startswith('graphdim.') and what in ('class', 'function') and not any(lines):
        logger.warning(f'{name} has no docstring: write one in its module')


def _find(path: str):
    """The module or object a dotted path names, or None."""
    parts = path.split('.')
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def resolve_graphdim_reference(app, env, node, contnode):
    """A docstring's reference into graphdim that Sphinx could not resolve as written.

    ``graphdim.estimators.mi_loss`` (where a name is defined) links to its entry
    ``graphdim.mi_loss`` (where users import it from), methods alike. A reference to an
    internal module or helper that exists but has no entry of its own is rendered as code,
    unlinked. Anything else (a typo, a removed name) stays a missing reference: an error.
    """
    if node.get('refdomain') != 'py':
        return None
    target = node['reftarget'].lstrip('~.')
    parts = target.split('.')
    for start, part in enumerate(parts):
        if part in graphdim.__all__ and start != 1:
            public = '.'.join(['graphdim', *parts[start:]])
            found = env.domains['py'].resolve_xref(env, node['refdoc'], app.builder,
                                                   node['reftype'], public, node, contnode)
            if found is not None:
                return found
    context = [node.get('py:module'), node.get('py:class')]
    for prefix in ('.'.join(filter(None, context)), node.get('py:module'), ''):
        if _find(f'{prefix}.{target}' if prefix else target) is not None:
            return contnode
    return None


def check_api_reference(app, env):
    """Warn for every public name the reference does not document."""
    documented = set(env.domains['py'].objects)
    missing = [name for name in graphdim.__all__ if f'graphdim.{name}' not in documented]
    for name in missing:
        logger.warning(f"graphdim.{name} is in graphdim.__all__ but has no entry in the API "
                       f"reference: add it to docs/api.rst")


def setup(app):
    app.add_directive('results-table', ResultsTable)
    app.add_directive('preset-table', PresetTable)
    app.add_directive('literalinclude', ExampleInclude, override=True)
    app.connect('autodoc-process-docstring', _note_docstring)
    app.connect('env-check-consistency', check_api_reference)
    app.connect('missing-reference', resolve_graphdim_reference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
