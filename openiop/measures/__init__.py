"""Measurement-based care: instrument definitions, scoring and reliable change.

Pure Python on purpose (no Django imports): `openiop score|rci|cutoff` and outside tools use
these modules without settings or a database. Instrument facts live in
`data/instruments/*.json`, loaded and validated by `instruments.py`.
"""
