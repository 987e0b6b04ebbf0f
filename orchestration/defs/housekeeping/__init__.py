"""Housekeeping: the optimizer cache purge and the retention rules, as jobs on schedules."""
