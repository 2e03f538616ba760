"""DuckDB SQL for the warehouse."""
