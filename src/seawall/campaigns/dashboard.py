"""The crisis dashboard: one server-rendered HTML page with the incident's volume as an inline SVG
chart (no JavaScript, no front-end build); it reloads itself every 30 seconds."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

WIDTH, HEIGHT, PAD = 900, 260, 40


def _chart(series: list[dict[str, Any]]) -> str:
    if not series:
        return '<p class="empty">No matching posts yet.</p>'
    times = [datetime.fromisoformat(p["minute"]).timestamp() for p in series]
    t0, t1 = times[0], max(times[-1], times[0] + 60)
    top = max(p["posts"] for p in series) or 1
    x = lambda t: PAD + (t - t0) / (t1 - t0) * (WIDTH - 2 * PAD)  # noqa: E731
    y = lambda v: HEIGHT - PAD - v / top * (HEIGHT - 2 * PAD)  # noqa: E731
    bar = max(1.0, (WIDTH - 2 * PAD) / max(1.0, (t1 - t0) / 60 + 1) - 1)
    bars = []
    for t, p in zip(times, series):
        h = HEIGHT - PAD - y(p["posts"])
        title = f'{escape(p["minute"])}: {p["posts"]} posts ({p["by_hashtag"]} by hashtag, {p["by_bank"]} by bank)'
        bars.append(f'<rect x="{x(t):.1f}" y="{y(p["posts"]):.1f}" width="{bar:.1f}" height="{h:.1f}">'
                    f"<title>{title}</title></rect>")
    axis = (f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
            f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{top}</text>'
            f'<text x="{PAD - 6}" y="{HEIGHT - PAD}" text-anchor="end">0</text>'
            f'<text x="{PAD}" y="{HEIGHT - PAD + 18}">{escape(series[0]["minute"][:16])}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 18}" text-anchor="end">{escape(series[-1]["minute"][:16])}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="matching posts per minute">{axis}{"".join(bars)}</svg>')


def render(report: dict[str, Any]) -> str:
    c = report.get("crisis")
    if c is None:
        head = "<h1>No crisis</h1><p>Start one with <code>seawall crisis start NAME</code>.</p>"
        body = ""
    else:
        state = "active" if report.get("active") else f"stopped {escape(str(c.get('stopped_at') or ''))}"
        tags = ", ".join("#" + escape(t) for t in c["hashtags"]) or "none"
        head = (f"<h1>Crisis: {escape(c['name'])} <small>({state})</small></h1>"
                f"<p>Started {escape(c['started_at'])} by {escape(c['started_by'])}. Bank: "
                f"{escape(c['bank'] or 'none')}. Hashtags: {tags}. Thresholds of "
                f"{escape(', '.join(c['signals']))} lowered by {c['threshold_delta']:g}.</p>")
        series = report.get("volume", [])
        last = series[-1]["posts"] if series else 0
        peak = max((p["posts"] for p in series), default=0)
        body = (f"<p><b>{report.get('total_posts', 0)}</b> matching posts in the last {len(series)} active minutes; "
                f"latest minute {last}, peak {peak}.</p>{_chart(series)}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<title>Seawall crisis dashboard</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
svg {{ width: 100%; max-width: {WIDTH}px; background: #fafafa; border: 1px solid #ddd; }}
rect {{ fill: #b22; }} .axis {{ stroke: #888; }} text {{ font-size: 12px; fill: #555; }}
small {{ color: #777; font-weight: normal; }} .empty {{ color: #777; }}
</style></head><body>{head}{body}</body></html>
"""
