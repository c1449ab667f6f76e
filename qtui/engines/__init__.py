"""Real CPU inference engines (llama.cpp) provisioned on demand: for integration tests and demos."""
