"""A run folder holds one run: a second run into it is refused unless it overwrites (which
clears the folder first) or resumes the same run; an --out that is a file is named."""
import pytest

from graphdim import NodeConfig, RunFolder, run_node_experiment


def _run(out, overwrite=False, **options):
    config = NodeConfig(dataset='karate', hidden_channels=8, epochs=3, patience=0,
                        **options)
    return run_node_experiment(config, progress=False, out_dir=str(out), overwrite=overwrite)


def test_a_second_run_into_a_folder_is_refused(tmp_path):
    _run(tmp_path / 'run')
    with pytest.raises(ValueError, match='already holds a finished run; pass --overwrite'):
        _run(tmp_path / 'run', lr=0.05)
    assert RunFolder(tmp_path / 'run').read_config()['config']['lr'] == 0.001


def test_overwrite_clears_the_old_run_first(tmp_path):
    out = tmp_path / 'run'
    _run(out, seeds=2)
    assert (out / 'seed_1').is_dir()
    _run(out, overwrite=True, lr=0.05)
    assert not (out / 'seed_1').exists()  # nothing of the old run is left to mix in
    assert RunFolder(out).read_config()['config']['lr'] == 0.05


def test_an_unfinished_run_is_named_as_such(tmp_path):
    out = tmp_path / 'run'
    _run(out)
    (out / 'results.json').unlink()  # what a killed run leaves
    with pytest.raises(ValueError, match='an unfinished run.*--resume to continue it'):
        _run(out)


def test_resume_with_other_settings_names_them(tmp_path):
    out = tmp_path / 'run'
    _run(out, checkpoint_every=1)
    with pytest.raises(ValueError, match=r'lr \(was 0\.001, now 0\.05\)'):
        _run(out, resume=True, checkpoint_every=1, lr=0.05)


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    with pytest.warns(UserWarning, match='nothing to resume'):
        _run(tmp_path / 'new', resume=True)
    out = tmp_path / 'run'
    _run(out)
    (out / 'results.json').unlink()  # unfinished (a finished run has nothing to resume)
    with pytest.warns(UserWarning, match='holds no checkpoint'):
        _run(out, resume=True)


def test_out_naming_a_file_is_refused(tmp_path):
    path = tmp_path / 'file.txt'
    path.write_text('x')
    with pytest.raises(ValueError, match='is a file; name a folder'):
        _run(path)
