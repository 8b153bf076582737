"""Property-based fuzz of ``--overwrite`` (issue 24): whatever a folder holds, only run files
are ever deleted."""
from pathlib import Path

from hypothesis import given, strategies as st

from helpers import FUZZ, sandbox
from graphdim.runs import RUN_FILES, RunFolder


_NAMES = st.sampled_from(['config.json', 'results.json', 'labels.pt', 'loss.png',
                          'tsne_seed0.png', 'embeddings_cora.npy', 'notes.txt', 'seed_0',
                          'seed_x', 'tensorboard', '.hidden', 'model.pt', 'data'])


@FUZZ
@given(entries=st.lists(st.tuples(_NAMES, st.sampled_from(['file', 'dir'])), max_size=6),
       inner=st.lists(st.sampled_from(['model.pt', 'log.jsonl', 'mine.txt']), max_size=3),
       overwrite=st.booleans(), resume=st.booleans())
def test_overwrite_deletes_only_run_files(entries, inner, overwrite, resume):
    with sandbox() as folder:
        out = folder / 'run'
        out.mkdir()
        for name, kind in entries:
            path = out / name
            if path.exists():
                continue
            if kind == 'dir' or name.startswith('seed_') or name == 'tensorboard':
                path.mkdir()
                for file in inner:
                    (path / file).write_text('x')
            else:
                path.write_text('x')
        before = {p.relative_to(out) for p in out.rglob('*')}
        run = RunFolder(out)
        try:
            run.begin('node', {}, overwrite=overwrite, resume=resume)
            run.clear() if overwrite else None
        except ValueError as error:
            assert str(error)
            assert {p.relative_to(out) for p in out.rglob('*')} == before  # nothing deleted
            return
        finally:
            RunFolder(out)._key()  # the folder is still where it was
        left = {p.relative_to(out) for p in out.rglob('*')}
        deleted = before - left
        for path in deleted:
            top = path.parts[0]
            assert any(Path(top).match(pattern) for pattern in RUN_FILES) or \
                top.startswith('seed_') or top == 'tensorboard', path
