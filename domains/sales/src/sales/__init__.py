"""The sales domain: customers, orders and line items from the order-to-cash system, and sales results."""
