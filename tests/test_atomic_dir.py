"""`utils.atomic.replacing_dir`: a folder is replaced whole when its block succeeds, and kept when it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from utils.atomic import replacing_dir


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob('*') if p.is_file()}


def old_site(tmp_path: Path) -> Path:
    target = tmp_path / 'site'
    (target / 'sub').mkdir(parents=True)
    (target / 'index.html').write_text('old')
    (target / 'sub' / 'page.html').write_text('old page')
    return target


def test_a_succeeding_block_replaces_the_folder_and_leaves_nothing_beside_it(tmp_path):
    target = old_site(tmp_path)
    with replacing_dir(target) as stage:
        assert stage.is_dir() and list(stage.iterdir()) == [] and stage.parent == tmp_path
        (stage / 'index.html').write_text('new')
        assert tree(target)['index.html'] == 'old'  # readers see the old folder until the block ends
    assert tree(target) == {'index.html': 'new'}  # the old tree's other files are gone too
    assert sorted(p.name for p in tmp_path.iterdir()) == ['site']
    assert target.stat().st_mode & 0o777 == 0o755


def test_a_failing_block_leaves_the_old_folder_intact(tmp_path):
    target = old_site(tmp_path)
    before = tree(target)
    with pytest.raises(RuntimeError, match='half-way'), replacing_dir(target) as stage:
        (stage / 'index.html').write_text('half-built')
        raise RuntimeError('failed half-way')
    assert tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['site']


def test_a_missing_folder_is_created_and_a_file_in_its_place_is_refused(tmp_path):
    target = tmp_path / 'deep' / 'site'
    with replacing_dir(target) as stage:
        (stage / 'a.txt').write_text('a')
    assert tree(target) == {'a.txt': 'a'}
    (tmp_path / 'file').write_text('x')
    with pytest.raises(NotADirectoryError), replacing_dir(tmp_path / 'file'):
        pass
    assert (tmp_path / 'file').read_text() == 'x'


def test_leftovers_of_an_interrupted_call_are_removed(tmp_path):
    target = old_site(tmp_path)
    for stale in ('.site.abc123.tmp', '.site.abc123.old'):
        (tmp_path / stale).mkdir()
        (tmp_path / stale / 'junk').write_text('junk')
    with replacing_dir(target) as stage:
        (stage / 'index.html').write_text('new')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['site']
