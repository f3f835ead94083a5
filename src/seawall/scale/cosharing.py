"""The campaign detector's co-sharing graph shared by every worker.

In one process (`seawall.campaigns.cosharing.CoShareGraph`) a pair of accounts is linked once it
has co-shared `min_keys` distinct rare keys, and links join clusters with a union-find. Split
across workers, each worker would see only some of a pair's co-shares and few pairs would ever
link. Here the evidence per pair is a Redis set of the keys it co-shared (one Lua script per
co-share: add, count, and on reaching `min_keys` delete and report, so exactly one worker sees a
pair link), and each link is appended to a stream (`seawall:campaign:links`) that every worker
applies to its own union-find in stream order before each batch. Applied in the same order, the
unions give every worker the same clusters with the same names.

What stays per worker: a cluster's post and violating counts (its violating share is estimated
from the posts that worker saw) and members recorded so far; campaign updates are recorded by the
worker whose link grew the cluster.
"""

from __future__ import annotations

import redis

from seawall.campaigns.cosharing import CoShareGraph

LINKS_STREAM = "seawall:campaign:links"

_PAIRS = """
local key, min_keys, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local linked = {}
for i, pair in ipairs(KEYS) do
  redis.call('SADD', pair, key)
  if redis.call('SCARD', pair) >= min_keys then
    redis.call('DEL', pair)
    linked[#linked + 1] = i
  else
    redis.call('EXPIRE', pair, ttl)
  end
end
return linked
"""


class RedisCoShareGraph(CoShareGraph):
    def __init__(self, client: redis.Redis, min_keys: int = 3, min_accounts: int = 4, max_key_accounts: int = 50,
                 pair_ttl: float = 21600.0, prefix: str = "seawall:cs:", links_maxlen: int = 1_000_000):
        super().__init__(min_keys, min_accounts, max_key_accounts, pair_ttl)
        self.r = client
        self.prefix = prefix
        self.links_maxlen = links_maxlen
        self._pairs_script = client.register_script(_PAIRS)
        self._last_id = b"0-0"  # every link since the stream began: a new worker rebuilds the clusters

    def __len__(self) -> int:
        return sum(1 for _ in self.r.scan_iter(match=f"{self.prefix}*", count=1000))

    def _pair_key(self, a: str, b: str) -> str:
        # One hash tag for all pairs: a Redis Cluster keeps them (and each script's keys) on one shard.
        return f"{self.prefix}{{pairs}}:{a}\x00{b}"

    def co_shared(self, key: str, account: str, others: list[str], t: float) -> list[str]:
        pairs = [(account, o) if account < o else (o, account) for o in others if o != account]
        if not pairs:
            return []
        found = self._pairs_script(keys=[self._pair_key(a, b) for a, b in pairs],
                                   args=[key, self.min_keys, int(self.pair_ttl)])
        if not found:
            return []
        pipe = self.r.pipeline(transaction=False)
        for i in found:
            a, b = pairs[int(i) - 1]
            pipe.xadd(LINKS_STREAM, {"a": a, "b": b, "t": repr(t)}, maxlen=self.links_maxlen, approximate=True)
        mine = set(pipe.execute())
        # Apply every link up to and including ours, in stream order, so that this worker's
        # union-find is the one every other worker builds.
        linked = self._apply(mine)
        return [b if a == account else a for a, b in linked]

    def sync(self) -> None:
        self._apply(set())

    def _apply(self, mine: set[bytes]) -> list[tuple[str, str]]:
        """Apply links published since the last call. Merges caused by other workers' links are
        theirs to record (dropped from `merged`); returns our own links that joined two parts."""
        linked: list[tuple[str, str]] = []
        while True:
            got = self.r.xread({LINKS_STREAM: self._last_id}, count=10_000)
            if not got:
                return linked
            entries = got[0][1]
            for entry_id, fields in entries:
                self._last_id = entry_id
                a, b = fields[b"a"].decode(), fields[b"b"].decode()
                before = len(self.merged)
                joined = self._union(a, b, float(fields[b"t"]))
                if entry_id in mine:
                    if joined:
                        linked.append((a, b))
                else:
                    del self.merged[before:]
            if len(entries) < 10_000:  # caught up (our own links were added before this read)
                return linked

    def prune(self, now: float) -> None:
        """Pairs expire in Redis (`pair_ttl` seconds of wall time after their last co-share)."""
