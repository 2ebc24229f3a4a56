"""`gankit bench`: quality suites (quality.py) and training speed against a plain loop (speed.py).

Kept apart from the core: the speed benchmark holds a second, hand-written training loop as its reference.
"""
