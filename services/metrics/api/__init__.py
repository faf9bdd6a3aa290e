"""Metrics' HTTP API: the KPI routes (`kpis`), 催付 recovery (`reminders`), quality
inspection (`quality`), refund reasons, weekly insights, and the dashboard (`dashboard`,
`static/`). Authentication comes from `shared.http_auth` only."""
