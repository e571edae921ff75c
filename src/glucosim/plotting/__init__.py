"""Figures drawn from results (matplotlib is imported only here and in ``glucosim.figures``).

One module per figure: ``progression`` (the dashboard ``glucosim run`` writes),
``day`` (24-h CGM-like profile), ``disposal`` (glucose by tissue over a day),
``clinic`` (OGTT visits), ``disposition`` (the disposition-index hyperbola),
``comparison`` (several runs on shared axes); ``style`` holds the palette and
defaults, ``notebook`` the helpers of the course notebooks. Named figures for
the command line and the gallery are registered in ``glucosim.figures``.
"""
