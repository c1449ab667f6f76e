"""The vocabulary of synthetic prompts (data)."""

from __future__ import annotations

# common English words that are one token each in Llama/Mistral/Qwen/GPT tokenizers
_WORDS_TEXT = (
    "the of and to in is was for on are with as by at be this from that have or had not but "
    "what all were when we there can an your which their said if do will each about how up "
    "out them then she many some so these would other into has more her two like him see "
    "time could no make than first been its who now people my made over did down only way "
    "find use may water long little very after words called just where most know get through "
    "back much before go good new write our used me man too any day same right look think "
    "also around another came come work "
)
WORDS: tuple[str, ...] = tuple(_WORDS_TEXT.split())
