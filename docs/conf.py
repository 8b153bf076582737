"""Sphinx configuration of graphdim's documentation site (``docs/``).

Build it strictly, as CI does (a warning -- a broken link, a missing reference, a docstring
that does not render -- fails the build)::

    pip install -e '.[docs]'
    sphinx-build -W --keep-going -n -b html docs docs/_build/html
"""
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / '_ext'))

import graphdim  # noqa: E402

project = 'graphdim'
author = 'the graphdim developers'
copyright = '2026, the graphdim developers'
release = version = graphdim.__version__  # the one place the version lives

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',      # the docstrings' Google-style Args / Returns sections
    'sphinx.ext.mathjax',
    'sphinx-mathjax-offline',   # MathJax served from the site itself: no CDN, works offline
    'sphinxarg.ext',            # the CLI reference, generated from graphdim.cli.build_parser
    'myst_parser',              # the pages are Markdown
    'graphdim_docs',            # results tables from benchmarks/results, API completeness
]

myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'deflist']
myst_heading_anchors = 3
source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']

autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autodoc_typehints_description_target = 'documented'  # no "Parameters" block of bare types
# Options such as --weight-decay and quotes in code-like text stay as written (no en dashes).
smartquotes = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Nitpicky mode makes every unresolved cross-reference an error. The site is built offline,
# so there is no intersphinx inventory for torch, PyG or the standard library: references
# into those packages cannot resolve and are the only ones let through.
nitpicky = True
nitpick_ignore_regex = [
    (r'py:.*', r'(torch|torch_geometric|numpy|np|networkx|nx|argparse|pathlib|collections'
               r'|typing|os|dataclasses|tqdm|sklearn|matplotlib)(\..*)?'),
    (r'py:.*', r'(Tensor|Data|Batch|Module|Path|Optional|Union|Sequence|Iterable|Iterator'
               r'|Callable|Mapping|Dict|List|Tuple|Any|Literal|PathLike|Parameter'
               r'|Optimizer|DataLoader|Dataset|Generator|device|dtype)'),
    (r'py:.*', r'(int|float|str|bool|dict|list|tuple|None|object|bytes|type|callable'
               r'|optional|iterable|sequence)'),
]

html_theme = 'furo'
html_title = f'graphdim {release}'
html_static_path = ['_static']
html_css_files = ['graphdim.css']  # tables scroll inside the page; long code lines wrap
pygments_style = 'friendly'
pygments_dark_style = 'monokai'
