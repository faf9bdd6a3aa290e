"""Event contracts for subscribers: JSON Schemas, the AsyncAPI 3 document, the catalog, and
the backward-compatibility check (`python -m ops.contracts generate|check`)."""
