"""Commerce: catalogue, locations, stock, carts, orders and fulfilment."""
