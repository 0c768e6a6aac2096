"""Adapters for the external sources the checks consult: SQL lookups and Haal Centraal."""
