"""Workarounds for bugs in the libraries cnforecast builds on, one module per bug.

Each module says which versions it targets, how it detects the bug, and when to drop it.
"""
