"""The domain's enumerations as GraphQL enums (the same members, documented)."""

import strawberry

from backend import models

CoalitionKind = strawberry.enum(models.CoalitionKind, description="What kind of grouping.")
CoalitionStatus = strawberry.enum(models.CoalitionStatus, description="Open or closed.")
WorkstreamKind = strawberry.enum(
    models.WorkstreamKind, description="Flagship, mission, emergency call or action network."
)
WorkstreamStatus = strawberry.enum(models.WorkstreamStatus, description="Open or closed.")
MembershipStatus = strawberry.enum(
    models.MembershipStatus,
    description="APPLIED and REJECTED memberships are seen only by the organisation and the "
    "secretariat.",
)
MembershipRole = strawberry.enum(models.MembershipRole, description="The member's role.")
HubCategory = strawberry.enum(
    models.HubCategory, description="A partner kind IATI's organisation types lack."
)
Stage = strawberry.enum(
    models.Stage,
    description="PLEDGED (non-binding) -> COMMITTED (firm) -> IN_DELIVERY -> FULFILLED; "
    "or WITHDRAWN (by the partner) / CANCELLED (by the secretariat).",
)
ResourceKind = strawberry.enum(models.ResourceKind, description="Cash, in-kind, or both.")
Visibility = strawberry.enum(
    models.Visibility,
    description="PUBLIC: everyone. MEMBERS: members of the coalition. CONFIDENTIAL: listed "
    "for everyone, but amounts and values only for the owner and the secretariat.",
)
InKindCategory = strawberry.enum(models.InKindCategory, description="What kind of help.")
DeliveryStatus = strawberry.enum(
    models.DeliveryStatus,
    description="REPORTED by the giver; CONFIRMED or DISPUTED by the receiver or secretariat.",
)
ActivityKind = strawberry.enum(models.ActivityKind, description="What kind of activity.")
Role = strawberry.enum(models.Role, description="What a token's holder may do.")
CommunicationKind = strawberry.enum(
    models.CommunicationKind, description="Press release, social post, event or report mention."
)
ActionStatus = strawberry.enum(
    models.ActionStatus, description="PLANNED -> PUBLISHED | CANCELLED (both final)."
)
NeedStatus = strawberry.enum(
    models.NeedStatus,
    description="OPEN -> PARTIALLY_MATCHED -> MATCHED -> FULFILLED, derived from accepted "
    "matches and their deliveries; CANCELLED by hand.",
)
NeedPriority = strawberry.enum(models.NeedPriority, description="How urgent a need is.")
TargetGroup = strawberry.enum(models.TargetGroup, description="Whom a need's help is for.")
OfferStatus = strawberry.enum(
    models.OfferStatus,
    description="DRAFT -> UNDER_REVIEW -> LISTED -> PAUSED | WITHDRAWN; the secretariat reviews.",
)
Attestation = strawberry.enum(
    models.Attestation, description="What a member attests about an offer reaching learners."
)
MatchStatus = strawberry.enum(
    models.MatchStatus, description="PROPOSED -> ACCEPTED | DECLINED | WITHDRAWN (all final)."
)
OpportunityStage = strawberry.enum(
    models.OpportunityStage,
    description="IDENTIFIED -> RESEARCH -> DUE_DILIGENCE -> CULTIVATION -> PROPOSAL -> "
    "NEGOTIATION -> AGREED; DECLINED or ON_HOLD from any open stage. AGREED and DECLINED "
    "are final.",
)
DonorKind = strawberry.enum(
    models.DonorKind, description="A company, a person, or a company's foundation."
)
Motivation = strawberry.enum(models.Motivation, description="Why a prospect would engage.")
DueDiligenceDecision = strawberry.enum(
    models.DueDiligenceDecision,
    description="PENDING until decided; a clearance (with or without conditions) or REJECTED.",
)
RiskRating = strawberry.enum(models.RiskRating, description="How risky a prospect is.")

REGISTERED = (
    CoalitionKind,
    CoalitionStatus,
    WorkstreamKind,
    WorkstreamStatus,
    MembershipStatus,
    MembershipRole,
    HubCategory,
    Stage,
    ResourceKind,
    Visibility,
    InKindCategory,
    DeliveryStatus,
    ActivityKind,
    Role,
    CommunicationKind,
    ActionStatus,
    NeedStatus,
    NeedPriority,
    TargetGroup,
    OfferStatus,
    Attestation,
    MatchStatus,
    OpportunityStage,
    DonorKind,
    Motivation,
    DueDiligenceDecision,
    RiskRating,
)
