"""The documentation site (docs/): it builds strictly, documents every public name and every
CLI option, shows the results rendered from benchmarks/results, and its code is code that runs."""
import argparse
import html
import inspect
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import benchmark_module

import graphdim
from graphdim.cli import build_parser

pytest.importorskip('sphinx', reason="the site needs the docs extra: pip install -e '.[docs]'")

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / 'docs'
PAGES = sorted(DOCS.rglob('*.md'))
RESULTS_TABLE = re.compile(r'^```\{results-table\} ([\w-]+)$', re.MULTILINE)


def sphinx_build(source: Path, out: Path) -> subprocess.CompletedProcess:
    """The strict build of .ci/run: every warning is an error, unresolved references too."""
    return subprocess.run([sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-n', '-q',
                           '-b', 'html', str(source), str(out)],
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope='module')
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('site')
    build = sphinx_build(DOCS, out)
    assert build.returncode == 0, build.stderr[-4000:]
    return out


def plain(fragment: str) -> str:
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', ' ', fragment)).split())


def first_words(obj, count=4) -> list:
    """The first words of a docstring, without reST markup."""
    line = inspect.getdoc(obj).split('\n\n')[0]
    line = re.sub(r':math:`[^`]*`', ' ', line)
    line = re.sub(r':\w+:`~?([^`]*)`', r'\1', line).replace('``', '')
    return re.findall(r"[A-Za-z][A-Za-z']+", line)[:count]


