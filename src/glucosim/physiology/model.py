"""The organ model: composes the compartments into fluxes and one right-hand side.

``rhs(t, y, drv, p, dydt)`` is the contract the solver integrates: ``y`` the
state (``indices.St``), ``drv`` the segment's drivers (``indices.Drv``), ``p``
the parameter vector (``indices.Par``). ``fluxes`` returns the same
intermediate quantities for analysis, so every flux has one definition.
"""

import numpy as np

from glucosim.physiology import (
    adipose,
    beta_cells,
    body,
    brain,
    clock,
    ectopic_fat,
    exercise,
    glucagon,
    glycogen,
    gut,
    insulin,
    kidney,
    liver,
    muscle,
)
from glucosim.physiology._jit import array_kernel, inlined_kernel, kernel
from glucosim.physiology.glucose import glucose_derivatives, plasma_glucose_mg_dl
from glucosim.physiology.indices import FLUX_NAMES as FLUX_NAMES  # re-exported: callers read the columns here
from glucosim.physiology.indices import N_FLUXES, Drv, Flux, Par, St
from glucosim.physiology.sensitivity import acute_sensitivities, chronic_sensitivities, drift_derivatives
from glucosim.physiology.units import MINUTES_PER_DAY


@inlined_kernel
def _core_fluxes(y, drv, p):
    """Fluxes shared by rhs and analysis (mg/kg/min unless named otherwise)."""
    c_liver, c_muscle, c_adipose = chronic_sensitivities(y, p)
    s_liver, s_muscle, s_adipose = acute_sensitivities(y, drv, p, c_liver, c_muscle, c_adipose)
    rhythm = clock.sensitivity_factor(y, drv, p)
    s_liver, s_muscle, s_adipose = s_liver * rhythm, s_muscle * rhythm, s_adipose * rhythm
    nefa = adipose.nefa_ratio(y, p)
    liver_output, gng_released, glycogenolysis, gng_stored = liver.liver_output_sources(
        y, p, s_liver, nefa, drv[Drv.cortisol_rel]
    )
    appearance = gut.rate_of_appearance(y, p)
    brain_uptake = brain.brain_uptake(y, p)
    renal = kidney.renal_excretion(y, p)
    # DM2007's insulin-stimulated tissue uptake holds the liver's; its share is booked to the liver (glycogen.py)
    liver_uptake = glycogen.hepatic_glucose_uptake(y, p, s_muscle, nefa)
    muscle_uptake = (
        muscle.muscle_insulin_uptake(y, p, s_muscle, nefa) + muscle.muscle_exercise_uptake(y, p) - liver_uptake
    )
    adipose_uptake = adipose.adipose_glucose_uptake(y, p, s_adipose)
    # DM2007's tissue uptake also holds the splanchnic bed's basal uptake; its share is booked apart (muscle.py)
    splanchnic_uptake = muscle.splanchnic_uptake(y, p)
    return (
        liver_output,
        appearance,
        brain_uptake,
        renal,
        muscle_uptake,
        adipose_uptake,
        s_liver,
        s_muscle,
        s_adipose,
        c_liver,
        c_muscle,
        c_adipose,
        gng_released + gng_stored,
        glycogenolysis,
        gng_stored,
        liver_uptake,
        splanchnic_uptake,
    )


@kernel
def capacity_without_gut(y, drv, p):
    """The beta cells' secretory capacity apart from the gut's factor (gut.secretion_potentiation): mass x function x
    sleep brake (beta_cells.secretion_capacity) x the body clock's factor. ``rhs`` multiplies it by the gut's factor;
    clinic.incretin's isoglycaemic infusion uses it alone."""
    return beta_cells.secretion_capacity(y, drv, p) * clock.secretion_factor(y, p)


