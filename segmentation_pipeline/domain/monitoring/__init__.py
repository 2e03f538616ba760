"""Monitoring: daily shop KPIs watched for days out of line."""
