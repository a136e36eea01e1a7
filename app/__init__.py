"""Backroom: the store and backroom handheld client."""
