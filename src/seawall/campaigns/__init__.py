"""Campaigns and crisis mode: many posts or accounts pushing one thing, seen as one case.

See docs/campaigns.md. The detector (detector.py, windows.py, cosharing.py) runs inside the
`campaign` signal (seawall.signals.campaign); campaigns are recorded as cases with members
(store.py); an action on a campaign acts on every member (actions.py); crisis mode (crisis.py)
enables an incident bank and lowers rule thresholds while a named incident is active.

Kept import-light: `seawall.storage.schema` imports `seawall.campaigns.schema` to put the tables
on the shared metadata, so the functions below are imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_campaign_action", "campaign_members", "get_campaign", "list_campaigns"]


def __getattr__(name: str) -> Any:
    if name == "apply_campaign_action":
        from seawall.campaigns.actions import apply_campaign_action

        return apply_campaign_action
    if name in ("campaign_members", "get_campaign", "list_campaigns"):
        from seawall.campaigns import store

        return getattr(store, name)
    raise AttributeError(name)
