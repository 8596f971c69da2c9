"""The working-day calendar: national days off and make-up working days, regional days,
and the deadline arithmetic in half-day service sessions (see ``workdays.py``)."""
