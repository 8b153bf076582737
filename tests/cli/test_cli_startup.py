"""The command's first moments and its signals: `graphdim --help` and `--version` load no
torch, `--version` prints the package's version, the command says it is starting before torch
loads, `import graphdim` changes nothing of the process, the command itself asks for huge
pages before torch loads, and SIGTERM is handled like Ctrl-C (graphdim/_startup.py)."""
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import graphdim
from graphdim import cli

REPO = Path(__file__).resolve().parents[2]
HEAVY = ('torch', 'torch_geometric', 'sklearn')


def _python(code: str, env=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120, **kwargs)


# --help and --version ----------------------------------------------------------------------
TOP_LEVEL = '''
import sys
from graphdim.cli import main
for argv in (['--help'], ['--version'], [], ['trian'], ['--debug', '-h']):
    try:
        main(argv)
    except SystemExit as exit:
        print(argv, exit.code, file=sys.stderr)
print('loaded:', *[name for name in {heavy!r} if name in sys.modules])
'''


def test_help_and_version_load_neither_torch_nor_pyg_nor_sklearn():
    done = _python(TOP_LEVEL.format(heavy=HEAVY))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == 'loaded:', done.stdout.splitlines()[-1]
    assert "['--help'] 0" in done.stderr and "['--version'] 0" in done.stderr
    assert "[] 2" in done.stderr and "invalid choice: 'trian'" in done.stderr


def test_the_console_command_answers_help_without_importing_torch():
    done = subprocess.run([sys.executable, '-X', 'importtime', '-m', 'graphdim', '--help'],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0 and 'train' in done.stdout
    imported = {line.split('|')[-1].strip() for line in done.stderr.splitlines()}
    assert not imported & set(HEAVY), imported & set(HEAVY)


def _printed(argv) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit:
        cli.main(argv)
    assert exit.value.code == 0
    return out.getvalue()


def test_the_top_level_says_what_every_commands_parser_says():
    """`graphdim --help` lists the commands from graphdim.cli.toplevel.COMMANDS without
    loading them: the same text as the parser that holds every command."""
    full = cli.build_parser()
    assert _printed(['--help']) == full.format_help()
    with contextlib.redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit):
        full.parse_args(['--version'])
    assert _printed(['--version']) == out.getvalue()


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(['--version'])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f'graphdim {graphdim.__version__}'


def test_the_command_says_it_is_starting_before_torch_loads(monkeypatch):
    """On a terminal, `graphdim train ...` prints a line before the seconds of importing torch
    and PyG (graphdim.cli.main calls _startup.install first); --quiet and pipes stay
    silent."""
    from graphdim import _startup

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for argv, terminal, shown in ((['graphdim', 'train'], True, True),
                                  (['graphdim', 'train', '--quiet'], True, False),
                                  (['graphdim', 'train'], False, False),
                                  (['graphdim', '--version'], True, False)):
        stderr = Terminal() if terminal else io.StringIO()
        monkeypatch.setattr('sys.argv', argv)
        monkeypatch.setattr('sys.stderr', stderr)
        _startup.install()
        _startup.restore()
        assert ('starting (loading PyTorch and PyG)' in stderr.getvalue()) is shown


# import graphdim ---------------------------------------------------------------------------
UNCHANGED = '''
import os, signal, sys
sys.argv = ['/venv/bin/graphdim', 'train', '--dataset', 'karate']  # as if the command
before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
import graphdim
after = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
print(before == after, os.environ.get('THP_MEM_ALLOC_ENABLE'))
'''


