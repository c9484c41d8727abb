"""Analytics: figures across domains for the console's dashboard."""
