"""The plan language shared by the planner, which writes plans, and the runtime, which runs them: the typed
expression IR, the plan nodes and the row-pattern syntax of MATCH_RECOGNIZE."""
