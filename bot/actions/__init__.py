"""Custom actions for the medfollow Rasa assistant (one module per dialogue topic).

Run them with ``python -m rasa_sdk --actions bot.actions``. The action server imports
this package and registers every ``Action`` subclass it finds, so each action module is
imported here.
"""

from __future__ import annotations

from bot.actions.greet import ActionGreetPatient

__all__ = ["ActionGreetPatient"]
