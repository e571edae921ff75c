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

    from glucosim.sweep import store as store_module
    from glucosim.sweep.store import CHUNK_DIR, SweepStore, chunk_name, record_name

    out = tmp_path / "sweep"
    (out / CHUNK_DIR).mkdir(parents=True)
    pq.write_table(pa.table({"run_id": [0, 1]}), out / CHUNK_DIR / chunk_name(0))
    manifest = {"n_chunks": 1, "chunk_runs": 2, "n_runs": 2, "runs_sha256": "abc"}
    writers_record = {"runs_sha256": "abc", "rows": 2, "daily": {"size": 1, "sha256": "d"}}
    read_record = SweepStore._read_record

    def writer_stores_its_record_after_the_read(self, index):
        found = read_record(self, index)  # None: the reader is between the chunk and its record
        (out / CHUNK_DIR / record_name(index)).write_text(json.dumps(writers_record))
        return found

    monkeypatch.setattr(store_module.SweepStore, "_read_record", writer_stores_its_record_after_the_read)
    sound, _ = SweepStore(out)._chunk_is_sound(manifest, 0)
    assert sound
    assert json.loads((out / CHUNK_DIR / record_name(0)).read_text()) == writers_record
