"""Arabic-script normalisation: one spelling for the letters writers use interchangeably.

Arabic posts spell the same word many ways: with or without diacritics (harakat), stretched with
tatweel ("قتـــل"), with any alef variant, with ى or ي at the end, ة or ه, and Persian keyboards type
ی and ک. Search engines for Arabic fold these; so do we, so that a watch term matches every spelling:

* remove tatweel U+0640 and the harakat/Quranic marks U+064B-065F, U+0670, U+06D6-06ED;
* alef with hamza above/below, madda and wasla (أ إ آ ٱ) -> bare alef ا;
* alef maqsura ى and Persian yeh ی -> ي; hamza on ya ئ -> ي; hamza on waw ؤ -> و;
* ta marbuta ة -> ه (as most Arabic search normalisers do: writers swap them at word ends);
* Persian/Urdu keheh ک -> Arabic kaf ك;
* Arabic-Indic digits ٠-٩ and Persian digits ۰-۹ -> ASCII 0-9.

The text stays readable Arabic; only the distinctions writers ignore anyway are lost. Run after NFKC
(which already turns presentation forms such as ﻻ into base letters).
"""

from __future__ import annotations

_TABLE: dict[int, int | str | None] = {0x0640: None}  # tatweel
for cp in list(range(0x064B, 0x0660)) + [0x0670] + list(range(0x06D6, 0x06EE)):
    _TABLE[cp] = None
_TABLE.update(
    {
        ord("أ"): "ا",
        ord("إ"): "ا",
        ord("آ"): "ا",
        ord("ٱ"): "ا",
        ord("ى"): "ي",
        ord("ی"): "ي",  # U+06CC Persian yeh
        ord("ئ"): "ي",
        ord("ؤ"): "و",
        ord("ة"): "ه",
        ord("ک"): "ك",  # U+06A9 keheh
    }
)
for i in range(10):
    _TABLE[0x0660 + i] = str(i)
    _TABLE[0x06F0 + i] = str(i)
ARABIC_TABLE = _TABLE

# Every character the table changes, for a set-intersection test done in C.
ARABIC_CHANGED = frozenset(chr(cp) for cp in ARABIC_TABLE)
_MAP = {chr(k): ("" if v is None else v) for k, v in ARABIC_TABLE.items()}
# Letters of Persian and Urdu that Arabic does not use: their presence means "not Arabic" for the
# language-id fast path. Checked on the text *before* normalisation (ی and ک are folded above).
PERSIAN_URDU_LETTERS = frozenset(
    "\u067e\u0686\u0698\u06af\u06a9\u06cc\u0679\u0688\u0691\u06ba\u06be\u06c1\u06c3\u06d2\u06d3"
)


def normalize_arabic(s: str, chars: set[str] | frozenset[str] | None = None) -> str:
    """Apply the Arabic folding rules above; a no-op (and cheap) on text without Arabic.

    `chars` may pass set(s). One str.replace per distinct character present: several times faster
    than str.translate with a dict, which calls back into Python for every character.
    """
    if s.isascii():
        return s
    present = ARABIC_CHANGED.intersection(set(s) if chars is None else chars)
    for c in present:
        s = s.replace(c, _MAP[c])
    return s
