"""Transfers: stock sent from one location to another, with an in-transit state (docs/api.md, "Store endpoints")."""
