"""The live controller: view model, intents and feeds the app renders (no Textual import here)."""
