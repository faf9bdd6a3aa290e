"""Operational commands: Kubernetes topic manifests, event contracts, dead letters.

Apps, not a library: services never import `ops` (ops may read the services' wiring).
"""
