"""Training's service functions: the only code that writes training records.

Other apps call the gate:

    from training import services as training
    training.operation_allowed(user=request.user, operation="handover_without_code")
    training.operation_authorise(user=..., operation=..., target="fulfillment:12")
    training.has_certification(user=..., skill="bopis_fulfilment", level=2)

The rest is organised by topic: `levels` (requirements, assessments),
`learning` (enrolment, modules, quizzes), `certificates` (issue, remind,
lapse), `gates`, `gaps` (person, store, network) and `catalog` (installing the
program's content).
"""

from training.services.catalog import content_sync
from training.services.certificates import (
    certification_issue,
    certification_lapse,
    certifications_lapse_due,
    reminder_deliver,
    reminders_queue,
)
from training.services.errors import Conflict, NotAllowed, NotFound, TrainingError
from training.services.gaps import (
    close_my_gaps,
    gap_plan,
    network_view,
    person_gaps,
    snapshot_due,
    snapshot_take,
    store_heatmap,
)
from training.services.gates import (
    OPERATIONS,
    GateExplanation,
    OperationRefused,
    certified_level,
    gate_explanation,
    has_certification,
    operation_allowed,
    operation_authorise,
    override_grant,
)
from training.services.learning import (
    attempt_questions,
    attempt_review,
    attempt_start,
    attempt_submit,
    course_assign,
    course_enrol,
    course_rate,
    module_complete,
    onboard_new_staff,
    onboarding_start,
)
from training.services.levels import assessment_record, level_record

__all__ = [
    "OPERATIONS",
    "Conflict",
    "GateExplanation",
    "NotAllowed",
    "NotFound",
    "OperationRefused",
    "TrainingError",
    "assessment_record",
    "attempt_questions",
    "attempt_review",
    "attempt_start",
    "attempt_submit",
    "certification_issue",
    "certification_lapse",
    "certifications_lapse_due",
    "certified_level",
    "close_my_gaps",
    "content_sync",
    "course_assign",
    "course_enrol",
    "course_rate",
    "gap_plan",
    "gate_explanation",
    "has_certification",
    "level_record",
    "module_complete",
    "network_view",
    "onboard_new_staff",
    "onboarding_start",
    "operation_allowed",
    "operation_authorise",
    "override_grant",
    "person_gaps",
    "reminder_deliver",
    "reminders_queue",
    "snapshot_due",
    "snapshot_take",
    "store_heatmap",
]
