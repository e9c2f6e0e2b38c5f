"""The `governance` code location: the scorecard product and the sensors watching every location."""

from dagmesh.domain import domain_definitions
from dagmesh.governance import scorecard
from dagmesh.governance.sensors import GOVERNANCE_SENSORS

defs = domain_definitions("governance", [scorecard.scorecard], sensors=GOVERNANCE_SENSORS)
