"""The platform simulator (`seawall simulate`) and the exposure benchmark (`seawall bench exposure`):
realistic traffic with ground truth, replayed through Seawall and through the 2015 way of working.
See docs/simulator.md and docs/exposure.md."""

from seawall.simulate.params import SimParams
from seawall.simulate.platform import Simulation, simulate

__all__ = ["SimParams", "Simulation", "simulate"]
