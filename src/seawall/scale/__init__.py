"""Scale-out: stateless workers on a Redis Streams consumer group, PostgreSQL as the system of
record, Redis for shared counters and the change stream that keeps per-worker memory current.

Modules: `broker` (connection, stream layout, entry encoding), `enqueue` (intake onto the stream
with back-pressure), `worker` (the consumer: read, pipeline, commit, ack, reclaim, dead-letter),
`changes` (change stream between workers), `counters` (shared counters and windows), `windows`
(the campaign detector's windows in Redis), `status` (HTTP health, readiness and metrics of one
worker), `stats` (broker figures for `seawall stats`), `runtime` (the API's intake when it runs
with `--broker`), `verify` (lost / duplicated checks for tests and the benchmark), `cli` (the
`seawall worker` and `seawall broker` commands). See docs/operations.md.
"""
