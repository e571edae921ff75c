"""Analysis: what is read off finished runs and sweeps (the sweep tables, the DPP and cohort analyses, figures).

The clinical markers and the daily table are the simulation's own (``glucosim.simulation.markers``, ``.daily``)."""
