"""Structured group work. The confidentiality guard (GRP-01) lives in guard.py."""
