"""Banks on SQLite and PostgreSQL: create, add, statuses, import/export round trips, bad rows."""

from __future__ import annotations

import io

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from seawall.banks.io import export, import_entries, parse
from seawall.banks.model import BankError, EntryIn
from seawall.banks.store import BankStore
from seawall.storage.schema import metadata

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d35c785545392755e7e4164457657269"
SHA = "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298"


@pytest.fixture
def banks(store):  # noqa: ANN001, ANN201
    return BankStore(store.engine)


def test_migration_matches_the_declared_bank_tables(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if "bank" in repr(d)] == []


def test_create_add_list_and_statuses(banks):
    b = banks.create_bank("tat", "terrorist_propaganda", source="tcap", severity="critical", tags=["x"])
    assert b.enabled and b.kind == "block" and b.tags == ["x"]
    with pytest.raises(BankError, match="already exists"):
        banks.create_bank("tat", "other")
    with pytest.raises(BankError):
        banks.create_bank("Bad Name", "x")
    with pytest.raises(BankError):
        banks.create_bank("ok", "Bad Label")
    ids, dups = banks.add_entries("tat", [EntryIn.make("pdq", PDQ.upper()), EntryIn.make("md5", MD5),
                                          EntryIn.make("url", "HTTPS://WWW.Example.com/x?utm_source=a#f")])
    assert len(ids) == 3 and dups == 0
    ids2, dups2 = banks.add_entries("tat", [EntryIn.make("pdq", PDQ), EntryIn.make("sha256", SHA)])
    assert len(ids2) == 1 and dups2 == 1
    got = {e.kind: e for e in banks.entries("tat")}
    assert got["pdq"].value == PDQ and got["url"].original.startswith("HTTPS://")
    assert banks.set_entry_status([got["md5"].id], "quarantined") == 1
    assert banks.entry(got["md5"].id).status == "quarantined"
    banks.set_bank_enabled("tat", False)
    (listed,) = banks.list_banks()
    assert not listed.enabled and listed.entry_counts == {"active": 3, "quarantined": 1}
    assert [e.kind for e in banks.entries("tat", statuses=["active"], kinds=["pdq", "md5"])] == ["pdq"]
    with pytest.raises(BankError):
        banks.add_entries("nope", [EntryIn.make("md5", MD5)])
    long_text = "word " * 50
    banks.add_entries("tat", [EntryIn.make("text", long_text)])
    assert banks.find_entries("tat", "text", EntryIn.make("text", long_text).value)


def test_paging_streams_all_entries(banks):
    banks.create_bank("big", "x")
    vals = [f"{i:064x}" for i in range(2_500)]
    ids, _ = banks.add_entries("big", [EntryIn.make("pdq", v) for v in vals])
    assert len(ids) == 2_500
    assert [e.value for e in banks.entries("big", batch=700)] == vals
    assert len(list(banks.entries(after_id=ids[-10]))) == 9


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "te", "tcap"])
def test_import_export_round_trip(banks, fmt):
    banks.create_bank("a", "terrorist_propaganda")
    banks.create_bank("b", "terrorist_propaganda")
    src = [
        EntryIn.make("pdq", PDQ, tags=["group:is", "platform:x"], ref="t1"),
        EntryIn.make("md5", MD5, tags=["group:is"], ref="t2"),
        EntryIn.make("sha256", SHA, ref="t3"),
        EntryIn.make("url", "https://example.com/video/1?b=2&a=1", tags=["group:aq"], ref="t4"),
    ]
    if fmt != "tcap":
        src.append(EntryIn.make("text", "Join   us, brothers", tags=["t"]))
    banks.add_entries("a", src)
    buf = io.StringIO()
    export(banks.entries("a"), fmt, buf)
    report = import_entries(banks, "b", buf.getvalue(), fmt)
    assert report.errors == [] and report.added == len(src)
    key = lambda e: (e.kind, e.value)  # noqa: E731
    a = sorted(banks.entries("a"), key=key)
    b = sorted(banks.entries("b"), key=key)
    assert [(e.kind, e.value) for e in a] == [(e.kind, e.value) for e in b]
    if fmt in ("csv", "jsonl"):
        assert [(e.tags, e.ref) for e in a] == [(e.tags, e.ref) for e in b]
    if fmt == "tcap":
        assert [e.tags for e in a] == [e.tags for e in b] and [e.ref for e in a] == [e.ref for e in b]
    # importing the same file again adds nothing
    again = import_entries(banks, "b", buf.getvalue(), fmt)
    assert again.added == 0 and again.duplicates == len(src)


def test_bad_rows_are_reported_by_line_and_good_rows_load(banks):
    banks.create_bank("c", "x")
    data = (
        "kind,value,tags\n"
        f"pdq,{PDQ},a;b\n"
        "pdq,1234,\n"
        "md5,zz,\n"
        "colour,red,\n"
        f"sha256,{SHA}\n"
        "url,not a url at all,\n"
    )
    r = import_entries(banks, "c", data, "csv")
    assert r.added == 2 and r.rows == 6
    assert [e.line for e in r.errors] == [3, 4, 5, 7]
    assert "64 hex digits" in r.errors[0].reason and "unknown entry kind" in r.errors[2].reason
    te = f"hash_type,hash_value,tags\nHASH_PDQ,{PDQ},a b\nvideo_md5,{MD5}\nHASH_FOO,abc,\nmd5\n"
    p = parse(te, "te")
    assert [e.kind for _, e in p.entries] == ["pdq", "md5"] and p.entries[0][1].tags == ["a", "b"]
    assert [(e.line, e.reason.split()[0]) for e in p.errors] == [(4, "unknown"), (5, "expected:")]
    js = '{"kind":"md5","value":"%s"}\nnot json\n[1]\n{"kind":"md5"}\n' % MD5
    p = parse(js, "jsonl")
    assert len(p.entries) == 1 and [e.line for e in p.errors] == [2, 3, 4]
    tcap = f"ID,URL,SHA256,Group,Platform\n1,https://a.example/x,{SHA},IS,telegram\n2,,,IS,\n3,,abc,IS,\n"
    p = parse(tcap, "tcap")
    assert [e.kind for _, e in p.entries] == ["url", "sha256"]
    assert p.entries[0][1].tags == ["group:IS", "platform:telegram"] and p.entries[0][1].ref == "1"
    assert [e.line for e in p.errors] == [3, 4]
    assert parse("a,b\n1,2\n", "tcap").errors[0].line == 1
    assert parse(b"kind,value\nmd5,\xff\xfe\n", "csv").errors[0].reason == "invalid UTF-8 in the value"
