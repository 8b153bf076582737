"""Every figure in the README's and the documentation's prose comes from a results file.

The figures themselves live in rendered tables (README.md's ``<!-- table:NAME -->`` blocks and
the site's ``results-table`` directives, both rendered from ``benchmarks/results/`` by
``benchmarks/render_readme.py``) and, for the papers' figures and reproductions by others,
in ``benchmarks/published.py``. Prose may repeat such a figure, never state one of its own:
this test finds every number with a decimal point and every percentage in the prose (outside
code, math and rendered tables) and fails on any that no table holds. Numbers that are not
results (versions, hyper-parameters, definitions) are listed in ``NOT_RESULTS``, each with
the page it may appear on.
"""
import re
from pathlib import Path

import pytest
from conftest import benchmark_module

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / 'README.md', *sorted(p for p in (REPO / 'docs').rglob('*.md')
                                     if '_build' not in p.parts)]

# A number with a decimal point (82.20, 0.001, 2.4), or a percentage (82%, 20 %).
FIGURE = re.compile(r'(?<![\w.\-/])(\d+(?:\.\d+)?\s?%|\d+(?:,\d{3})*\.\d+)(?![\w/])')

# Numbers in prose that are not results: page -> {number: why}. Keep it narrow.
NOT_RESULTS = {
    'getting-started.md': {'3.9': 'the Python version required', '2.1': 'the torch version',
                           '2.5': 'the PyG version'},
    'evaluation.md': {'10%': 'the random split defined', '80%': 'the random split defined',
                      '0.01': "the Adam probe's default rate"},
    'your-own-graph.md': {'10%': 'the random split defined', '80%': 'the random split defined'},
    'trust.md': {'100.00': 'the output a leak would print, quoted as what never to see'},
    'graph.md': {'0.01': "the OGB recipe's learning rate"},
    'large-graphs.md': {'0.4': "the synthetic graphs' homophily, a generator setting"},
}


def prose(text: str) -> str:
    """``text`` without rendered tables, fenced blocks (code, directives), inline code, math,
    link targets and HTML comments."""
    text = re.sub(r'^<!-- table:[\w-]+ -->\n.*?^<!-- /table -->$', ' ', text,
                  flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r'^(```|~~~|:::)[^\n]*\n.*?^\1\s*$', ' ', text, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r'<!--.*?-->', ' ', text, flags=re.DOTALL)
    text = re.sub(r'\$\$.*?\$\$', ' ', text, flags=re.DOTALL)
    text = re.sub(r'(?<!\\)\$[^$\n]+\$', ' ', text)
    text = re.sub(r'``.*?``|`[^`\n]*`', ' ', text)
    text = re.sub(r'\]\([^)]*\)', ']', text)
    return text


def figures(text: str) -> set:
    return {' '.join(m.split()) for m in FIGURE.findall(prose(text))}


def known_figures() -> set:
    """Every number of every rendered table, and every published figure."""
    render_readme = benchmark_module('render_readme')
    published = benchmark_module('published')
    rendered = '\n'.join(table.render() for table in render_readme.TABLES.values())
    numbers = set(re.findall(r'\d+(?:,\d{3})*(?:\.\d+)?', rendered))
    for per_dataset in published.PAPER.values():
        numbers |= {f'{figure:.1f}' for figure in per_dataset.values()}
    for per_dataset in published.REPRODUCED.values():
        for figure, _ in per_dataset.values():
            numbers |= set(re.findall(r'\d+(?:\.\d+)?', figure))
    return numbers


def is_known(figure: str, known: set) -> bool:
    """A decimal figure that a table holds; a percentage only with its decimals (``10%``
    would match any count of 10 in any table, so a whole percentage must be listed)."""
    number = figure.rstrip('% ')
    return '.' in number and number in known


def unsourced(page: Path, text: str, known: set) -> list:
    allowed = NOT_RESULTS.get(page.name, {})
    return sorted(f for f in figures(text) if not is_known(f, known) and f not in allowed)


@pytest.fixture(scope='module')
def known():
    return known_figures()


@pytest.mark.parametrize('page', PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_prose_states_no_figure_that_no_results_table_holds(page, known):
    found = unsourced(page, page.read_text(), known)
    assert not found, (f'{page.relative_to(REPO)} states {found} in its prose, and no rendered '
                       f'table holds them: render the figure from benchmarks/results/ (a '
                       f'results-table) or, if it is not a result, add it to NOT_RESULTS '
                       f'with why')


def test_a_typed_figure_is_caught_and_code_and_tables_are_not(known):
    page = REPO / 'docs' / 'index.md'
    assert unsourced(page, 'GGD trains in 12.5% of the time, reaching 91.37 on Cora.',
                     known) == ['12.5%', '91.37']
    assert unsourced(page, 'Run `--lr 0.001` or\n\n```bash\nx --p 0.37\n```\n', known) == []
    table = '<!-- table:node-presets -->\n| Cora | 99.99 |\n<!-- /table -->\n'
    assert unsourced(page, table, known) == []
    # a figure a rendered table holds may be repeated in prose
    assert unsourced(page, 'DGI reaches 82.20 on Cora.', known) == []


def test_every_whitelisted_number_is_still_on_its_page():
    """A whitelist entry whose number left its page is stale: remove it."""
    by_name = {}
    for page in PAGES:
        by_name.setdefault(page.name, set()).update(figures(page.read_text()))
    stale = [(name, number) for name, numbers in NOT_RESULTS.items() for number in numbers
             if number not in by_name.get(name, set())]
    assert not stale, stale


def test_the_docs_show_every_example_without_the_test_switch():
    """The site shows examples/*.py without GRAPHDIM_EXAMPLE_SMOKE (docs/_ext's
    literalinclude); what it shows still compiles, with the full setting's values."""
    import sys
    pytest.importorskip('sphinx', reason="the docs extension needs pip install -e '.[docs]'")
    sys.path.insert(0, str(REPO / 'docs' / '_ext'))
    from graphdim_docs import strip_test_switches
    for script in sorted((REPO / 'examples').glob('*.py')):
        shown = strip_test_switches(script.read_text())
        compile(shown, script.name, 'exec')
        assert 'smoke' not in shown.lower(), script.name
    shown = strip_test_switches("import os\n\nsmoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE')"
                                " == '1'\nfit(m, epochs=5 if smoke else 1000, progress=not smoke)\n")
    assert shown == 'fit(m, epochs=1000, progress=True)\n'
