"""Names of the custom actions and forms, shared by the action classes, the domain and tests.

Each name must match an entry under ``actions:`` or ``forms:`` in the domain (bot/domain/).
"""

from __future__ import annotations

from typing import Final

ACTION_GREET_PATIENT: Final = "action_greet_patient"
ACTION_ASK_CHECKIN: Final = "action_ask_checkin"
ACTION_ANSWER_CHECKIN: Final = "action_answer_checkin"
ACTION_MED_INFO: Final = "action_med_info"
ACTION_MISSED_DOSE_INFO: Final = "action_missed_dose_info"
ACTION_INTERACTION: Final = "action_interaction"
ACTION_STOP_MEDICATION: Final = "action_stop_medication"
ACTION_ACCESS_BARRIER: Final = "action_access_barrier"
ACTION_REQUEST_CLINICIAN: Final = "action_request_clinician"
ACTION_UNCLEAR: Final = "action_unclear"
ACTION_RED_FLAG: Final = "action_red_flag"
ACTION_SUBMIT_SIDE_EFFECT: Final = "action_submit_side_effect"
ACTION_CRISIS_RESPONSE: Final = "action_crisis_response"
ACTION_SUBMIT_ASQ: Final = "action_submit_asq"
ACTION_START_MOOD_CHECK: Final = "action_start_mood_check"
ACTION_SUBMIT_PHQ2: Final = "action_submit_phq2"
ACTION_SUBMIT_PHQ9: Final = "action_submit_phq9"
VALIDATE_SIDE_EFFECT_FORM: Final = "validate_side_effect_form"
VALIDATE_PHQ2_FORM: Final = "validate_phq2_form"
VALIDATE_PHQ9_FORM: Final = "validate_phq9_form"
VALIDATE_ASQ_FORM: Final = "validate_asq_form"
SIDE_EFFECT_FORM: Final = "side_effect_form"
PHQ2_FORM: Final = "phq2_form"
PHQ9_FORM: Final = "phq9_form"
ASQ_FORM: Final = "asq_form"
