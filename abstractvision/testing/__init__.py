"""Helpers for tests only (never imported by production code)."""

from __future__ import annotations

from .lora import build_tiny_lora

__all__ = ["build_tiny_lora"]
