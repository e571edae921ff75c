"""The body clock: circadian rhythms of insulin action, beta-cell response and liver output (model 0.2, issue 10).

The clock is an oscillator (c, s) = (cos, sin) of the body's circadian angle,
measured from the morning peak of glucose tolerance (h_S). It runs at one turn
a day and is entrained to the light-dark cycle, shifted by the routine's clock
shift d_clock (a body clock set later, as in adapted night work or jet lag),
at the rate k_ent, so a new shift is taken up over days:

    x = 2*pi*(t/60 - h_S - d_clock)/24                                (target angle)
    dc/dt = -w*s + k_ent*(cos x - c),   ds/dt = w*c + k_ent*(sin x - s)

Insulin sensitivity and beta-cell responsiveness peak in the biological morning
and are lowest in the biological evening and night (Morris 2015, 2016); liver
output peaks towards dawn (h_H):

    f_S = 1 + A_S*c,   f_B = 1 + A_B*c,   f_H = 1 + A_H*(c*cos D + s*sin D),   D = 2*pi*(h_H - h_S)/24

Circadian misalignment m (0 aligned .. 1 sleeping 12 h out of phase with the
clock, a driver) lowers insulin sensitivity by the factor (1 - c_mis*m)
(Scheer 2009; Morris 2016: misalignment acts through insulin action).
"""

import math

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import HOURS_PER_DAY, MINUTES_PER_DAY, MINUTES_PER_HOUR

_TURN = 2.0 * math.pi
_ANGULAR_RATE = _TURN / MINUTES_PER_DAY
"""One turn a day, rad/min."""


@kernel
def clock_derivatives(t, y, drv, p, dydt):
    """Write d/dt of the clock oscillator (per minute)."""
    hours = t / MINUTES_PER_HOUR - p[Par.circadian_tolerance_peak_h] - drv[Drv.clock_shift_h]
    angle = _TURN * hours / HOURS_PER_DAY
    c = y[St.clock_cos]
    s = y[St.clock_sin]
    k = p[Par.circadian_entrainment_rate] / MINUTES_PER_DAY
    dydt[St.clock_cos] = -_ANGULAR_RATE * s + k * (math.cos(angle) - c)
    dydt[St.clock_sin] = _ANGULAR_RATE * c + k * (math.sin(angle) - s)


@kernel
def sensitivity_factor(y, drv, p):
    """Circadian and misalignment factor on insulin sensitivity (liver, muscle, adipose)."""
    misaligned = 1.0 - p[Par.misalignment_sensitivity_loss] * drv[Drv.circadian_misalignment]
    return (1.0 + p[Par.circadian_sensitivity_amplitude] * y[St.clock_cos]) * misaligned


@kernel
def secretion_factor(y, p):
    """Circadian factor on beta-cell responsiveness."""
    return 1.0 + p[Par.circadian_secretion_amplitude] * y[St.clock_cos]


@kernel
def liver_factor(y, p):
    """Circadian factor on the liver's extrapolated output (dawn rise)."""
    offset = _TURN * (p[Par.circadian_liver_peak_h] - p[Par.circadian_tolerance_peak_h]) / HOURS_PER_DAY
    phase = y[St.clock_cos] * math.cos(offset) + y[St.clock_sin] * math.sin(offset)
    return 1.0 + p[Par.circadian_liver_amplitude] * phase
