"""Parameters of the simulated platform, with where each value comes from.

Each field's `source` says whether a figure is taken from published reporting (and which), derived
from one, or an assumption of this simulator. docs/simulator.md lists them in a table; `seawall
simulate` writes them to params.json beside the output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any

START = datetime(2015, 6, 1, 0, 0, tzinfo=timezone.utc)

SOURCES: dict[str, str] = {
    "accounts": "command option: accounts at the start (returning accounts come on top)",
    "days": "command option: the measured window (the network's lives are simulated for as long again)",
    "seed": "command option: every random draw derives from it",
    "start": "fixed: mid-2015, the period the brief describes",
    "follows_sigma": "assumption: spread of the lognormal number of accounts followed",
    "sympathiser_share": "assumption: ordinary accounts that also follow some supporters (the curious, researchers)",
    "posts_sigma": "assumption: spread of ordinary activity (a few accounts post far more than most)",
    "media_share": "assumption: ordinary posts with a picture",
    "avatar_share": "assumption: ordinary accounts with an uploaded avatar",
    "repost_per_impression": "assumption: ordinary reposts per impression",
    "reply_per_impression": "assumption: ordinary replies per impression",
    "report_delay_minutes": "assumption: mean time from seeing a post to reporting it",
    "burst_minutes": "assumption: length of a campaign burst",
    "burst_participation": "assumption: share of active supporters joining a burst",
    "propaganda_media_share": "assumption: propaganda posts carrying a picture from a release",
    "threat_after_suspension_prob": "BRIEF.md: suspensions were answered with death threats against the platform's staff",
    "lifetime_sigma": "assumption: spread of account lifetimes",
    "first_post_delay_median_minutes": "assumption: a returner posts (or announces itself) soon after sign-up",
    "network_share": "assumption: over-represented (the 2014 census counted ~46,000 supporter accounts, "
                     "a tiny share of Twitter) so that a small simulation has enough violating items",
    "news_share": "assumption: news and research accounts that quote slogans and hashtags (hard negatives)",
    "follows_median": "assumption: median accounts followed",
    "popularity_sigma": "assumption: lognormal popularity gives heavy-tailed follower counts; the 2014 census "
                        "reports ~1,000 followers on average per supporter account with a long tail (Berger & Morgan 2015)",
    "network_homophily": "assumption: supporters follow mostly each other (dense in-network following, Berger & Morgan 2015)",
    "posts_per_day_median": "assumption: ordinary accounts, lognormal activity",
    "member_posts_per_day": "assumption: supporter accounts post more than ordinary users (Berger & Morgan 2015 "
                            "report a hyperactive minority posting in bursts)",
    "view_rate": "assumption: share of followers who see a post",
    "half_life_minutes": "Pfeffer, Matter & Sargsyan 2023, 'The Half-Life of a Tweet': median half-life of a "
                         "tweet's impressions ~80 minutes",
    "bursts_per_day": "assumption: campaign bursts under a hashtag (2014 #AllEyesOnISIS, 2015 "
                      "#The_Concept_Of_Lone_Wolf_Attacks; press reporting)",
    "open_profile_share": "assumption: share of supporter profiles carrying a slogan (others are bland)",
    "network_repost_prob": "assumption: coordinated re-posting squads amplify each release",
    "releases": "assumption: distinct known media items (propaganda 'releases') in circulation",
    "known_release_share": "assumption: releases already in circulation before the window, whose hashes an "
                           "industry hash list carries (shared_bank.csv; such lists began with GIFCT in 2017)",
    "reupload_exact_share": "assumption: share of re-uploads that are byte-identical copies",
    "hard_edit_share": "assumption: share of edited re-uploads with a heavy crop or a mirror (beyond PDQ reach)",
    "unlisted_link_share": "assumption: links to upload services not on any list yet",
    "lifetime_median_hours": "assumption: supporter accounts lived hours to days in 2015 under routine "
                             "suspensions (Berger & Perez 2016)",
    "serial_lifetime_median_hours": "reported: single supporters claimed dozens of accounts (90+ for one), "
                                    "which needs lifetimes of hours",
    "return_prob": "BRIEF.md: 'we always come back'; most suspended supporters returned (Berger & Perez 2016)",
    "return_gap_median_hours": "BRIEF.md / press reporting: back 'within hours' under numbered handles",
    "refollow_prob_member": "assumption: the network re-follows a returner at once (shout-outs)",
    "refollow_prob_other": "Berger & Perez 2016: returners do not regain all their former followers",
    "refollow_delay_median_hours": "reported: returners regain their followers within a day or two",
    "shoutout_prob": "press reporting: 'follow my new account' shout-outs announce returners",
    "report_per_impression": "assumption: users report a small share of what they see",
    "false_report_share": "assumption: ordinary posts reported by mistake or in bad faith",
}


@dataclass(frozen=True, slots=True)
class SimParams:
    accounts: int = 2000
    days: float = 2.0
    seed: int = 1
    start: str = START.strftime("%Y-%m-%dT%H:%M:%SZ")
    # population
    network_share: float = 0.02
    news_share: float = 0.01
    follows_median: float = 25.0
    follows_sigma: float = 0.8
    popularity_sigma: float = 1.6
    network_homophily: float = 0.7
    sympathiser_share: float = 0.03  # ordinary accounts that also follow some network accounts
    # ordinary activity
    posts_per_day_median: float = 2.0
    posts_sigma: float = 0.9
    media_share: float = 0.08
    avatar_share: float = 0.15
    repost_per_impression: float = 0.01
    reply_per_impression: float = 0.01
    false_report_share: float = 0.002
    # exposure
    view_rate: float = 0.3
    half_life_minutes: float = 80.0
    report_per_impression: float = 0.01
    report_delay_minutes: float = 10.0
    # the network
    member_posts_per_day: float = 6.0
    open_profile_share: float = 0.35
    bursts_per_day: float = 2.0
    burst_minutes: float = 60.0
    burst_participation: float = 0.6
    network_repost_prob: float = 0.08
    propaganda_media_share: float = 0.5
    releases: int = 12
    known_release_share: float = 0.5
    reupload_exact_share: float = 0.3
    hard_edit_share: float = 0.1
    unlisted_link_share: float = 0.2
    threat_after_suspension_prob: float = 0.5
    lifetime_median_hours: float = 20.0
    lifetime_sigma: float = 0.8
    serial_lifetime_median_hours: float = 2.0
    return_prob: float = 0.9
    return_gap_median_hours: float = 2.0
    first_post_delay_median_minutes: float = 20.0
    refollow_prob_member: float = 0.8
    refollow_prob_other: float = 0.4
    refollow_delay_median_hours: float = 6.0
    shoutout_prob: float = 0.7

    def start_dt(self) -> datetime:
        return datetime.strptime(self.start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SimParams":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"params.{unknown[0]}: unknown parameter")
        return cls(**data)

    def check(self) -> None:
        """Refuse values that make no sense, naming the parameter."""
        if self.accounts < 20:
            raise ValueError("accounts: at least 20 are needed (the network needs members)")
        if not 0 < self.days <= 60:
            raise ValueError("days: must be in (0, 60]")
        for name in ("network_share", "news_share", "network_homophily", "media_share", "view_rate",
                     "burst_participation", "network_repost_prob", "propaganda_media_share",
                     "reupload_exact_share", "hard_edit_share", "unlisted_link_share", "return_prob",
                     "refollow_prob_member", "refollow_prob_other", "shoutout_prob", "false_report_share",
                     "threat_after_suspension_prob", "sympathiser_share", "avatar_share", "open_profile_share",
                     "known_release_share"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}: must be between 0 and 1, not {v}")
        if self.releases < 1:
            raise ValueError("releases: at least 1")
