-- Replace the lists of the customers in `changed_customers` with those in `updated_lists`.
DELETE FROM recommend.lists WHERE customer_id IN (SELECT customer_id FROM changed_customers);
INSERT INTO recommend.lists BY NAME SELECT * FROM updated_lists;
