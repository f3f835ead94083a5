"""The hashbank signal: media files, given hashes, URLs and texts against the banks; negative banks;
disabling and additions effective at once; edited re-uploads caught."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from pictures import synthetic_picture
from seawall.banks.matcher import BankMatcher
from seawall.banks.model import EntryIn
from seawall.banks.store import BankStore
from seawall.events.model import AccountEvent, MediaRef, PostEvent
from seawall.media import hash_file
from seawall.normalize import Item, Normalizer
from seawall.signals.hashbank import HashBankSettings, HashBankSignal

NOW = datetime(2015, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer(["en"])


def _picture(seed: int = 0) -> Image.Image:
    return synthetic_picture(seed)


def _save(img: Image.Image, path: Path, fmt: str = "JPEG", **kw) -> Path:  # noqa: ANN003
    img.save(path, fmt, **kw)
    return path


def _item(normalizer: Normalizer, media=(), text: str = "", links=(), pid: str = "1") -> Item:  # noqa: ANN001
    ev = PostEvent(id=pid, account_id="a", text=text, links=list(links), media=list(media), created_at=NOW)
    item = Item(event=ev, key=ev.key(), received_at=0.0)
    normalizer.normalize_batch([item])
    return item


@pytest.fixture
def setup(store, tmp_path: Path):  # noqa: ANN001, ANN201
    banks = BankStore(store.engine)
    banks.create_bank("tvec", "terrorist_propaganda", source="test", severity="critical")
    banks.create_bank("own", "removed_content", dihedral=True)
    banks.create_bank("fp", "known_fp", kind="negative")
    orig = _save(_picture(1), tmp_path / "orig.jpg")
    h = hash_file(orig)
    assert h.quality >= 50
    banks.add_entries("tvec", [EntryIn.make("pdq", h.pdq), EntryIn.make("url", "https://bad.example/v/1")])
    signal = HashBankSignal(HashBankSettings(refresh_seconds=0), matcher=BankMatcher(banks))
    return banks, signal, orig


def test_edited_copies_match_and_unrelated_do_not(setup, normalizer, tmp_path):
    banks, signal, orig = setup
    img = Image.open(orig).convert("RGB")
    variants = {
        "same": orig,
        "recompressed": _save(img, tmp_path / "q.jpg", quality=40),
        "resized": _save(img.resize((160, 120)), tmp_path / "small.png", "PNG"),
        "cropped": _save(img.crop((3, 2, 317, 238)), tmp_path / "crop.jpg"),
        "blurred": _save(img.filter(ImageFilter.GaussianBlur(2)), tmp_path / "blur.jpg"),
    }
    items = [_item(normalizer, [MediaRef(id=k, path=str(p))], pid=k) for k, p in variants.items()]
    items.append(_item(normalizer, [MediaRef(path=str(_save(_picture(2), tmp_path / "other.jpg")))], pid="x"))
    hits = signal.evaluate(items)
    for k, found in zip(variants, hits):
        assert len(found) == 1, k
        h = found[0]
        assert h.label == "terrorist_propaganda" and h.evidence["bank"] == "tvec"
        m = h.evidence["matches"][0]
        assert m["kind"] == "pdq" and m["media"] == "media[0]" and m["media_id"] == k
        assert h.score == pytest.approx(1 - 0.5 * m["distance"] / 31, abs=1e-4)
    assert hits[0][0].score == 1.0
    assert hits[-1] == []


def test_given_hashes_urls_texts_and_account_avatars(setup, normalizer):
    banks, signal, orig = setup
    h = hash_file(orig)
    banks.add_entries("tvec", [EntryIn.make("md5", "0" * 32), EntryIn.make("text", "Join the caravan NOW")])
    signal.matcher.refresh()
    items = [
        _item(normalizer, [MediaRef(md5="0" * 32)]),
        _item(normalizer, [MediaRef(pdq=h.pdq.upper())]),
        _item(normalizer, links=["https://BAD.example/v/1?utm_source=tw"]),
        _item(normalizer, text="join the  caravan now"),
        _item(normalizer, text="nothing here", links=["https://good.example/"]),
    ]
    acct = AccountEvent(id="a9", handle="h", avatar=MediaRef(path=str(orig)), created_at=NOW)
    acct_item = Item(event=acct, key=acct.key(), received_at=0.0)
    normalizer.normalize_batch([acct_item])
    hits = signal.evaluate(items + [acct_item])
    assert [len(x) for x in hits] == [1, 1, 1, 1, 0, 1]
    assert hits[0][0].evidence["matches"][0]["kind"] == "md5"
    assert hits[2][0].evidence["matches"][0]["url"] == "https://bad.example/v/1"
    assert hits[3][0].evidence["matches"][0]["text_field"] == "text"
    assert hits[5][0].evidence["matches"][0]["media"] == "avatar"


def test_negative_bank_suppresses_and_disable_is_immediate(setup, normalizer):
    banks, signal, orig = setup
    item = _item(normalizer, [MediaRef(path=str(orig))])
    assert signal.evaluate([item])[0]
    (entry,) = [e for e in banks.entries("tvec") if e.kind == "pdq"]
    banks.set_entry_status([entry.id], "disabled")
    signal.matcher.set_status([entry.id], "disabled")
    assert signal.evaluate([item]) == [[]]
    banks.set_entry_status([entry.id], "active")
    signal.matcher.refresh()
    assert signal.evaluate([item])[0]
    ids, _ = banks.add_entries("fp", [EntryIn.make("sha256", hash_file(orig).sha256)])
    signal.matcher.add(banks.entries(after_id=ids[0] - 1))
    assert signal.evaluate([item]) == [[]]
    banks.set_bank_enabled("fp", False)
    signal.matcher.refresh()
    assert signal.evaluate([item])[0]
    banks.set_bank_enabled("tvec", False)
    signal.matcher.refresh()
    assert signal.evaluate([item]) == [[]]


def test_removed_image_blocks_its_next_upload_flipped_too(setup, normalizer, tmp_path):
    banks, signal, _ = setup
    pic = _picture(7)
    removed = _save(pic, tmp_path / "removed.jpg")
    reupload = _save(pic.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((300, 225)), tmp_path / "re.jpg")
    item = _item(normalizer, [MediaRef(path=str(reupload))])
    assert signal.evaluate([item]) == [[]]
    ids, _ = banks.add_entries("own", [EntryIn.make("pdq", hash_file(removed).pdq)])
    signal.matcher.add(banks.entries(after_id=ids[0] - 1))  # the feedback path: effective at once
    (hit,) = signal.evaluate([item])[0]
    assert hit.label == "removed_content" and hit.evidence["matches"][0]["variant"] != "original"


def test_hostile_and_missing_media_do_not_break_the_batch(setup, normalizer, tmp_path):
    _, signal, orig = setup
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(orig.read_bytes()[:500])
    items = [_item(normalizer, [MediaRef(path=str(bad)), MediaRef(path=str(tmp_path / "none.jpg")),
                                MediaRef(path=str(orig))])]
    (hits,) = signal.evaluate(items)
    assert len(hits) == 1 and hits[0].evidence["matches"][0]["media"] == "media[2]"
    restricted = HashBankSignal(HashBankSettings(media_roots=[str(tmp_path / "sub")]), matcher=signal.matcher)
    assert restricted.evaluate(items) == [[]]


def test_signal_opens_the_configured_database(store, database_url, normalizer, tmp_path):
    banks = BankStore(store.engine)
    banks.create_bank("u", "link_bank")
    banks.add_entries("u", [EntryIn.make("url", "https://x.example/a")])
    signal = HashBankSignal(HashBankSettings(database=database_url))
    assert signal.labels() is None
    (hits,) = signal.evaluate([_item(normalizer, links=["https://x.example/a"])])
    assert hits[0].label == "link_bank"


def test_removed_post_blocks_its_edited_reupload_through_the_pipeline(store, normalizer, tmp_path):
    """Feedback end to end: post -> platform removes it -> an edited re-upload is removed at ingest."""
    from seawall.events.model import EnforcementEvent
    from seawall.pipeline.pipeline import Pipeline
    from seawall.policy import PolicyEngine
    from seawall.policy.rules import parse_rules

    rules = parse_rules(
        'version = 1\n[[rules]]\nname = "known-removed"\nverdict = "remove"\nqueue = "known"\npriority = 80\n'
        'types = ["post"]\nwhen = { signal = "hashbank", labels = ["removed_content"] }\n'
    )
    signal = HashBankSignal(HashBankSettings(database=store.url, refresh_seconds=0))
    pipe = Pipeline(store, normalizer, [signal], PolicyEngine(rules), "test")
    pic = _picture(11)
    first = _save(pic, tmp_path / "first.jpg")
    again = _save(pic.resize((250, 188)).filter(ImageFilter.GaussianBlur(1)), tmp_path / "again.jpg", quality=60)

    def item(ev):  # noqa: ANN001, ANN202
        return Item(event=ev, key=ev.key(), received_at=0.0)

    p1 = PostEvent(id="p1", account_id="a", media=[MediaRef(path=str(first))], created_at=NOW)
    assert pipe.run([item(p1)]).verdicts == {"allow": 1}
    removal = EnforcementEvent(action="remove", post_id="p1", at=NOW, event_id="rm1")
    p2 = PostEvent(id="p2", account_id="b", media=[MediaRef(path=str(again))], created_at=NOW)
    summary = pipe.run([item(removal), item(p2)])  # the same batch: feedback is applied first
    assert summary.verdicts.get("remove") == 1
    banks = BankStore(store.engine)
    assert {e.kind for e in banks.entries("own-removals")} == {"pdq", "md5", "sha256"}


def test_flooding_entry_is_quarantined_and_hits_counted(setup, normalizer):
    banks, signal, orig = setup
    signal.settings.flood_limit = 3
    items = [_item(normalizer, [MediaRef(path=str(orig))], pid=str(i)) for i in range(5)]
    hits = signal.evaluate(items[:3])
    assert all(hits)
    (entry,) = [e for e in banks.entries("tvec") if e.kind == "pdq"]
    assert entry.hits == 3 and entry.status == "active"
    assert all(signal.evaluate(items[3:4]))  # the 4th match goes over the limit: quarantined after it
    (entry,) = [e for e in banks.entries("tvec") if e.kind == "pdq"]
    assert entry.status == "quarantined" and "matched over 3" in entry.note
    assert signal.evaluate(items[4:]) == [[]]


def test_near_duplicate_text_matches(setup, normalizer):
    banks, signal, _ = setup
    original = "Brothers, the hour has come: take up arms and strike them in their homes, wherever they hide from us"
    banks.add_entries("tvec", [EntryIn.make("text", original)])
    signal.matcher.refresh()
    edited = "Brothers, the hour has come: take up knives and strike them in their homes, wherever they hide from you"
    (hit,) = signal.evaluate([_item(normalizer, text=edited)])[0]
    m = hit.evidence["matches"][0]
    assert m["kind"] == "text" and 0.6 <= m["similarity"] < 1 and 0.5 <= hit.score < 1
    assert signal.evaluate([_item(normalizer, text="a post about the weather in spring")]) == [[]]


def test_domain_entries_match_the_domain_and_its_subdomains(store, database_url, normalizer):
    from seawall.banks.model import BankError

    banks = BankStore(store.engine)
    banks.create_bank("outlets", "terrorist_propaganda")
    banks.add_entries("outlets", [EntryIn.make("domain", "WWW.Nashir-Example.org")])
    with pytest.raises(BankError, match="not a domain"):
        EntryIn.make("domain", "not a domain at all")
    signal = HashBankSignal(HashBankSettings(database=database_url))
    hits = signal.evaluate([
        _item(normalizer, links=["https://files.nashir-example.org/release.zip"]),
        _item(normalizer, links=["https://nashir-example.org.evil.test/x", "https://example.org/"]),
    ])
    assert [h.label for h in hits[0]] == ["terrorist_propaganda"]
    assert hits[0][0].evidence["matches"][0]["kind"] == "domain"
    assert hits[1] == []
