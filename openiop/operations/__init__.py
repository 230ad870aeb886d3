"""Operator tools that are not part of any clinical workflow: encrypted backup and restore."""
