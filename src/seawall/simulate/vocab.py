"""Words and templates of the simulated platform, written for it (no real posts are used).

Ordinary talk, news and research about extremism, counter-speech and friendly hyperbole (the hard
negatives a moderation system must leave alone), and the extremist network's propaganda, threats
against the platform's staff, shout-outs for returning accounts and link-sharing. The slogans and
campaign hashtags are the kind reported in press and academic work on 2014-16 ISIS use of Twitter
(see docs/simulator.md); the staff are the fictional "Example Social" people of the shipped
targets watchlist (src/seawall/data/lists/targets.toml).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache

from seawall.config import packaged

FIRST = ["maria", "omar", "lena", "sam", "aisha", "tom", "yusuf", "nora", "li", "jamal", "ines", "dave",
         "fatima", "karim", "zoe", "hassan", "emma", "ali", "sara", "noah", "layla", "ben", "amira", "leo",
         "mona", "felix", "rania", "tariq", "julia", "adam", "hana", "victor", "salma", "igor", "nadia", "paul",
         "chloe", "mehdi", "anna", "kofi", "lucia", "raj", "elif", "jonas", "mei", "pedro", "olga", "samir",
         "grace", "hugo", "yara", "ivan", "priya", "luca", "dina", "marco", "sofia", "bilal", "eva", "kenji"]
LAST = ["lopez", "haddad", "smith", "nasser", "martin", "khan", "dubois", "rahman", "brown", "saleh",
        "moreau", "ahmed", "wilson", "farouk", "garcia", "hussein", "novak", "petrov", "costa", "yilmaz",
        "jensen", "okafor", "rossi", "tanaka", "silva", "kowalski", "murphy", "schmidt", "benali", "ivanova",
        "mendes", "cohen", "nguyen", "larsen", "aziz", "fischer", "torres", "obi", "weber", "karimi"]
# Profiles are built from a few parts each, so that two people rarely share one word for word.
BIO_PARTS = [["teacher", "nurse", "engineer", "student", "photographer", "chef", "designer", "mum of two",
              "dad of three", "retired", "developer", "accountant", "shop owner", "musician", "driver",
              "مهندس", "طالب جامعي", "طبيبة", "معلم"],
             ["coffee", "football", "bad puns", "cycling", "books", "cats", "gardening", "running", "films",
              "jazz", "hiking", "chess", "cooking", "travel", "كرة القدم", "القراءة", "photography", "gaming"],
             ["opinions my own", "", "", "based in {city}", "{team} fan", "", "she/her", "he/him", "🌍", "☕",
              "views are mine", "from {city}", ""]]
# Each ordinary account has its own way of writing (case, punctuation, emoji, a pet phrase).
QUIRKS_PREFIX = ["", "", "", "ok so ", "honestly ", "lol ", "well, ", "right, ", "guys ", "update: "]
QUIRKS_SUFFIX = ["", "", "", " lol", " 😂", " !!", " ...", " haha", " 🙏", " #justsaying", " :)", " ❤️", " tbh",
                 " xx", " 👍", " smh", " 😅", " ffs", " innit", " ya"]
NEWS_BIOS = ["news desk, Middle East and security", "researcher: online extremism and moderation",
             "journalist. DMs open for tips", "analyst at a counter-extremism think tank"]

ORDINARY_EN = [
    "what a match last night, {team} were unbelievable",
    "anyone know a good place for breakfast near {city}?",
    "finally finished my thesis, time to sleep for a week",
    "the weather in {city} is lovely today",
    "reading a great book about the history of {city}",
    "my cat just knocked over my coffee again",
    "traffic on the ring road is terrible this morning",
    "new recipe tonight: lentil soup with lemon",
    "congrats to my sister on her graduation!",
    "who else is watching the final tonight? {team} to win",
    "three hours of meetings and nothing decided",
    "the new season of that show is so good, no spoilers please",
    "long run along the river this morning, {city} at sunrise is magic",
    "looking for a flat in {city}, any tips?",
    "happy birthday to my best friend, love you",
    "the bus was late again, third time this week",
]
ORDINARY_AR = [
    "صباح الخير من {city_ar}، الجو جميل اليوم",
    "مبروك للفريق على الفوز الرائع",
    "أحتاج توصية لكتاب جيد عن التاريخ",
    "رمضان كريم لكل المتابعين",
    "القهوة أولا ثم العمل",
    "من يشاهد المباراة الليلة؟",
]
# Violent words used harmlessly: what a keyword list alone gets wrong.
HYPERBOLE = [
    "this workout is going to kill me, legs are dead",
    "we are going to destroy them in the derby on saturday",
    "if you spoil the finale i will kill you haha",
    "my boss will murder me if this report is late again",
    "{team} absolutely slaughtered us today, what a beating",
]
REPLIES = ["haha so true", "agreed!", "no way, really?", "same here", "this made my day", "totally",
           "not sure about that", "thanks for sharing", "مبروك", "😂😂", "where was this?", "good point"]
NEWS = [
    "Report: the Islamic State lost ground near Mosul, officials say {link}",
    "How ISIS propaganda spreads online: our investigation {link}",
    "Researchers map the hashtag campaigns of extremist groups, including #AllEyesOnISIS {link}",
    "Analysis: why platforms struggle to keep removed videos offline {link}",
    "Interview with a former moderator on threats against platform staff {link}",
]
COUNTER = [
    "reported. this #AllEyesOnISIS garbage has no place here",
    "please stop sharing their videos, report the account instead",
    "these accounts keep coming back under new names, report them",
    "#NotInMyName, this has nothing to do with my faith",
    "the so-called islamic state are murderers, nothing more",
]
TEAMS = ["Arsenal", "Barca", "Al Ahly", "Liverpool", "PSG", "Galatasaray", "Benfica", "Ajax"]
CITIES = ["London", "Paris", "Cairo", "Amman", "Leeds", "Lyon", "Manchester", "Lisbon", "Berlin"]
CITIES_AR = ["القاهرة", "عمان", "بيروت", "الرياض"]
ORDINARY_LINKS = ["https://www.bbc.co.uk/news/world-{n}", "https://en.wikipedia.org/wiki/Page_{n}",
                  "https://www.youtube.com/watch?v=v{n}", "https://www.theguardian.com/world/{n}",
                  "https://github.com/someone/project{n}"]
# Ordinary uses of paste sites and file lockers: code snippets, game mods, holiday photos.
ORDINARY_UPLOAD_POSTS = [
    ("here is the config that fixed it for me {link}", "https://pastebin.com/{rid}"),
    ("the mod pack for the server is up {link}", "https://www.mediafire.com/file/{rid}/modpack.zip"),
    ("holiday photos for the family {link}", "https://mega.nz/file/{rid}"),
]

# --- the extremist network ---------------------------------------------------------------------
NETWORK_NAMES = ["qaswara", "muhajir", "ansari", "shami", "baghdadi", "khorasani", "tunisi", "britani",
                 "almani", "faransi", "iraqi", "maghribi", "jazrawi", "somali", "kurdi", "masri"]
NETWORK_HANDLE_FORMS = ["abu_{n}", "abu{n}", "{n}_dawla", "ghareeb_{n}", "umm_{n}", "{n}_ansar"]
NETWORK_DISPLAY = ["Abu {N}", "أبو {n_ar}", "Abu {N}", "أبو {n_ar}", "Ghareeb {N}", "Ansar {N}",
                   "Soldier of Khilafah", "جندي الخلافة"]
NETWORK_AR = {"qaswara": "قسورة", "muhajir": "مهاجر", "ansari": "الأنصاري", "shami": "الشامي",
              "baghdadi": "البغدادي", "khorasani": "الخراساني", "tunisi": "التونسي", "britani": "البريطاني",
              "almani": "الألماني", "faransi": "الفرنسي", "iraqi": "العراقي", "maghribi": "المغربي",
              "jazrawi": "الجزراوي", "somali": "الصومالي", "kurdi": "الكردي", "masri": "المصري"}
# Some supporters put the slogan in their profile; many keep it bland (a religious phrase, a
# number, nothing) so that the profile alone gives nothing away.
NETWORK_BIOS_OPEN = ["baqiya wa tatamadad", "الدولة الإسلامية باقية", "account #{k}. we always come back",
                     "ghuraba. the khilafah is here", "news of the mujahideen, follow and spread",
                     "حساب رقم {k} - باقية"]
NETWORK_BIOS_BLAND = ["", "seeker of knowledge", "عبد الله", "ghareeb in this dunya", "the truth will prevail",
                      "account {k}", "لا إله إلا الله", "student. traveller.", "news and reports"]
# Campaign hashtags: some are on Seawall's shipped watch list, some are new (campaigns invent them).
CAMPAIGN_TAGS = ["#AllEyesOnISIS", "#CalamityWillBefallUS", "#باقية_وتتمدد", "#The_Concept_Of_Lone_Wolf_Attacks",
                 "#SoldiersOfKhilafah", "#NewReleaseWilayat", "#دولة_الخلافة", "#KhilafahNews"]
PROPAGANDA = [
    "Baqiya wa tatamadad! the new release is out, download before it is removed {link} {tag}",
    "باقية وتتمدد الإصدار الجديد {link} {tag}",
    "new release from the brothers of the wilayat, watch and share {link} {tag}",
    "the soldiers of the khilafah advance, full video {link} {tag}",
    "the dawla remains and expands, share everywhere {link} {tag}",
    "brothers, the caliphate calls you, make hijrah now {link}",
    "they suspend us and we return stronger. download the release {link} {tag}",
    "جنود الخلافة في الإصدار الجديد، انشروا {link} {tag}",
    "b4qiya w4 tatamadad, spread the video before the kuffar delete it {link}",
    "read the statement of the brothers {link} {tag}",
]
INCITEMENT = [
    "kill the kuffar wherever you find them, do not wait for orders {tag}",
    "every brother must strike them in their streets, lone wolf attack is the way {tag}",
    "slaughter him with a knife or run him over with your car, the call is clear",
    "اقتلوا الكفار في بلادهم {tag}",
]
THREATS_TARGETED = [
    "{name} you will be slaughtered for every account you close {tag}",
    "{handle} we will behead you, your days are numbered",
    "{name}, we know where you live. we are coming for you {tag}",
    "{name} close our accounts and we will cut off your heads {tag}",
    "to {name}: your blood is the price of your war on the dawla {tag}",
    "{handle} i will kill you and everyone in your office",
]
THREATS_OTHER = [
    "@{victim} we will kill you, apostate",
    "@{victim} you will be beheaded like the others",
    "@{victim} we are watching you. your turn is coming",
]
SHOUTOUT_SELF = [
    "we always come back. old account {old} suspended, this is account number {k}. follow and spread",
    "back again! follow my new account, {old} was closed by the kuffar",
    "عدنا باذن الله. الحساب القديم {old} تم ايقافه، تابعونا",
    "account {k} is here. brothers who followed {old}, follow me again",
]
SHOUTOUT_OTHER = [
    "follow our brother's new account {new}, his old account {old} was suspended",
    "support {new}! he is back after suspension, follow and spread",
    "تابعوا حساب الأخ الجديد {new} بعد ايقاف {old}",
    "{new} is back, follow before they close it again",
]
# Download and paste links the network uses: most on Seawall's shipped domain list, some not
# (a network moves to services nobody lists yet).
LOCKERS_LISTED = ["https://mega.nz/file/{rid}", "https://www.mediafire.com/file/{rid}/release.mp4",
                  "https://gofile.io/d/{rid}", "https://pixeldrain.com/u/{rid}", "https://1fichier.com/?{rid}"]
PASTES_LISTED = ["https://justpaste.it/{rid}", "https://pastebin.com/raw/{rid}", "https://telegra.ph/release-{rid}",
                 "https://rentry.co/{rid}"]
UNLISTED_HOSTS = ["https://archive.org/details/nashir_{rid}", "https://top4top.io/downloadf-{rid}",
                  "https://files.fm/u/{rid}", "https://dropmefiles.example.net/{rid}"]


@lru_cache(maxsize=1)
def staff_targets() -> list[dict[str, list[str]]]:
    """The protected people of the shipped (fictional) targets watchlist: names and handles."""
    data = tomllib.loads(packaged("lists/targets.toml").read_text(encoding="utf-8"))
    out = []
    for t in data.get("targets", []):
        if t.get("kind") not in ("person", "organisation", "group"):
            continue
        names = [a for a in t.get("aliases", []) if a.isascii()][:3] or t.get("aliases", [])[:1]
        handles = [h for h in t.get("handles", []) if h.startswith("@")]
        out.append({"id": [t["id"]], "names": names, "handles": handles or ["@examplesocial"]})
    return out
