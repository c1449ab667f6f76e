"""The evidence layer: typed points and accumulators over measurement records, and the one rule
for each derived figure (SLO breach, capacity, error accounting, power at a load level).

Pure: no I/O, no Textual, no HTTP. Records come in as the session journal's dicts; the live app,
`qtui bench`, `qtui replay` and `qtui report` all read their figures from here (qtui.decision
prices and judges them). Import the modules themselves (`qtui.evidence.capacity`, ...).
"""
