-- The end (exclusive) of the days $asset has computed.
SELECT max(end_day) FROM meta.refreshes WHERE asset = $asset
