"""Clients for the external sources (bronnen) that the checks consult."""
