"""Where and when: place names of the area (names.py), distances (distance.py) and opening
hours, shifts and Huế time (hours.py), for the directory, the roster, the NLU and escalation.
Imports nothing of bot but bot/vietnamese.py, so the NLU can use it without a cycle."""
