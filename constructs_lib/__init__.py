"""Constructs and pure helpers for the CCI Lite secure storage and event backbone."""
