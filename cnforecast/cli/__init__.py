"""The ``cnforecast`` command line."""
