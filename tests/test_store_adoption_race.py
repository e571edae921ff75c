"""A reader that adopts a chunk while the sweep runs never replaces the record the sweep's writer stored.

The writer stores a chunk, then its record (which also vouches for the chunk's daily file). A reader of the folder
meanwhile (the DPP table, ``glucosim analyze``) finds the chunk without a record, adopts it and writes a record of
its own; written after the writer's, that record replaced it, and the daily file was no longer checked.
"""

from __future__ import annotations

import json
import os

from glucosim._files import write_bytes_new


def test_write_bytes_new_writes_a_new_file_whole(tmp_path):
    path = tmp_path / "record.json"
    assert write_bytes_new(path, b"first")
    assert path.read_bytes() == b"first"
    assert not [name for name in os.listdir(tmp_path) if name != "record.json"]  # no temporary left


def test_write_bytes_new_leaves_an_existing_file_as_it_is(tmp_path):
    path = tmp_path / "record.json"
    path.write_bytes(b"the writer's")
    assert not write_bytes_new(path, b"the reader's")
    assert path.read_bytes() == b"the writer's"
    assert os.listdir(tmp_path) == ["record.json"]


def test_adopting_a_chunk_keeps_a_record_stored_meanwhile(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from glucosim.io.results import file_record
    from glucosim.sweep import store as store_module
    from glucosim.sweep.store import CHUNK_DIR, DAILY_DIR, SweepStore, chunk_name, record_name

    out = tmp_path / "sweep"
    (out / CHUNK_DIR).mkdir(parents=True)
    (out / DAILY_DIR).mkdir(parents=True)
    pq.write_table(pa.table({"run_id": [0, 1], "day": [0, 0]}), out / DAILY_DIR / chunk_name(0))
    pq.write_table(pa.table({"run_id": [0, 1]}), out / CHUNK_DIR / chunk_name(0))
    manifest = {"n_chunks": 1, "chunk_runs": 2, "n_runs": 2, "runs_sha256": "abc"}
    writers_record = {
        "runs_sha256": "abc",
        "chunk_runs": 2,
        "rows": 2,
        "daily": file_record(out / DAILY_DIR / chunk_name(0)),
        **file_record(out / CHUNK_DIR / chunk_name(0)),
    }
    read_record = SweepStore._read_record
    calls = []

    def writer_stores_its_record_after_the_first_read(self, index):
        found = read_record(self, index)  # None at first: the reader is between the chunk and its record
        if not calls:
            (out / CHUNK_DIR / record_name(index)).write_text(json.dumps(writers_record))
        calls.append(found)
        return found

    monkeypatch.setattr(store_module.SweepStore, "_read_record", writer_stores_its_record_after_the_first_read)
    sound, _ = SweepStore(out)._chunk_is_sound(manifest, 0)
    assert sound
    assert calls[0] is None
    assert json.loads((out / CHUNK_DIR / record_name(0)).read_text()) == writers_record


def test_an_unreadable_record_is_set_aside_and_the_chunk_adopted(tmp_path):
    # the create-only write kept an unreadable record for good: never repaired, and read again by every reader
    import pyarrow as pa
    import pyarrow.parquet as pq

    from glucosim.sweep.store import CHUNK_DIR, CORRUPT_SUFFIX, SweepStore, chunk_name, record_name

    out = tmp_path / "sweep"
    (out / CHUNK_DIR).mkdir(parents=True)
    pq.write_table(pa.table({"run_id": [0, 1]}), out / CHUNK_DIR / chunk_name(0))
    (out / CHUNK_DIR / record_name(0)).write_text("{garbage")
    manifest = {"n_chunks": 1, "chunk_runs": 2, "n_runs": 2, "runs_sha256": "abc"}
    sound, _ = SweepStore(out)._chunk_is_sound(manifest, 0)
    assert sound
    record = json.loads((out / CHUNK_DIR / record_name(0)).read_text())
    assert record["rows"] == 2 and "sha256" in record
    assert (out / CHUNK_DIR / (record_name(0) + CORRUPT_SUFFIX)).read_text() == "{garbage"
