"""Pure business logic: no Dagster imports."""
