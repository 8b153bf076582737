"""The package's shape: no import circle, and no model named outside its own file."""
import ast
import re
from pathlib import Path

from graphdim.registry import LEVELS, model_names

PACKAGE = Path(__file__).resolve().parents[2] / 'graphdim'


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _imports(path: Path, modules) -> set:
    """The graphdim modules ``path`` imports, at module level or inside functions
    (``from . import x`` imports the module ``x`` where there is one)."""
    module = _module_name(path)
    package = module if path.name == '__init__.py' else module.rpartition('.')[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            if base.startswith('graphdim'):
                for alias in node.names:
                    found.add(f'{base}.{alias.name}' if f'{base}.{alias.name}' in modules
                              else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith('graphdim'))
    return found


def test_no_import_circle():
    modules = {_module_name(p): p for p in PACKAGE.rglob('*.py')}
    graph = {m: {i for i in _imports(p, modules) if i in modules and i != m}
             for m, p in modules.items()}

    def reaches(start, target, seen):
        for nxt in graph[start]:
            if nxt == target:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(nxt, target, seen):
                    return True
        return False
    circles = [m for m in graph if any(reaches(i, m, set()) for i in graph[m])]
    assert circles == []


def test_experiments_and_cli_name_no_model():
    names = {name for level in LEVELS for name in model_names(level)}
    pattern = re.compile(r'\b(' + '|'.join(map(re.escape, names)) + r')\b', re.IGNORECASE)
    hits = [f'{p.relative_to(PACKAGE)}:{n}: {line.strip()}'
            for folder in ('experiments', 'cli') for p in (PACKAGE / folder).rglob('*.py')
            for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []
