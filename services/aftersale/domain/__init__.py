"""Pure after-sale logic: facts, rules, policy, buyer risk, deadlines and texts (no I/O)."""
