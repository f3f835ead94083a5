"""The one error every adapter raises for input it cannot turn into Seawall events."""

from __future__ import annotations


class AdapterError(ValueError):
    """A platform object that cannot be converted: where (dotted path inside it) and why.

    `field` is a path inside the *platform's* object (`user.screen_name`, `record.facets.0.index`),
    not a Seawall event field, so that whoever runs the platform export can find the culprit.
    It is None when the object as a whole is wrong (not a JSON object, a stream control message).
    """

    def __init__(self, field: str | None, reason: str):
        self.field = field or None
        self.reason = reason
        super().__init__(f"{self.field}: {reason}" if self.field else reason)

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "reason": self.reason}