@kernel
def rhs(t, y, drv, p, dydt):
    """Write dy/dt (per minute) of every state. ``t`` in minutes (the model is autonomous within a segment)."""
    slow_on = drv[Drv.slow_dynamics_on]
    (
        liver_output,
        appearance,
        brain_uptake,
        renal,
        muscle_uptake,
        adipose_uptake,
        s_liver,
        s_muscle,
        s_adipose,
        c_liver,
        _,
        _,
        _,
        glycogenolysis,
        gng_stored,
        liver_uptake,
        splanchnic_uptake,
    ) = _core_fluxes(y, drv, p)
    gut.gut_derivatives(y, p, dydt)
    d_glucose = glucose_derivatives(
        y,
        p,
        liver_output,
        appearance,
        drv[Drv.iv_glucose_mg_kg_min],
        brain_uptake,
        renal,
        muscle_uptake + liver_uptake + adipose_uptake + splanchnic_uptake,
        dydt,
    )
    glucose = plasma_glucose_mg_dl(y, p)
    capacity = capacity_without_gut(y, drv, p) * gut.secretion_potentiation(y, p, glucose)
    incretin = gut.carbohydrate_incretin_potentiation(y, p, glucose)
    beta_cells.beta_fast_derivatives(y, p, glucose, d_glucose, capacity, incretin, dydt)
    secretion = beta_cells.secretion_to_liver(y, p)
    insulin.insulin_derivatives(y, p, secretion, drv[Drv.iv_insulin_pmol_kg_min], dydt)
    adipose.nefa_derivative(y, p, s_adipose, dydt)
    plasma_insulin = insulin.plasma_insulin_pmol_l(y, p)
    glucagon.glucagon_derivative(y, drv, p, glucose, plasma_insulin, dydt)
    glycogen.glycogen_derivative(y, p, glycogenolysis, gng_stored, appearance, liver_uptake, c_liver, dydt)
    exercise.exercise_derivatives(y, drv, p, slow_on, dydt)
    clock.clock_derivatives(t, y, drv, p, dydt)

    # running means drive the slow processes; they run even when slow dynamics are frozen
    filter_time = p[Par.chronic_filter_time] * MINUTES_PER_DAY
    dydt[St.glucose_mean_mg_dl] = (glucose - y[St.glucose_mean_mg_dl]) / filter_time
    dydt[St.insulin_mean_pmol_l] = (plasma_insulin - y[St.insulin_mean_pmol_l]) / filter_time
    beta_cells.beta_slow_derivatives(y, p, slow_on, dydt)
    drift_derivatives(drv, slow_on, dydt)
    # body composition and liver fat share one energy imbalance, which shares the glucose balance's excretion
    imbalance = body.energy_imbalance_from_excretion(y, drv, p, renal)
    body.body_derivatives_from_imbalance(y, drv, p, slow_on, imbalance, dydt)
    ectopic_fat.liver_fat_derivative_from_imbalance(y, drv, p, slow_on, imbalance, dydt)

    # the daily table books the liver's net balance: output less its own uptake (booked out of muscle's share)
    dydt[St.cum_liver_output_mg_kg] = liver_output - liver_uptake
    dydt[St.cum_gut_appearance_mg_kg] = appearance
    dydt[St.cum_muscle_uptake_mg_kg] = muscle_uptake
    dydt[St.cum_adipose_uptake_mg_kg] = adipose_uptake
    dydt[St.cum_brain_uptake_mg_kg] = brain_uptake
    dydt[St.cum_splanchnic_uptake_mg_kg] = splanchnic_uptake
    dydt[St.cum_renal_excretion_mg_kg] = renal
    dydt[St.cum_glucose_mg_dl_min] = glucose
    dydt[St.cum_insulin_pmol_l_min] = plasma_insulin
    dydt[St.cum_secretion_pmol_kg] = secretion


@array_kernel
def evaluate_fluxes(y_grid, drv_grid, p):
    """Fluxes (columns ``indices.Flux``) at each row of a state grid with matching driver rows."""
    n = y_grid.shape[0]
    out = np.empty((n, N_FLUXES))
    for i in range(n):
        y = y_grid[i]
        drv = drv_grid[i]
        (
            liver_output,
            appearance,
            brain_uptake,
            renal,
            muscle_uptake,
            adipose_uptake,
            s_liver,
            s_muscle,
            s_adipose,
            c_liver,
            c_muscle,
            c_adipose,
            gluconeogenesis,
            glycogenolysis,
            _,
            liver_uptake,
            splanchnic_uptake,
        ) = _core_fluxes(y, drv, p)
        out[i, Flux.glucose_mg_dl] = plasma_glucose_mg_dl(y, p)
        out[i, Flux.insulin_pmol_l] = insulin.plasma_insulin_pmol_l(y, p)
        out[i, Flux.liver_output_mg_kg_min] = liver_output
        out[i, Flux.gut_appearance_mg_kg_min] = appearance
        out[i, Flux.muscle_uptake_mg_kg_min] = muscle_uptake
        out[i, Flux.adipose_uptake_mg_kg_min] = adipose_uptake
        out[i, Flux.brain_uptake_mg_kg_min] = brain_uptake
        out[i, Flux.renal_excretion_mg_kg_min] = renal
        out[i, Flux.secretion_pmol_kg_min] = beta_cells.secretion_to_liver(y, p)
        out[i, Flux.sensitivity_liver_rel] = s_liver
        out[i, Flux.sensitivity_muscle_rel] = s_muscle
        out[i, Flux.sensitivity_adipose_rel] = s_adipose
        out[i, Flux.chronic_sensitivity_liver_rel] = c_liver
        out[i, Flux.chronic_sensitivity_muscle_rel] = c_muscle
        out[i, Flux.chronic_sensitivity_adipose_rel] = c_adipose
        out[i, Flux.gluconeogenesis_mg_kg_min] = gluconeogenesis
        out[i, Flux.glycogenolysis_mg_kg_min] = glycogenolysis
        out[i, Flux.liver_uptake_mg_kg_min] = liver_uptake
        out[i, Flux.splanchnic_uptake_mg_kg_min] = splanchnic_uptake
    return out
