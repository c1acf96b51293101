"""Medication education content: the library of approved SMS texts and the interaction table.

Nothing here is read at import; call :func:`education.library.load_library` and
:func:`education.interactions.load_interactions` (both cached).
"""
