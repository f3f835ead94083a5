"""Signals: small scorers with a name, a version, typed settings and one batch method."""

from seawall.signals.base import Signal, SignalHit, SignalSettings

__all__ = ["Signal", "SignalHit", "SignalSettings"]
