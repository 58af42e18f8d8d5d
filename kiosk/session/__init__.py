"""The citizen's session: everything about the person at the kiosk, and nothing after.

state.py        the ``Session`` state machine, its idle timeout and its wipe
ratings.py      satisfaction ratings, stored without who gave them
"""
