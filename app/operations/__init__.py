"""What an operator runs beside the requests: readiness checks, metrics, and the
housekeeping that prunes old rows."""
