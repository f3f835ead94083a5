"""Language identification: fast paths, lingua fallback, batches, priors."""

from __future__ import annotations

import pytest

from seawall.normalize import DEFAULT_LANGUAGES, LanguageIdentifier
from seawall.normalize.langid import FAST_ARABIC_CONFIDENCE, FAST_ENGLISH_CONFIDENCE


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


SENTENCES = {
    "en": [
        "Police closed the roads near the station after a fire broke out downtown this morning.",
        "We will not forget what they did to our brothers, and they will pay for it soon.",
        "Breaking: police report a large fire downtown, roads closed near the station",
    ],
    "ar": [
        "أعلنت وزارة الداخلية اليوم عن إغلاق الطرق المؤدية إلى وسط المدينة بسبب الحريق",
        "الدولة الإسلامية باقية وتتمدد بإذن الله رغم أنف الكفار",
    ],
    "fr": [
        "La police a fermé les routes près de la gare après un incendie ce matin.",
        "Nous n'oublierons jamais ce qu'ils ont fait à nos frères dans cette ville.",
    ],
    "ru": [
        "Полиция перекрыла дороги возле вокзала после пожара в центре города.",
        "Мы никогда не забудем, что они сделали с нашими братьями.",
    ],
    "de": ["Die Polizei hat die Straßen in der Nähe des Bahnhofs nach einem Brand gesperrt."],
    "fa": ["پلیس جاده های نزدیک ایستگاه را پس از آتش سوزی در مرکز شهر بست."],
    "ur": ["پولیس نے شہر کے مرکز میں آگ لگنے کے بعد اسٹیشن کے قریب سڑکیں بند کر دیں۔"],
    "tr": ["Polis, şehir merkezindeki yangından sonra istasyonun yakınındaki yolları kapattı."],
}


@pytest.mark.parametrize("lang,text", [(lang, t) for lang, ts in SENTENCES.items() for t in ts])
def test_real_looking_sentences(lid, lang, text):
    code, conf = lid.detect(text)
    assert code == lang
    assert 0.0 < conf <= 1.0


def test_too_few_letters_is_none(lid):
    assert lid.detect("ok") == (None, 0.0)
    assert lid.detect("😂😂😂 !!! 2015") == (None, 0.0)
    assert lid.detect("") == (None, 0.0)


def test_urls_and_mentions_do_not_count(lid):
    assert lid.detect("@abc https://t.co/xyz123 @def") == (None, 0.0)


def test_fast_paths(lid):
    assert lid._fast("I think you are going to love this one") == ("en", FAST_ENGLISH_CONFIDENCE)
    assert lid._fast("الدولة الإسلامية باقية") == ("ar", FAST_ARABIC_CONFIDENCE)
    assert lid._fast("RT الدولة الإسلامية باقية وتتمدد بإذن الله") == ("ar", FAST_ARABIC_CONFIDENCE)
    assert lid._fast("שלום לכולם, מה שלומכם היום") == ("he", 1.0)
    # Persian letters: lingua decides; a French function word blocks the English fast path.
    assert lid._fast("این یک متن فارسی است") is None
    assert lid._fast("the police and le gouvernement") is None


def test_unique_script_depends_on_configuration():
    ru_only = LanguageIdentifier(["en", "ru"])
    assert ru_only._fast("Привет, как дела у тебя") == ("ru", 1.0)
    assert LanguageIdentifier(["en", "ru", "uk"])._fast("Привет, как дела у тебя") is None


def test_batch_equals_single_calls(lid):
    texts = [t for ts in SENTENCES.values() for t in ts] * 10  # above the parallel threshold
    batch = lid.detect_batch(texts)
    assert [r[0] for r in batch] == [lid.detect(t)[0] for t in texts]


class _Iso:
    def __init__(self, code: str):
        self.name = code.upper()


class _Lang:
    def __init__(self, code: str):
        self.iso_code_639_1 = _Iso(code)


class _Value:
    def __init__(self, code: str, value: float):
        self.language, self.value = _Lang(code), value


class _FakeDetector:
    def __init__(self, values):
        self.values = values

    def compute_language_confidence_values(self, text):
        return self.values

    def compute_language_confidence_values_in_parallel(self, texts):
        return [self.values for _ in texts]


def test_declared_language_breaks_near_ties_only():
    lid = LanguageIdentifier(["en", "es", "pt"])
    lid._detector = _FakeDetector([_Value("es", 0.45), _Value("pt", 0.40), _Value("en", 0.15)])
    text = "uma frase curta ambigua"  # goes to lingua: no fast path for it
    assert lid.detect(text) == ("es", 0.45)
    assert lid.detect(text, declared="pt-BR") == ("pt", 0.40)
    assert lid.detect(text, declared="de") == ("es", 0.45)  # not configured: ignored
    lid._detector = _FakeDetector([_Value("es", 0.9), _Value("pt", 0.1)])
    assert lid.detect(text, declared="pt") == ("es", 0.9)  # confident: the prior does not override
    assert lid._prior("en-GB") == "en" and lid._prior("und") is None and lid._prior(None) is None


def test_clear_sentence_ignores_a_wrong_declared_language(lid):
    assert lid.detect(SENTENCES["en"][0], declared="fr")[0] == "en"
    assert lid.detect(SENTENCES["fr"][0], declared="en")[0] == "fr"


def test_configuration_errors():
    with pytest.raises(ValueError, match="xx"):
        LanguageIdentifier(["en", "xx"])
    assert "en" in DEFAULT_LANGUAGES and "ar" in DEFAULT_LANGUAGES
