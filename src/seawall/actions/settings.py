"""The `[actions]` section of config.toml. Validated like the rest of the configuration: unknown keys
are errors. The webhook secret itself is never in the file: `secret_env` names an environment
variable (or `secret_file` a file, e.g. a mounted container secret) that holds it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

ACTION_KINDS = ("remove", "suspend", "escalate", "restore")
MIN_SECRET_BYTES = 16


def _known_kinds(kinds: list[str]) -> list[str]:
    unknown = sorted(set(kinds) - set(ACTION_KINDS))
    if unknown:
        raise ValueError(f"unknown action kind(s) {', '.join(unknown)}; expected some of {', '.join(ACTION_KINDS)}")
    return kinds


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    secret_env: str | None = None
    secret_file: Path | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)
    # Extra request headers (e.g. a routing header the platform's gateway wants). Not for secrets.
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not (v.startswith("http://") or v.startswith("https://")) or len(v.split("://", 1)[1]) == 0:
            raise ValueError("must be an http:// or https:// URL")
        if "@" in v.split("://", 1)[1].split("/", 1)[0]:
            # It would end up in logs and listings; the signature already authenticates Seawall.
            raise ValueError("must not contain credentials (user:password@); the HMAC signature authenticates Seawall")
        return v

    @model_validator(mode="after")
    def _one_secret_source(self) -> "WebhookSettings":
        if bool(self.secret_env) == bool(self.secret_file):
            raise ValueError("give exactly one of secret_env (an environment variable name) or secret_file")
        return self

    def secret(self) -> SecretStr:
        """The shared secret, read now (so a rotated secret is picked up on restart). Raises
        ValueError naming the setting when it is missing or too short; the value is never shown."""
        if self.secret_env:
            value = os.environ.get(self.secret_env, "")
            where = f"actions.webhook.secret_env: environment variable {self.secret_env}"
        else:
            assert self.secret_file is not None
            where = f"actions.webhook.secret_file: {self.secret_file}"
            try:
                value = self.secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"{where} cannot be read ({exc.strerror})") from None
        if not value:
            raise ValueError(f"{where} is not set or empty")
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"{where} is shorter than {MIN_SECRET_BYTES} bytes")
        return SecretStr(value)


class RetrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_delay_s: float = Field(5.0, ge=0)  # the first retry waits about this long
    max_delay_s: float = Field(3600.0, ge=0)  # backoff doubles up to this
    max_attempts: int = Field(40, ge=1)  # then the action is `failed` (visible, re-queueable)
    max_age_s: float = Field(72 * 3600.0, gt=0)  # or once it has waited this long since it was queued
    jitter: float = Field(0.5, ge=0, le=1)  # the fraction of each delay that is randomised


class EvidenceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Six months by default: Regulation (EU) 2021/784 (terrorist content online), article 6.
    retention_days: int = Field(180, ge=1)
    kinds: list[str] = Field(default_factory=lambda: ["remove", "suspend", "escalate"])
    max_events: int = Field(50, ge=1, le=10_000)  # per action, when the evidence is a whole case

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, v: list[str]) -> list[str]:
        return _known_kinds(v)


class ActionsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The adapter that delivers actions; default: "webhook" when [actions.webhook] is configured.
    adapter: str | None = None
    kinds: list[str] = Field(default_factory=lambda: list(ACTION_KINDS))  # what is sent to the platform
    poll_interval_s: float = Field(1.0, gt=0, le=3600)
    batch_size: int = Field(50, ge=1, le=10_000)
    webhook: WebhookSettings | None = None
    retry: RetrySettings = Field(default_factory=RetrySettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    # Settings of adapters added by other packages (entry point group "seawall.adapters"), by name.
    adapters: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, v: list[str]) -> list[str]:
        return _known_kinds(v)

    @property
    def adapter_name(self) -> str | None:
        return self.adapter or ("webhook" if self.webhook is not None else None)
