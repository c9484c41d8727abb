"""Journey orchestration: durable, trigger-based automation per person."""
