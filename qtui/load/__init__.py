"""Load generation: workloads, closed/open loop and sweep engines, client self-check."""
