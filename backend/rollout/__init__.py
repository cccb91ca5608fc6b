"""The rollout autopilot: `python -m backend.rollout` moves the websocket-transport flag through the stages
of `deploy/rollout-plan.yaml` on Prometheus evidence, rolls back on its own and pauses when it cannot tell.

`plan` validates the plan file, `engine` holds the rules (pure), `analysis` queries Prometheus, `store`
persists the state and holds the locks, `runner` is the loop and `__main__` the commands; docs/rollout.md
is the operator's guide.
"""
