"""SQLModel tables, one module per aggregate; import them as `models.Commitment`."""

from backend.models.activity import Activity, ActivityKind
from backend.models.api_token import ApiToken, Role
from backend.models.audit import AuditRecord
from backend.models.base import JsonListContains, table_of, utcnow
from backend.models.coalition import (
    VISIBILITY_PLAN_THRESHOLD_USD,
    Coalition,
    CoalitionKind,
    CoalitionStatus,
    Membership,
    MembershipRole,
    MembershipStatus,
    Workstream,
    WorkstreamKind,
    WorkstreamStatus,
)
from backend.models.commitment import (
    Commitment,
    InKindCategory,
    InKindLine,
    ResourceKind,
    Stage,
    Visibility,
)
from backend.models.delivery import Delivery, DeliveryStatus
from backend.models.engagement_opportunity import (
    DonorKind,
    DueDiligenceDecision,
    EngagementOpportunity,
    Motivation,
    OpportunityStage,
    RiskRating,
)
from backend.models.feed_event import FeedEvent
from backend.models.fx_rate import FxRate
from backend.models.match import Match, MatchStatus
from backend.models.need import Need, NeedPriority, NeedStatus, TargetGroup
from backend.models.offer import Attestation, Offer, OfferStatus
from backend.models.organisation import HubCategory, Organisation
from backend.models.visibility_plan import (
    ActionStatus,
    CommunicationAction,
    CommunicationKind,
    VisibilityPlan,
)

__all__ = [
    "VISIBILITY_PLAN_THRESHOLD_USD",
    "ActionStatus",
    "Activity",
    "ActivityKind",
    "ApiToken",
    "Attestation",
    "AuditRecord",
    "Coalition",
    "CoalitionKind",
    "CoalitionStatus",
    "Commitment",
    "CommunicationAction",
    "CommunicationKind",
    "Delivery",
    "DeliveryStatus",
    "DonorKind",
    "DueDiligenceDecision",
    "EngagementOpportunity",
    "FeedEvent",
    "FxRate",
    "HubCategory",
    "InKindCategory",
    "InKindLine",
    "JsonListContains",
    "Match",
    "MatchStatus",
    "Membership",
    "MembershipRole",
    "MembershipStatus",
    "Motivation",
    "Need",
    "NeedPriority",
    "NeedStatus",
    "Offer",
    "OfferStatus",
    "OpportunityStage",
    "Organisation",
    "ResourceKind",
    "RiskRating",
    "Role",
    "Stage",
    "TargetGroup",
    "Visibility",
    "VisibilityPlan",
    "Workstream",
    "WorkstreamKind",
    "WorkstreamStatus",
    "table_of",
    "utcnow",
]
