-- Each product's usual unit price before $cutoff: the price a recommendation is valued at.
SELECT product_id, product_usual_price AS price FROM product_counts($cutoff)
