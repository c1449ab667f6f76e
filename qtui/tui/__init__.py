"""The Textual app: renders Snapshots from a Feed and turns keys into Intents."""
