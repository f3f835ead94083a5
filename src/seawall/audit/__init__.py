"""Append-only, tamper-evident audit log: every view of content, decision, key and setting change.

See docs/audit.md. Writers call `record(conn, ...)` inside the transaction that makes the change,
so the audit row commits (or rolls back) with it.
"""

from seawall.audit.log import GENESIS, AuditEntry, Problem, entries, record, record_store, verify

__all__ = ["GENESIS", "AuditEntry", "Problem", "entries", "record", "record_store", "verify"]
