-- The shop's daily KPIs per segment.
SELECT day, segment, active_customers, orders, revenue, units, returned_units, repeat_orders
FROM marts.daily_kpis
ORDER BY day, segment
