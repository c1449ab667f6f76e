"""Talking to OpenAI-compatible (vLLM) endpoints: discovery and the streaming client."""
