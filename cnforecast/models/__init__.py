"""The darts-facing models and their registry.

Importing this package registers cnforecast's classes with darts' restricted unpickler
(:mod:`cnforecast.models.serialization`), so saved models load however they are reached.
"""

from cnforecast.models.serialization import register_safe_globals

register_safe_globals()
