"""qtui: how much numerical precision does an LLM deployment really need?"""

__version__ = "0.1.0"
