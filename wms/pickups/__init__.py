"""The pickup counter: find a customer's pickup order and hand it over, declined units back to stock."""
