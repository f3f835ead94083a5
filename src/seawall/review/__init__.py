"""Human review: people and sessions, queues, claims, SLA and priority, decisions with the
two-person rule, appeals and restores, media kept for review and each reviewer's exposure cap.
See docs/review.md."""
