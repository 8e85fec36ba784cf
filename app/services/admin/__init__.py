"""What administrators do to other accounts."""
