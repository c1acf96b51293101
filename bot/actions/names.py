"""Names of the custom actions, shared by the action classes and their tests.

Each name must match an entry under ``actions:`` in the domain (bot/domain/).
"""

from __future__ import annotations

from typing import Final

ACTION_GREET_PATIENT: Final = "action_greet_patient"
