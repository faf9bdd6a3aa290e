"""Dead letters: list, inspect and re-drive them (`python -m ops.dlq list|show|redrive`)."""
