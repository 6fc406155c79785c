"""The status-page parse cache: unchanged files are not parsed again, changed ones are, results never differ."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from assets.ingest.status_pages import parse_cache
from assets.ingest.status_pages.archive import StatusArchive, load_status_archive
from assets.ingest.status_pages.schema import INCIDENTS, TABLES
from pipelines.core.config import load_providers
from pipelines.scenario import generate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"
FUTURE_FILE = "anthropic/20260303T200000Z-incidents.json"


def future_snapshot() -> bytes:
    """A snapshot whose first incident was updated in 2099: refused as 'in the future' (depends on the clock)."""
    document = json.loads((FIXTURES / "statuspage-incidents.json").read_text())
    document["incidents"][0]["updated_at"] = "2099-01-01T00:00:00.000Z"
    return json.dumps(document).encode()


@pytest.fixture
def archive(data_dir: Path) -> Path:
    root = data_dir / "raw" / "status_pages"
    files = {
        "anthropic/20260303T160000Z-incidents.json": (FIXTURES / "statuspage-incidents.json").read_bytes(),
        "anthropic/20260303T160000Z-summary.json": (FIXTURES / "statuspage-summary.json").read_bytes(),
        "anthropic/20260304T000000Z-incidents.json": (FIXTURES / "truncated.json").read_bytes(),
        "anthropic/20260304T010000Z-incidents.json": (FIXTURES / "unknown-impact.json").read_bytes(),
        FUTURE_FILE: future_snapshot(),
        "openai/20260303T180000Z-incidents.json": (FIXTURES / "incident_io-incidents.json").read_bytes(),
        "openai/history.atom": (FIXTURES / "history.atom").read_bytes(),
    }
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)
    return data_dir


def load(data_dir: Path) -> StatusArchive:
    return load_status_archive(data_dir, load_providers(data_dir / "config" / "providers.yaml"))


def assert_same(cached: StatusArchive, parsed: StatusArchive) -> None:
    for table in TABLES:
        assert cached.tables[table].equals(parsed.tables[table]), table
        assert cached.tables[table].schema == parsed.tables[table].schema, table
    assert cached.snapshot_reads.equals(parsed.snapshot_reads)
    assert _clockless(cached.rejects.rows) == _clockless(parsed.rejects.rows)
    assert cached.counts == parsed.counts
    assert (cached.files, cached.providers, cached.snapshots) == (parsed.files, parsed.providers, parsed.snapshots)


def _clockless(rows: list[dict]) -> list[dict]:
    """Reject rows without the parse time a future-time refusal quotes ("it is now ...")."""
    return [{**row, "reason": re.sub(r"it is now [0-9T:-]+Z", "it is now ...", row["reason"])} for row in rows]


def test_unchanged_files_come_from_the_cache_with_identical_results(archive: Path, tmp_path: Path):
    first = load(archive)
    assert (first.files_parsed, first.files_from_cache) == (7, 0)
    assert first.rejects.rows and first.tables[INCIDENTS].height > 0  # the refusals are cached too
    second = load(archive)
    # Every file but the one refused for a time in the future (the clock decides that) comes from the cache.
    assert (second.files_parsed, second.files_from_cache) == (1, 6)
    assert_same(second, first)
    # A copy of the same archive without any cache: the same tables.
    fresh = tmp_path / "fresh"
    shutil.copytree(archive / "config", fresh / "config")
    shutil.copytree(archive / "raw", fresh / "raw")
    assert_same(second, load(fresh))


def test_a_changed_file_is_parsed_again_and_its_new_rows_are_used(archive: Path):
    load(archive)
    changed = archive / "raw/status_pages/openai/20260303T180000Z-incidents.json"
    document = json.loads(changed.read_text())
    document["incidents"][0]["name"] = "Renamed after the first run"
    changed.write_text(json.dumps(document))
    again = load(archive)
    assert (again.files_parsed, again.files_from_cache) == (2, 5)  # the changed file and the future one
    assert "Renamed after the first run" in again.tables[INCIDENTS]["title"].to_list()


def test_same_size_and_content_but_a_new_mtime_is_parsed_again(archive: Path):
    load(archive)
    touched = archive / "raw/status_pages/openai/history.atom"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load(archive).files_parsed == 2


def test_a_new_parser_or_provider_config_invalidates_the_kept_rows(archive: Path, monkeypatch):
    first = load(archive)
    config = archive / "config" / "providers.yaml"
    config.write_text(config.read_text().replace("claude.ai", "claude.ai web"))  # a component renamed
    again = load(archive)
    assert again.files_parsed == 1 + 4  # the future file, and every anthropic file (its mapping changed)
    monkeypatch.setattr(parse_cache, "parser_digest", lambda: "another parser")
    assert_same(load(archive), again)
    assert load(archive).files_from_cache == 6
    assert first.files_parsed == 7


def test_a_broken_cache_means_parsing_everything(archive: Path):
    first = load(archive)
    manifest = archive / "cache/status_pages/manifest.json"
    breakages = (
        lambda kept: "{not json",
        lambda kept: json.dumps({**kept, "generation": "../../../raw/status_pages/x"}),
        lambda kept: json.dumps({**kept, "files": dict(list(kept["files"].items())[1:])}),  # rows misaligned
    )
    for broken in breakages:
        manifest.write_text(broken(json.loads(manifest.read_text())))  # the current, readable generation
        again = load(archive)
        assert (again.files_parsed, again.files_from_cache) == (7, 0)
        assert_same(again, first)


def test_new_files_fold_into_the_kept_tables_as_if_everything_were_parsed_afresh(archive: Path, tmp_path: Path):
    load(archive)
    # A later fetch: the same incidents, one of them updated since (the newer version must win).
    document = json.loads((FIXTURES / "statuspage-incidents.json").read_text())
    document["incidents"][0]["name"] = "Renamed in a later fetch"
    document["incidents"][0]["updated_at"] = "2026-03-05T00:00:00.000Z"
    later = archive / "raw/status_pages/anthropic/20260305T000000Z-incidents.json"
    later.write_text(json.dumps(document))
    again = load(archive)
    assert (again.files_parsed, again.files_from_cache) == (2, 6)  # the new file and the future one
    assert "Renamed in a later fetch" in again.tables[INCIDENTS]["title"].to_list()
    last_seen = again.tables[INCIDENTS].filter(incident_id=document["incidents"][0]["id"])["last_seen_at"]
    assert last_seen.dt.strftime("%Y-%m-%d").to_list() == ["2026-03-05"]
    fresh = tmp_path / "fresh"
    shutil.copytree(archive / "config", fresh / "config")
    shutil.copytree(archive / "raw", fresh / "raw")
    assert_same(again, load(fresh))
    assert_same(load(archive), again)  # and once more, from the fold kept in the last run
    later.unlink()  # a file gone: the fold is rebuilt from the files still there
    assert "Renamed in a later fetch" not in load(archive).tables[INCIDENTS]["title"].to_list()


def test_kept_rows_survive_a_later_generation_replacing_the_files(archive: Path):
    load(archive)
    manifest = json.loads((archive / "cache/status_pages/manifest.json").read_text())
    kept_rows = sum(entry["rows"][INCIDENTS] for entry in manifest["files"].values())
    cache = parse_cache.ParseCache.open(archive)
    shutil.rmtree(archive / "cache" / "status_pages")  # another run saved a new generation and removed this one
    # parsed only now, from the bytes read when the cache was opened
    assert cache.rows_of(INCIDENTS).height == kept_rows > 0


@pytest.mark.parametrize("shift_days", [0, -728], ids=["scenario", "two-years-earlier"])
def test_a_world_fetched_week_by_week_gives_the_tables_of_one_load(data_dir: Path, tmp_path: Path, shift_days: int):
    """The fold on a generated world's archive: batch after batch of new fetches (each run folds the new ones
    into the kept fold), the newest fetch deleted in between (its rows were winners: the fold is rebuilt
    without them), equals parsing the whole archive once."""
    world = tmp_path / "world"
    generate(world, config=data_dir / "config/providers.yaml", sources=("status_pages",), shift_days=shift_days)
    files = sorted((world / "raw/status_pages").glob("*/*"), key=lambda path: path.name)  # by fetch time
    batches = [files[i:i + 20] for i in range(0, len(files), 20)]
    assert len(files) > 200 and len(batches) > 10
    middle = len(batches) // 2
    newest = next(path for path in reversed(batches[middle - 1]) if path.name.endswith("-incidents.json")
                  and json.loads(path.read_text())["incidents"])
    for n, batch in enumerate(batches):
        if n == middle:
            (data_dir / newest.relative_to(world)).unlink()
            assert load(data_dir).tables[INCIDENTS]["snapshot_file"].str.contains(newest.name).sum() == 0
        for path in batch:
            target = data_dir / path.relative_to(world)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        loaded = load(data_dir)
        assert (loaded.files_parsed, loaded.files_from_cache) == (len(batch), sum(map(len, batches[:n])) - (n >= middle))
    fresh = tmp_path / "fresh"
    shutil.copytree(data_dir / "config", fresh / "config")
    shutil.copytree(data_dir / "raw", fresh / "raw")
    once = load(fresh)
    assert once.files_from_cache == 0 and once.tables[INCIDENTS].height > 0
    assert_same(loaded, once)
