"""Sphinx extension for graphdim's site: results tables rendered from benchmarks/results, and
a check that the API reference documents every public name.

``results-table`` renders one of ``benchmarks/render_readme.TABLES`` at build time, with the
benchmark's own table function, so no figure of the site is copied by hand::

    ```{results-table} node-accuracy
    ```

At the end of reading, every name of ``graphdim.__all__`` must have a reference entry
(``graphdim.NAME`` in the Python domain) and every documented class and function a
docstring; each miss is a warning, which the strict build (``-W``) turns into a failure.
"""
import importlib
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
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
    app.connect('autodoc-process-docstring', _note_docstring)
    app.connect('env-check-consistency', check_api_reference)
    app.connect('missing-reference', resolve_graphdim_reference)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
