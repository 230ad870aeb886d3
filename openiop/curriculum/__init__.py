"""Curriculum library: session plans as versioned, validated data files (pure Python, no Django).

Import `openiop.curriculum.library` to load and validate every data file; a broken file fails
the import with a message naming the file and the field path.
"""
