"""Small building blocks every domain uses: ids, clocks and domain errors."""
