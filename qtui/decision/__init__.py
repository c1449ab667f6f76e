"""The decision: each precision judged go or no-go by one rule, and the one recommendation.

Pure. ``decide(evidence, whatif)`` prices the evidence (qtui.cost) and judges it; the live app,
a replay, `qtui bench` and `qtui report` all call it, so they state the same decision.
"""

from qtui.decision.core import Judgement, Outcome, decide

__all__ = ["Judgement", "Outcome", "decide"]
