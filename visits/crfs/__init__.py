"""Case report forms, one module per instrument.

Each module starts as pure scoring (typed functions and frozen dataclasses, no
ORM); the Django model and form for the instrument are added beside it later.
"""
