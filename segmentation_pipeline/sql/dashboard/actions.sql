-- Customers per segment and next best action.
SELECT segment, action, customers FROM recommend.action_counts ORDER BY segment, customers DESC, action
