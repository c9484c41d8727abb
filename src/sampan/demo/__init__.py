"""Generate realistic Thai omnichannel demo data and load it through the tracking API."""
