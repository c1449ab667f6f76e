"""Server-side (/metrics) and client-side measurements: pure functions, no I/O."""
