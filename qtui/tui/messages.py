"""Messages between widgets and the app: widgets state intents, the app forwards them."""

from __future__ import annotations

from textual.message import Message

from qtui.live.intents import Intent


class IntentMessage(Message):
    """A widget asks for something (a what-if, a load change); the app sends it to the feed."""

    def __init__(self, intent: Intent) -> None:
        super().__init__()
        self.intent = intent
