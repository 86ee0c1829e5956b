"""punie_train: train, evaluate and run a small local model on punie-tools tool calls."""