# ------------------------------------------------------------------------- the reference
def test_every_public_name_has_a_reference_entry_with_its_docstring(site):
    api = (site / 'api.html').read_text()
    for name in graphdim.__all__:
        entry = re.search(rf'id="graphdim\.{name}">.*?</dt>\s*<dd>(.*?)</dd>', api, re.DOTALL)
        assert entry, f'graphdim.{name} has no entry in the API reference'
        text = plain(entry.group(1))
        assert text, f'graphdim.{name} has an empty entry'
        obj = getattr(graphdim, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            words = first_words(obj)
            in_order = '.{1,40}?'.join(map(re.escape, words))  # math renders as \(...\)
            assert re.search(in_order, text), (name, words, text[:200])


def test_every_cli_command_and_option_is_in_the_cli_reference(site):
    page = (site / 'cli.html').read_text()
    text = plain(page)
    parser = build_parser()
    assert len(parser.command_parsers) == 5
    graph_level = build_parser(['train', '--level', 'graph']).command_parsers['train']
    for command, subparser in [*parser.command_parsers.items(), ('train', graph_level)]:
        assert f'graphdim {command}' in text, command
        options = [o for action in subparser._actions for o in action.option_strings
                   if o not in ('-h', '--help') and action.help != argparse.SUPPRESS]
        assert options, command
        for option in options:
            assert f'<kbd>{option}</kbd>' in page or f'<kbd>{option} ' in page, \
                f'graphdim {command} {option} is missing from the CLI reference'


def test_math_is_rendered_by_the_sites_own_mathjax(site):
    page = (site / 'concepts' / 'estimators.html').read_text()
    assert 'class="math' in page
    script = re.search(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, re.IGNORECASE)
    assert script and not script.group(1).startswith(('http:', 'https:', '//')), script
    assert (site / 'concepts' / script.group(1)).resolve().is_file()  # offline: no CDN


def test_no_signature_prints_an_object_repr(site):
    """A default such as ``lambda config: ''`` reads as code, not ``<function ...<lambda>>``."""
    for page in site.rglob('*.html'):
        text = page.read_text()
        assert '&lt;function' not in text and ' object at 0x' not in text, page.name


def test_tutorials_show_examples_without_the_test_switch(site):
    """What users read runs the full setting: no GRAPHDIM_EXAMPLE_SMOKE, no ``smoke``."""
    for page in (site / 'tutorials').glob('*.html'):
        text = plain(page.read_text())
        assert 'GRAPHDIM_EXAMPLE_SMOKE' not in text and 'smoke' not in text.lower(), page.name


# ------------------------------------------------------------------------- results pages
def _cells(markdown: str) -> list:
    rows = [line.strip('|').split(' | ') for line in markdown.splitlines()[2:]]
    return [cell.strip().strip('*`') for row in rows for cell in row if cell.strip() != '-']


def test_results_pages_show_every_figure_of_their_results_files(site):
    tables = benchmark_module('render_readme').TABLES
    used = {}
    for page in PAGES:
        for name in RESULTS_TABLE.findall(page.read_text()):
            used[name] = page
    readme = (REPO / 'README.md').read_text()
    orphans = [name for name in tables if name not in used and f'table:{name} ' not in readme]
    assert not orphans, f'results tables shown nowhere: {orphans}'
    for name, page in used.items():
        built = plain((site / page.relative_to(DOCS).with_suffix('.html')).read_text())
        for cell in _cells(tables[name].render()):
            assert ' '.join(cell.split()) in built, (name, cell)


def test_no_figure_is_typed_into_a_results_page():
    """Results pages hold prose and results-table directives: no table typed by hand."""
    for page in (DOCS / 'results').glob('*.md'):
        typed = [line for line in page.read_text().splitlines() if line.startswith('|')]
        assert not typed, (page.name, typed[:2])


# ----------------------------------------------------------------------- strictness itself
def test_a_broken_reference_or_an_undocumented_name_fails_the_strict_build(tmp_path):
    copy = tmp_path / 'docs'
    shutil.copytree(DOCS, copy, ignore=shutil.ignore_patterns('_build'))
    for name in ('examples', 'benchmarks', 'graphdim', 'CHANGELOG.md'):
        (tmp_path / name).symlink_to(REPO / name)
    with open(copy / 'troubleshooting.md', 'a') as page:
        page.write('\nSee {py:func}`graphdim.no_such_function`.\n')
    api = (copy / 'api.rst').read_text()
    (copy / 'api.rst').write_text(api.replace('.. autofunction:: raw_pixels\n', ''))
    build = sphinx_build(copy, tmp_path / 'out')
    assert build.returncode != 0
    assert 'graphdim.no_such_function' in build.stderr, build.stderr[-2000:]
    assert 'graphdim.raw_pixels is in graphdim.__all__' in build.stderr, build.stderr[-2000:]


# --------------------------------------------------------------------- the code in the docs
def _fenced(path: Path, language: str) -> list:
    return re.findall(rf'^```{language}\n(.*?)^```$', path.read_text(), re.MULTILINE | re.DOTALL)


def test_the_docs_python_is_the_examples_which_the_tests_run():
    """Tutorials show examples/*.py (run by tests/repo/test_examples.py) through literalinclude,
    so they cannot drift from the code; no page carries Python of its own."""
    included = set()
    for page in PAGES:
        assert not _fenced(page, 'python'), f'{page}: include the code from examples/ instead'
        for target in re.findall(r'^```\{literalinclude\} (\S+)', page.read_text(), re.MULTILINE):
            path = (page.parent / target).resolve()
            if path.suffix == '.txt':  # an example's recorded output (record_outputs.py)
                assert path.is_file() and path.parent == DOCS / 'tutorials' / 'output', target
                continue
            assert path.is_file() and path.parent == REPO / 'examples', (page, target)
            included.add(path.name)
    assert {'dgi_cora.py', 'your_own_graph.py', 'losses_in_your_model.py', 'graph_level.py',
            'multiview.py', 'image_dim.py', 'minibatch.py'} <= included


def _command_lines():
    for path in [REPO / 'README.md', *PAGES]:
        for block in _fenced(path, 'bash'):
            for line in block.splitlines():
                words = shlex.split(line.split('  #')[0].split(' && ')[-1])
                if words[:1] == ['graphdim']:
                    yield path.name, words[1:]
                elif '-m' in words and words[words.index('-m') + 1:][:1] == ['graphdim']:
                    yield path.name, words[words.index('-m') + 2:]


def test_every_command_in_the_docs_parses():
    lines = list(_command_lines())
    assert len(lines) > 20
    commands = {words[0] for _, words in lines}
    assert {'train', 'image', 'embed'} <= commands
    for page, words in lines:
        try:
            build_parser(words).parse_args(words)
        except SystemExit:
            pytest.fail(f"{page}: 'graphdim {' '.join(words)}' does not parse")


@pytest.mark.slow  # trains DGI on Cora in a subprocess, as a reader would
def test_the_readme_example_runs(tmp_path, data_root):
    (example,) = _fenced(REPO / 'README.md', 'python')
    assert len(example.strip().splitlines()) <= 10
    env = {**os.environ, 'GRAPHDIM_DATA': str(data_root), 'GRAPHDIM_CACHE': str(tmp_path / 'c')}
    run = subprocess.run([sys.executable, '-c', example], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    accuracy = float(re.search(r'test accuracy ([\d.]+)%', run.stdout).group(1))
    assert accuracy > 75, run.stdout  # DGI on Cora, trained: about 82
