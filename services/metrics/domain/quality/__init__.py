"""Quality inspection (质检) of agent replies: the rule engine, its detectors, the score. Pure."""
