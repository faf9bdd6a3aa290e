"""KPI maths as plain Python: no Kafka, no SQL. Every rule of KPIS.md lives here."""
