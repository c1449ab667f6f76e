"""qtui's built-in vLLM-compatible simulator: physics (pure), engine (pure), server, launcher.

Public API: :func:`qtui.sim.launcher.start_sim`, :class:`qtui.sim.launcher.SimProcess`,
:func:`qtui.sim.physics.make_plan`, :class:`qtui.sim.engine.Engine`.
"""
