"""Constructs and pure helpers for the CCI Lite secure storage and event backbone."""

#: The product version, named by every audit report (cci_tools.provenance). Semantic
#: versioning; the one place it is written. README, "Development", says when to bump it.
__version__ = "0.15.0"
