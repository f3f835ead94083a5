"""Which signals exist and how they are built from settings.

Built-in signals are listed here; other packages add theirs through the `seawall.signals` entry
point group (the value is a Signal subclass), so a deployment can plug in its own scorer without
forking Seawall.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from seawall.signals.base import Signal


class SignalConfigError(ValueError):
    pass


def available_signals() -> dict[str, type[Signal]]:
    from seawall.signals.account_link import AccountLinkSignal
    from seawall.signals.campaign import CampaignSignal
    from seawall.signals.classifier import ClassifierSignal
    from seawall.signals.hashbank import HashBankSignal
    from seawall.signals.linkdomain import LinkDomainSignal
    from seawall.signals.targets import TargetsSignal
    from seawall.signals.watchterms import WatchTermsSignal

    found: dict[str, type[Signal]] = {
        cls.name: cls
        for cls in (WatchTermsSignal, LinkDomainSignal, ClassifierSignal, TargetsSignal, HashBankSignal, CampaignSignal,
                    AccountLinkSignal)
    }
    for ep in entry_points(group="seawall.signals"):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Signal)):
            raise SignalConfigError(f"entry point {ep.name!r} ({ep.value}) is not a seawall Signal subclass")
        found.setdefault(cls.name, cls)
    return found


def build_signals(config: dict[str, dict[str, Any]]) -> list[Signal]:
    """Instantiate every available signal with its settings from config (defaults when absent);
    a signal whose settings say `enabled = false` is left out."""
    known = available_signals()
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise SignalConfigError(f"signals.{unknown[0]}: no such signal (available: {', '.join(sorted(known))})")
    built: list[Signal] = []
    for name, cls in known.items():
        try:
            settings = cls.Settings.model_validate(config.get(name, {}))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SignalConfigError(f"signals.{name}.{where}: {first['msg']}") from None
        if settings.enabled:
            try:
                built.append(cls(settings))
            except (ValueError, OSError) as exc:  # a broken list file: say which signal, fail loudly
                raise SignalConfigError(f"signals.{name}: {exc}") from None
    return built