def test_importing_graphdim_installs_no_handler_and_sets_no_variable():
    env = {k: v for k, v in os.environ.items() if k != 'THP_MEM_ALLOC_ENABLE'}
    done = _python(UNCHANGED, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ['True', 'None']


def test_every_public_name_loads_on_first_use():
    import graphdim
    assert set(graphdim.__all__) <= set(dir(graphdim))
    assert all(getattr(graphdim, name) is not None for name in graphdim.__all__)
    assert graphdim.registry.model_names('node')  # a submodule by its own name
    with pytest.raises(AttributeError, match='no_such_name'):
        graphdim.no_such_name


REGISTRY_FIRST = '''
from graphdim.registry import ModelEntry, model_names, register_model
register_model(ModelEntry(name='toy', level='node', description='t', build=lambda c, i: None))
print(*model_names('node'))
'''


@pytest.mark.slow  # about 10 s on 2 busy cores: the child imports torch and PyG
def test_the_registry_has_graphdims_models_first_whoever_asks_first():
    """`import graphdim` loads no model: the registry loads graphdim's own on first use, so a
    model registered before anything else is loaded does not become the default."""
    done = _python(REGISTRY_FIRST)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ['dgi', 'mvgrl', 'ggd', 'graphacl', 'toy']


# Torch cannot be imported in the child: the variable is set before the command's first
# import of torch, which fails (the check takes a fraction of a second).
HUGE_PAGES = '''
import os, sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'torch': raise ImportError('no torch here')
sys.meta_path.insert(0, NoTorch())
sys.argv = ['/venv/bin/graphdim', 'train', '--dataset', 'karate']
from graphdim.cli import main
try:
    main({argv})
except ImportError as error:
    assert 'no torch here' in str(error), error
print(os.environ.get('THP_MEM_ALLOC_ENABLE'))
'''


@pytest.mark.parametrize('argv,preset,expected', [
    (None, None, '1'),            # the command (console script, python -m graphdim)
    (None, '0', '0'),             # the user's own setting wins
    (['train'], None, None),      # a script calling main(argv): its process left alone
])
def test_the_command_asks_torch_for_huge_pages_before_torch_starts(argv, preset, expected):
    env = {k: v for k, v in os.environ.items() if k != 'THP_MEM_ALLOC_ENABLE'}
    if preset is not None:
        env['THP_MEM_ALLOC_ENABLE'] = preset
    done = _python(HUGE_PAGES.format(argv=argv), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(expected)
    off = _python(HUGE_PAGES.format(argv=argv), env=dict(env, GRAPHDIM_CPU_ALLOCATOR='default'))
    assert off.stdout.strip() == (preset or 'None'), off.stderr


# SIGTERM -----------------------------------------------------------------------------------
def _command(*args: str) -> list:
    return [sys.executable, '-m', 'graphdim', 'train', '--dataset', 'karate', '--hidden', '8',
            '--seeds', '1', *args]


def _wait_for(condition, seconds: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, 'the run did not start'
        time.sleep(0.1)


@pytest.mark.slow  # about 15 s: two runs' imports and a first run on karate
def test_sigterm_during_overwrite_puts_the_old_run_back_in_one_line(tmp_path):
    """`kill`, `timeout`, Slurm and docker send SIGTERM: like Ctrl-C, the run folder's
    --overwrite puts the finished run back, and the command ends with one line, status 143."""
    run = tmp_path / 'A'
    subprocess.run(_command('--epochs', '2', '--out', str(run), '--quiet'), cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)
    before = {p.relative_to(run): p.read_bytes() for p in run.rglob('*') if p.is_file()}
    assert Path('results.json') in before
    proc = subprocess.Popen(_command('--epochs', '1000000', '--patience', '0', '--out',
                                     str(run), '--overwrite', '--quiet'),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:  # the new config is written once the old run is set aside: training begins
        _wait_for(lambda: '1000000' in _text(run / 'config.json'), 90, proc)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    lines = stderr.strip().splitlines()
    assert proc.returncode == 143, stderr
    assert len(lines) == 1 and lines[0].startswith('graphdim: terminated (SIGTERM)'), stderr
    after = {p.relative_to(run): p.read_bytes() for p in run.rglob('*') if p.is_file()}
    assert after == before  # the finished run, as it was; no .previous left


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return ''


def test_sigterm_while_the_command_starts_is_one_line():
    """Before the command's modules have loaded, SIGTERM ends it like Ctrl-C does there."""
    code = ('import os, signal, sys, builtins\n'
            "sys.argv = ['graphdim', 'train', '--dataset', 'karate', '--epochs', '1']\n"
            'real = builtins.__import__\n'
            'def hook(name, *args, **kwargs):\n'
            "    if name == 'torch':\n"
            '        builtins.__import__ = real\n'
            '        os.kill(os.getpid(), signal.SIGTERM)\n'
            '    return real(name, *args, **kwargs)\n'
            'builtins.__import__ = hook\n'
            'from graphdim.cli import main\n'
            'sys.exit(main())\n')
    done = _python(code)
    assert done.returncode == 143, done.stderr
    assert done.stderr.strip() == 'graphdim: interrupted while starting; nothing was written'


CTRL_C_WHILE_IMPORTING = '''
import builtins, os, signal, sys
sys.argv = ['graphdim', 'train', '--dataset', 'karate', '--epochs', '1']
real = builtins.__import__
def hook(name, *args, **kwargs):
    if name == 'torch':  # the first heavy import: Ctrl-C arrives while it loads
        builtins.__import__ = real
        os.kill(os.getpid(), signal.SIGINT)
    return real(name, *args, **kwargs)
builtins.__import__ = hook
from graphdim.cli import main  # what the console script does
sys.exit(main())
'''


def test_ctrl_c_while_importing_is_one_line_and_exit_130(tmp_path):
    done = subprocess.run([sys.executable, '-c', CTRL_C_WHILE_IMPORTING], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, 'PYTHONPATH': str(REPO)})
    assert done.returncode == 130, done.stderr
    assert 'Traceback' not in done.stderr
    assert done.stderr.strip() == 'graphdim: interrupted while starting; nothing was written'
