"""`[review]` in config.toml: queues and their SLA, saved searches, claims, the two-person rule,
the exposure cap and session lifetimes. Only pydantic here: `seawall.config` imports it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PEOPLE_ROLES = ("admin", "reviewer", "senior_reviewer", "security", "flagger", "auditor")
# Who may work a queue by default: everyone who reviews. Security queues are narrower.
REVIEW_ROLES = ("admin", "reviewer", "senior_reviewer", "security")
CONFIRM_ROLES = ("admin", "senior_reviewer", "security")


class QueueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sla_minutes: int = Field(240, ge=1, le=60 * 24 * 30)
    # Roles that may claim and decide cases in this queue (default: every reviewing role).
    roles: list[Literal["admin", "reviewer", "senior_reviewer", "security"]] | None = None


class SavedSearch(BaseModel):
    """A queue defined by a search over open cases rather than by the rules' `queue`."""

    model_config = ConfigDict(extra="forbid")
    labels: list[str] = Field(default_factory=list)  # any of these labels
    rules: list[str] = Field(default_factory=list)  # any of these rules contributed
    queues: list[str] = Field(default_factory=list)  # cases routed to any of these queues
    verdicts: list[Literal["queue", "remove", "suspend", "escalate"]] = Field(default_factory=list)
    subject_types: list[Literal["post", "account"]] = Field(default_factory=list)
    min_score: float = Field(0.0, ge=0)
    sla_minutes: int = Field(240, ge=1, le=60 * 24 * 30)


def _default_queues() -> dict[str, QueueSettings]:
    return {
        "security": QueueSettings(sla_minutes=30, roles=["admin", "senior_reviewer", "security"]),
        "law-enforcement": QueueSettings(sla_minutes=60, roles=["admin", "senior_reviewer", "security"]),
        "appeals": QueueSettings(sla_minutes=60 * 24),
    }


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_sla_minutes: int = Field(240, ge=1, le=60 * 24 * 30)
    queues: dict[str, QueueSettings] = Field(default_factory=_default_queues)
    searches: dict[str, SavedSearch] = Field(default_factory=dict)
    claim_minutes: int = Field(15, ge=1, le=24 * 60)
    # Decisions that need a second, different person (senior_reviewer, security or admin).
    two_person: list[Literal["suspend", "escalate_law_enforcement"]] = Field(
        default_factory=lambda: ["suspend", "escalate_law_enforcement"]
    )
    exposure_cap: int = Field(60, ge=0, le=100_000)  # media reveals per reviewer per UTC day
    session_hours: float = Field(10.0, gt=0, le=24 * 7)
    idle_minutes: int = Field(60, ge=1, le=24 * 60)
    # scrypt cost for new password hashes (2**n); verification reads the cost from each hash.
    scrypt_log_n: int = Field(15, ge=10, le=20)

    @model_validator(mode="after")
    def _keep_default_queues(self) -> "ReviewSettings":
        # Configuring one queue must not silently drop the security / appeals defaults.
        for name, q in _default_queues().items():
            self.queues.setdefault(name, q)
        return self

    def queue(self, name: str | None) -> QueueSettings:
        if name and name in self.queues:
            return self.queues[name]
        if name and name in self.searches:
            return QueueSettings(sla_minutes=self.searches[name].sla_minutes)
        return QueueSettings(sla_minutes=self.default_sla_minutes)

    def queue_roles(self, name: str | None) -> tuple[str, ...]:
        roles = self.queue(name).roles
        return tuple(roles) if roles else REVIEW_ROLES
