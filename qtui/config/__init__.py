"""Profiles, price tables and their validation."""

from qtui.config.load import load_model
from qtui.config.pricing import PriceRow, PriceTable
from qtui.config.profile import Endpoint, Profile

__all__ = ["Endpoint", "PriceRow", "PriceTable", "Profile", "load_model"]
