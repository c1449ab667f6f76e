"""The quality view: verdicts with intervals, the noise floor, per-tag verdicts."""
