"""Insale's rules as plain functions: no Kafka, no SQL, no clock of their own."""
