"""Actions reach the platform: adapters behind one interface (the first a signed webhook), a durable
outbox with retries, and evidence preserved under a retention hold. See docs/actions.md.

Kept import-light: `seawall.config` imports the settings models from here.
"""
