"""The backend benchmark behind `make bench`: see python -m dlwp_utils.bench --help."""
