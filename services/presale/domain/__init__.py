"""Presale's pure logic: understanding buyer messages and routing to humans. No I/O here."""
