"""The virtual clinic: clinical tests (OGTT, clamp, IVGTT, fasting) on a virtual subject.

Protocols are data files in ``protocols/``; ``run_protocol`` runs one on a
subject as it is on a given day of a scenario and returns the samples and the
clinical indices.
"""
