"""Where Seawall keeps its state and how it is configured.

All state lives in one folder, `SEAWALL_HOME` (default `./.seawall`), which every command honours.
An optional `config.toml` there overrides the defaults; unknown keys are errors, not ignored.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from seawall.review.settings import ReviewSettings
from seawall.actions.settings import ActionsSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700


def packaged(name: str) -> Path:
    """Path of a data file shipped inside the package (rules, lists)."""
    return Path(str(resources.files("seawall") / "data" / name))


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = DEFAULT_HOST
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)


class PipelineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_size: int = Field(2500, ge=1, le=100_000)
    # How long the embedded worker waits to fill a batch before processing what it has;
    # bounds the latency added by batching.
    max_wait_ms: int = Field(50, ge=0, le=10_000)
    languages: list[str] | None = None  # ISO 639-1 codes for language identification


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    home: Path
    database: str = ""
    rules: Path | None = None
    server: ServerSettings = Field(default_factory=ServerSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    # Per-signal settings, by signal name, validated by each signal's own Settings model.
    signals: dict[str, dict[str, Any]] = Field(default_factory=dict)
    review: ReviewSettings = Field(default_factory=ReviewSettings)  # queues, SLA, two-person rule, exposure
    actions: ActionsSettings = Field(default_factory=ActionsSettings)  # platform adapter, outbox, evidence

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.home / 'seawall.db'}"

    @property
    def rules_path(self) -> Path:
        return self.rules or packaged("rules.toml")


class ConfigError(ValueError):
    pass


def seawall_home() -> Path:
    return Path(os.environ.get("SEAWALL_HOME") or ".seawall").expanduser()


def load_settings(home: Path | None = None, database: str | None = None) -> Settings:
    """Settings from `$SEAWALL_HOME/config.toml` (if present), with SEAWALL_DATABASE_URL and the
    `database` argument taking precedence for the database."""
    home = (home or seawall_home()).resolve()
    home.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    cfg = home / "config.toml"
    if cfg.exists():
        try:
            data = tomllib.loads(cfg.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg}: {exc}") from None
    data["home"] = home
    db = database or os.environ.get("SEAWALL_DATABASE_URL")
    if db:
        data["database"] = db
    if isinstance(data.get("rules"), str) and not Path(data["rules"]).is_absolute():
        data["rules"] = home / data["rules"]
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{cfg}: {where}: {first['msg']}") from None
