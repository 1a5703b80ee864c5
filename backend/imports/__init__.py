"""CSV imports for a secretariat moving off spreadsheets: organisations, commitments and
deliveries in the formats the exports write, and exchange rates.

Every row is checked with the services' own rules and every bad row is reported with its
line; nothing is written unless every row is valid (one transaction per file); a re-import
creates nothing. Writes go through backend.services only, acting as the secretariat.
"""

from backend.imports import commitments, deliveries, organisations, rates
from backend.imports.outcome import Outcome, Problem
from backend.imports.runner import Progress

__all__ = ["Outcome", "Problem", "Progress", "commitments", "deliveries", "organisations", "rates"]
