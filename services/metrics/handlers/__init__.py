"""Metrics' consume path and background jobs, one module per flow.

`ingest` is the consume path (`FactIngest`: a whole batch in one transaction); `facts` turns
each consumed event into its fact rows, `questions` the classified buyer messages and
presale's hand-offs, `inspection` an agent's reply into what the quality rules find in it;
`projection` recomputes, with the pure functions of `domain/`, what new facts touched;
`snapshots` publishes `cs.kpi.snapshot.v1`; `gauges` refreshes the waiting-buyer gauges.
"""
