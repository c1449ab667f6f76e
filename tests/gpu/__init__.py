"""GPU telemetry tests."""
