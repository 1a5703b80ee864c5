"""The fixed facts of the demo: invented organisations, coalitions, rates and wording.

Every organisation, person and figure here is fictional; identifiers follow the IATI
formats (registration agency prefix + number) but point at nothing real, and links go to
example.org.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from backend import models

LEARNING = "learning-continuity"
ARTS = "resilient-arts"
RATE_SOURCE = "Demo rates (fictional)"
# Published monthly for this many months back, so every value date finds a rate.
RATE_MONTHS = 36
FICTIONAL = "Fictional organisation, invented for the Coalition Hub demo."


@dataclass(frozen=True)
class OrganisationFact:
    name: str
    acronym: str
    organisation_type: str
    country: str
    iati_identifier: str | None = None
    hub_category: models.HubCategory | None = None
    # Which coalitions it joins: the learning coalition, the arts movement, or both.
    learning: bool = True
    arts: bool = False


MEDIA, NETWORK = models.HubCategory.MEDIA, models.HubCategory.NETWORK

ORGANISATIONS = [
    OrganisationFact("International Education Cooperation Organisation", "IECO", "40", "FR",
                     "XM-DAC-90001"),
    OrganisationFact("World Learning Data Facility", "WLDF", "40", "CH", "XM-DAC-90002"),
    OrganisationFact("Federal Office for Remote Schooling", "FORS", "10", "CH"),
    OrganisationFact("Department of Connected Classrooms", "DCC", "10", "ZA", "ZA-GOV-9001"),
    OrganisationFact("Lakeside County Education Board", "LCEB", "11", "KE"),
    OrganisationFact("Porto Claro Municipal Schools Authority", "PCMSA", "11", "BR"),
    OrganisationFact("National Broadband Trust Agency", "NBTA", "15", "IN"),
    OrganisationFact("Fjellheim Public Library Authority", "FPLA", "15", "NO"),
    OrganisationFact("Open Classrooms International", "OCI", "21", "GB", "GB-CHC-1190001",
                     arts=True),
    OrganisationFact("Girls Learn Forward", "GLF", "21", "US", "US-EIN-870000001"),
    OrganisationFact("Shule Yetu Trust", "SYT", "22", "KE", "KE-NCB-900001"),
    OrganisationFact("Escola Viva Association", "EVA", "22", "BR"),
    OrganisationFact("Pan-African Learning Circle", "PALC", "23", "GH", "GH-DSW-900001"),
    OrganisationFact("Andean Education Collective", "AEC", "23", "CO"),
    OrganisationFact("Bangla Classrooms Initiative", "BCI", "24", "BD", "BD-NAB-900001"),
    OrganisationFact("Kalinga Reading Corps", "KRC", "24", "PH"),
    OrganisationFact("Connected Schools Partnership", "CSP", "30", "NG"),
    OrganisationFact("Solace Foundation", "SOLF", "60", "SE", "SE-ON-8020000001", arts=True),
    OrganisationFact("Halvorsen Family Foundation", "HFF", "60", "NO", "NO-BRC-900000001"),
    OrganisationFact("Maple Learning Fund", "MLF", "60", "CA", "CA-CRA_ACR-100000001"),
    OrganisationFact("Nile Delta Schools Fund", "NDSF", "60", "EG"),
    OrganisationFact("Brightwave Telecom", "BWT", "70", "GB", "GB-COH-09000001"),
    OrganisationFact("Kilima Mobile", "KIMO", "70", "KE"),
    OrganisationFact("Nimbus Cloud Services", "NCS", "70", "US", "US-EIN-870000002"),
    OrganisationFact("Fjordnet Devices", "FJD", "71", "NO"),
    OrganisationFact("Sakura Learning Devices", "SLD", "71", "JP", "JP-JCN-9000000000001"),
    OrganisationFact("Lagos Edtech Labs", "LEL", "72", "NG"),
    OrganisationFact("Pune Solar Schools", "PSS", "72", "IN"),
    OrganisationFact("Savanna Solar Kiosks", "SSK", "72", "GH"),
    OrganisationFact("Alpine Satellite Systems", "ALSAT", "73", "CH"),
    OrganisationFact("Institute for Learning Recovery Research", "ILRR", "80", "GB",
                     "GB-EDU-900001"),
    OrganisationFact("Centro de Estudios sobre Aprendizaje Remoto", "CEAR", "80", "MX"),
    OrganisationFact("Learning Continuity Volunteers", "LCV", "90", "DE"),
    OrganisationFact("Luzon Learning Hubs", "LLH", "22", "PH"),
    OrganisationFact("Radio Jambo Learning", "RJL", "70", "KE", hub_category=MEDIA),
    OrganisationFact("Daybreak Public Broadcasting", "DPB", "15", "GB", hub_category=MEDIA,
                     arts=True),
    OrganisationFact("Canal Escola TV", "CETV", "72", "BR", hub_category=MEDIA, arts=True),
    OrganisationFact("Global Edtech Alliance", "GEA", "90", "US", hub_category=NETWORK),
    OrganisationFact("Asia-Pacific Connectivity Forum", "APCF", "23", "ID",
                     hub_category=NETWORK),
    OrganisationFact("Youth Voices for Education Network", "YVEN", "21", "EG",
                     hub_category=NETWORK, arts=True),
    OrganisationFact("Theatre Without Walls", "TWW", "22", "ZA", learning=False, arts=True),
    OrganisationFact("Kora Sound Collective", "KSC", "24", "GH", learning=False, arts=True),
    OrganisationFact("Festival of Open Stages", "FOS", "90", "FR", learning=False, arts=True),
    OrganisationFact("Muralists for Schools", "MFS", "22", "MX", learning=False, arts=True),
]  # fmt: skip

HOST = "IECO"
# The organisation whose PARTNER_EDITOR token the command prints: an ACTIVE member.
PARTNER = "BWT"
# Learning-coalition memberships that are not plain ACTIVE members (acronym -> status/role).
APPLIED = {"LLH", "SSK", "NDSF"}
SUSPENDED = {"LEL"}
WITHDRAWN = {"FJD"}
LEADS = {"KIMO": "Connectivity flagship", "OCI": "Teachers flagship", "GLF": "Gender flagship"}
CHAMPIONS = {"SOLF", "MLF", "BWT"}
OBSERVERS = {"WLDF", "ILRR"}
ARTS_APPLIED = {"MFS"}
ARTS_LEADS = {"TWW": "Stages for Learning"}
ARTS_CHAMPIONS = {"SOLF"}
PRINCIPLES = ["learner-data-privacy", "open-content", "do-no-harm"]


@dataclass(frozen=True)
class CoalitionFact:
    slug: str
    name: str
    kind: models.CoalitionKind
    sdg_goals: list[str]
    description: str
    # Days before the seeding day.
    launched_days_ago: int


COALITIONS = [
    CoalitionFact(
        LEARNING,
        "Learning Continuity Coalition",
        models.CoalitionKind.COALITION,
        ["4", "5", "9", "17"],
        "A fictional coalition keeping learners learning when schools close: connectivity, "
        "teachers and girls' return to school.",
        1000,
    ),
    CoalitionFact(
        ARTS,
        "Resilient Arts Movement",
        models.CoalitionKind.MOVEMENT,
        ["4", "11", "17"],
        "A fictional movement of artists, venues and broadcasters bringing theatre, music "
        "and debate to learners in crisis settings.",
        420,
    ),
]


@dataclass(frozen=True)
class WorkstreamFact:
    coalition: str
    name: str
    kind: models.WorkstreamKind
    description: str
    target_metric: str | None = None
    target_value: Decimal | None = None
    target_date: dt.date | None = None


WORKSTREAMS = [
    WorkstreamFact(LEARNING, "Connectivity flagship", models.WorkstreamKind.FLAGSHIP,
                   "Connect learners and schools to affordable, safe internet.",
                   "learners connected", Decimal(1_000_000), dt.date(2027, 12, 31)),
    WorkstreamFact(LEARNING, "Teachers flagship", models.WorkstreamKind.FLAGSHIP,
                   "Train teachers in blended and remote pedagogy.",
                   "teachers trained", Decimal(250_000), dt.date(2027, 12, 31)),
    WorkstreamFact(LEARNING, "Gender flagship", models.WorkstreamKind.FLAGSHIP,
                   "Bring girls back to school after closures.",
                   "girls back in school", Decimal(500_000), dt.date(2028, 6, 30)),
    WorkstreamFact(ARTS, "Stages for Learning", models.WorkstreamKind.ACTION_NETWORK,
                   "Touring performances and workshops in schools and camps.",
                   "performances in schools", Decimal(2_000), dt.date(2027, 6, 30)),
]  # fmt: skip

# US dollars per unit, roughly; each month's published rate wobbles around it.
USD_RATES = {
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "JPY": Decimal("0.0067"),
    "CHF": Decimal("1.12"),
    "SEK": Decimal("0.095"),
    "NOK": Decimal("0.093"),
    "CAD": Decimal("0.73"),
    "KES": Decimal("0.0077"),
    "INR": Decimal("0.012"),
    "BRL": Decimal("0.19"),
}
# Left without a published rate on purpose: its amounts show as unconverted.
UNCONVERTED = "NGN"
APPROXIMATE_RATES = {**USD_RATES, "USD": Decimal(1), UNCONVERTED: Decimal("0.00065")}
CURRENCY_OF_COUNTRY = {
    "GB": "GBP", "FR": "EUR", "DE": "EUR", "CH": "CHF", "SE": "SEK", "NO": "NOK",
    "CA": "CAD", "JP": "JPY", "KE": "KES", "IN": "INR", "BR": "BRL", "NG": UNCONVERTED,
}  # fmt: skip

# Where help goes, with a city for event titles.
RECIPIENTS = {
    "KE": ("Kenya", "Kisumu"), "NG": ("Nigeria", "Kano"), "GH": ("Ghana", "Tamale"),
    "ET": ("Ethiopia", "Hawassa"), "UG": ("Uganda", "Gulu"), "TZ": ("Tanzania", "Dodoma"),
    "ZA": ("South Africa", "Polokwane"), "EG": ("Egypt", "Aswan"), "IN": ("India", "Pune"),
    "BD": ("Bangladesh", "Sylhet"), "PK": ("Pakistan", "Quetta"),
    "PH": ("the Philippines", "Iloilo"), "ID": ("Indonesia", "Kupang"),
    "NP": ("Nepal", "Pokhara"), "BR": ("Brazil", "Recife"), "CO": ("Colombia", "Cúcuta"),
    "MX": ("Mexico", "Oaxaca"), "PE": ("Peru", "Cusco"), "HT": ("Haiti", "Jacmel"),
}  # fmt: skip

FIRST_NAMES = [
    "Amina", "João", "Priya", "Lars", "Keiko", "Chidi", "Sofía", "Tomás", "Wanjiru",
    "Mateo", "Ingrid", "Ravi", "Fatima", "Kofi", "Elena", "Hiro", "Nadia", "Samuel",
]  # fmt: skip
LAST_NAMES = [
    "Odhiambo", "Silva", "Raman", "Nilsen", "Tanaka", "Okafor", "Reyes", "Novak",
    "Mwangi", "Duarte", "Berg", "Iyer", "Haddad", "Mensah", "Costa", "Sato",
]  # fmt: skip

THEMES = {
    "Connectivity flagship": "school connectivity",
    "Teachers flagship": "teacher professional development",
    "Gender flagship": "girls' return to school",
    "Stages for Learning": "touring performances in schools",
    None: "learning continuity",
}
SDG_TARGETS = {
    "Connectivity flagship": ["4.4", "9.c", "17.6"],
    "Teachers flagship": ["4.c", "4.1"],
    "Gender flagship": ["4.5", "5.1", "4.1"],
    "Stages for Learning": ["4.7", "11.4"],
    None: ["4.1", "17.17"],
}
# OECD DAC purpose codes (backend/codes/sectors.json) a workstream's commitments go to.
SECTORS = {
    "Connectivity flagship": ["22040", "11120", "11220"],
    "Teachers flagship": ["11130", "11220", "11320"],
    "Gender flagship": ["11220", "11260", "15170"],
    "Stages for Learning": ["16061", "11231"],
    None: ["11220", "11330", "11110"],
}
# Pass-through money: foundations (IATI type 60) channel some of their cash through a
# multilateral's (40) open cash commitment in the same coalition.
FUNDER_TYPES = {"60"}
CHANNEL_TYPES = {"40"}
FUNDED_THROUGH_SHARE = 0.35
# Deliveries whose learners another partner reports too (co-reported reach), and the
# shares of them each report is credited with.
CO_REPORTED_SHARE = 0.08
CO_REPORTED_SPLITS = [(Decimal(50), Decimal(50)), (Decimal(60), Decimal(40))]
FINANCIAL_TITLES = [
    "Grant for {theme} in {country}",
    "Co-financing of {theme} in {country}",
    "Multi-year support to {theme} in {country}",
    "Emergency fund contribution for {theme} in {country}",
]


@dataclass(frozen=True)
class InKindFact:
    category: models.InKindCategory
    description: str
    unit: str
    # Quantity range, and the fair value of one unit in US dollars (range).
    quantity: tuple[int, int]
    unit_value: tuple[float, float]
    valuation_method: str


_C = models.InKindCategory
IN_KIND = {
    _C.CONNECTIVITY: InKindFact(_C.CONNECTIVITY, "Zero-rated mobile data for learners", "GB",
                                (5_000, 400_000), (0.4, 1.5),
                                "Retail price of the cheapest comparable data bundle"),
    _C.DEVICES: InKindFact(_C.DEVICES, "Refurbished laptops with offline lessons", "device",
                           (100, 12_000), (110, 260),
                           "Refurbishment and shipping cost per device"),
    _C.PLATFORM: InKindFact(_C.PLATFORM, "Seats on the learning management platform", "seat",
                            (1_000, 150_000), (2, 8),
                            "List price of an education seat for one year"),
    _C.EXPERTISE: InKindFact(_C.EXPERTISE, "Engineers for platform localisation",
                             "expert_day", (20, 400), (400, 900),
                             "The partner's standard daily rate for senior staff"),
    _C.MEDIA_AIRTIME: InKindFact(_C.MEDIA_AIRTIME, "Radio airtime for daily lessons",
                                 "airtime_minute", (1_000, 40_000), (2, 15),
                                 "Published rate card for off-peak airtime"),
    _C.TRAINING: InKindFact(_C.TRAINING, "Places on the blended teacher-training course",
                            "seat", (200, 10_000), (30, 120),
                            "Fee per participant of the equivalent paid course"),
    _C.CONTENT: InKindFact(_C.CONTENT, "Licensed digital textbooks", "licence",
                           (1_000, 100_000), (1, 6), "Publisher's list price per licence"),
    _C.LOGISTICS: InKindFact(_C.LOGISTICS, "Shipping of devices to district hubs", "shipment",
                             (5, 200), (500, 3_000), "Freight forwarder's quote per shipment"),
}  # fmt: skip
CATEGORIES = {
    "Connectivity flagship": [_C.CONNECTIVITY, _C.DEVICES, _C.PLATFORM, _C.LOGISTICS],
    "Teachers flagship": [_C.TRAINING, _C.EXPERTISE, _C.CONTENT, _C.PLATFORM],
    "Gender flagship": [_C.CONTENT, _C.MEDIA_AIRTIME, _C.TRAINING, _C.DEVICES],
    "Stages for Learning": [_C.EXPERTISE, _C.MEDIA_AIRTIME, _C.LOGISTICS],
    None: [_C.EXPERTISE, _C.CONTENT, _C.CONNECTIVITY],
}

WITHDRAWAL_REASONS = [
    "Budget reallocated after the partner's annual review.",
    "The export licence for the devices was not granted.",
    "The partner merged the pledge into its national programme.",
]
CANCELLATION_REASONS = [
    "Duplicate of another commitment recorded by the partner.",
    "Not confirmed by the partner within twelve months.",
    "Superseded by a larger joint commitment.",
]
DISPUTE_REASONS = [
    "Quantities do not match the district's inventory.",
    "No evidence yet that the devices reached the schools.",
    "The amount differs from the bank transfer received.",
]
CO_REPORTED_NOTE = "Learners co-reported with {partner}; {share} % credited here."
LATER_TRANCHE_NOTE = "Further tranche of the same transfer."
DELIVERY_NOTES = [
    "First tranche, as agreed in the implementation plan.",
    "Handed over at the district education office.",
    "Second tranche after the mid-term review.",
    None,
]

ACTIVITY_TITLES = {
    LEARNING: {
        models.ActivityKind.EVENT: [
            "Regional convening on school connectivity in {city}",
            "Partner roundtable on {theme}",
            "Webinar: measuring learning recovery in {country}",
        ],
        models.ActivityKind.DEBATE: [
            "Debate: should every school have a right to connectivity?",
            "Debate: devices or teachers first?",
            "Debate: protecting young learners' data",
        ],
        models.ActivityKind.LAUNCH: [
            "Launch of the {workstream} in {country}",
            "Launch of the open teacher-training course",
        ],
        models.ActivityKind.TRAINING: [
            "Training of trainers on blended pedagogy in {city}",
            "Digital safety training for teachers in {country}",
        ],
        models.ActivityKind.REPORT: [
            "Progress report on {theme}",
            "Evidence review: learning continuity in crisis settings",
            "Gender gap in school return rates in {country}",
        ],
        models.ActivityKind.NEWS: [
            "New partners pledge support to the {workstream}",
            "Schools in {city} are back online",
        ],
    },
    ARTS: {
        models.ActivityKind.DEBATE: [
            "Debate: art as a lifeline for displaced learners",
            "Debate: who pays artists who work in schools?",
            "Town hall on creative education after the crisis in {city}",
        ],
        models.ActivityKind.EVENT: [
            "Pop-up theatre for schools in {city}",
            "Open-stage festival for learners in {country}",
            "Street mural day with students in {city}",
        ],
        models.ActivityKind.LAUNCH: ["Launch of the movement's manifesto in {city}"],
        models.ActivityKind.NEWS: ["Touring artists reach schools in {country}"],
    },
}
# Activities per coalition at scale 1, by kind.
ACTIVITY_MIX = {
    LEARNING: {
        models.ActivityKind.EVENT: 8,
        models.ActivityKind.DEBATE: 4,
        models.ActivityKind.LAUNCH: 4,
        models.ActivityKind.TRAINING: 6,
        models.ActivityKind.REPORT: 4,
        models.ActivityKind.NEWS: 4,
    },
    ARTS: {
        models.ActivityKind.DEBATE: 8,
        models.ActivityKind.EVENT: 8,
        models.ActivityKind.LAUNCH: 1,
        models.ActivityKind.NEWS: 3,
    },
}
# Commitments per coalition at scale 1, by final stage.
STAGE_MIX = {
    LEARNING: {
        models.Stage.PLEDGED: 45,
        models.Stage.COMMITTED: 30,
        models.Stage.IN_DELIVERY: 30,
        models.Stage.FULFILLED: 20,
        models.Stage.WITHDRAWN: 12,
        models.Stage.CANCELLED: 13,
    },
    ARTS: {
        models.Stage.PLEDGED: 3,
        models.Stage.COMMITTED: 2,
        models.Stage.IN_DELIVERY: 2,
        models.Stage.FULFILLED: 2,
        models.Stage.CANCELLED: 1,
    },
}
