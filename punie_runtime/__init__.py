"""punie_runtime: load, convert and run the model (mlx on the fast CPU path); no tools inside."""
