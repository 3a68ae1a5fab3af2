"""Periodic jobs that act on cases through the case engine."""
