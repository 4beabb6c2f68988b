"""Operating the desk: structured request logs with a request id, and Prometheus metrics."""
