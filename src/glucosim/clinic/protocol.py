"""Protocol files (re-exported): the schema lives in ``glucosim.scenario.protocol``.

Protocols are input files like scenarios, so they are read in the scenario
layer, which checks a scenario's scheduled visits without importing the clinic.
"""

from glucosim.scenario.protocol import (
    PROTOCOL_DIR,
    Action,
    GlucoseClamp,
    LoadedProtocol,
    Protocol,
    available_protocols,
    load_protocol,
)

__all__ = [
    "PROTOCOL_DIR",
    "Action",
    "GlucoseClamp",
    "LoadedProtocol",
    "Protocol",
    "available_protocols",
    "load_protocol",
]
