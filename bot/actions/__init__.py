"""Custom actions for the medfollow Rasa assistant (one module per dialogue topic).

Run them with ``python -m rasa_sdk --actions bot.actions``. The action server imports
this package and registers every ``Action`` subclass it finds, so each action module is
imported here.
"""

from __future__ import annotations

from bot.actions.checkin import ActionAnswerCheckin, ActionAskCheckin
from bot.actions.crisis import ActionCrisisResponse, ActionSubmitAsq, ValidateAsqForm
from bot.actions.education import ActionInteraction, ActionMedInfo, ActionMissedDoseInfo
from bot.actions.fallback import ActionUnclear
from bot.actions.greet import ActionGreetPatient
from bot.actions.mood import (
    ActionStartMoodCheck,
    ActionSubmitPhq2,
    ActionSubmitPhq9,
    ValidatePhq2Form,
    ValidatePhq9Form,
)
from bot.actions.requests import ActionAccessBarrier, ActionRequestClinician, ActionStopMedication
from bot.actions.side_effects import ActionRedFlag, ActionSubmitSideEffect, ValidateSideEffectForm

__all__ = [
    "ActionAccessBarrier",
    "ActionAnswerCheckin",
    "ActionAskCheckin",
    "ActionCrisisResponse",
    "ActionGreetPatient",
    "ActionInteraction",
    "ActionMedInfo",
    "ActionMissedDoseInfo",
    "ActionRedFlag",
    "ActionRequestClinician",
    "ActionStartMoodCheck",
    "ActionStopMedication",
    "ActionSubmitAsq",
    "ActionSubmitPhq2",
    "ActionSubmitPhq9",
    "ActionSubmitSideEffect",
    "ActionUnclear",
    "ValidateAsqForm",
    "ValidatePhq2Form",
    "ValidatePhq9Form",
    "ValidateSideEffectForm",
]
